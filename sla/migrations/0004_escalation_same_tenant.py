from django.db import migrations

from helpdesk.tenancy import same_tenant_foreign_key


class Migration(migrations.Migration):
    dependencies = [("sla", "0003_escalation")]

    operations = [
        same_tenant_foreign_key("sla", "Escalation", "ticket"),
        same_tenant_foreign_key("sla", "Escalation", "clock"),
        same_tenant_foreign_key("sla", "Escalation", "raised_by"),
        same_tenant_foreign_key("sla", "OnCallEntry", "membership"),
        same_tenant_foreign_key("sla", "EmergencyPage", "ticket"),
        same_tenant_foreign_key("sla", "EmergencyPage", "acknowledged_by"),
        same_tenant_foreign_key("sla", "EmergencyPage", "downgraded_by"),
    ]
