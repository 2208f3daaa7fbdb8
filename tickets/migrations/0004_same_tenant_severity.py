from django.db import migrations

from helpdesk.tenancy import same_tenant_foreign_key


class Migration(migrations.Migration):
    dependencies = [("tickets", "0003_ticket_sla_fields"), ("sla", "0002_same_tenant_foreign_keys")]

    operations = [same_tenant_foreign_key("tickets", "Ticket", "severity")]
