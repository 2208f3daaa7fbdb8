from django.db import migrations

from helpdesk.tenancy import same_tenant_foreign_key


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0001_initial")]

    operations = [
        same_tenant_foreign_key("helpdesk", "Membership", "organization"),
        same_tenant_foreign_key("helpdesk", "ApiToken", "membership"),
    ]
