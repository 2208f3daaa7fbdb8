from django.db import migrations

from helpdesk.tenancy import same_tenant_foreign_key


class Migration(migrations.Migration):
    dependencies = [("helpdesk_phone", "0001_phone_codes")]

    operations = [same_tenant_foreign_key("helpdesk_phone", "PhoneCode", "membership")]
