from django.db import migrations

from helpdesk.tenancy import same_tenant_foreign_key


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]

    operations = [
        same_tenant_foreign_key("sla", "OpeningInterval", "calendar"),
        same_tenant_foreign_key("sla", "Holiday", "calendar"),
        same_tenant_foreign_key("sla", "PackageSeverity", "package"),
        same_tenant_foreign_key("sla", "PackageSeverity", "severity"),
        same_tenant_foreign_key("sla", "Contract", "organization"),
        same_tenant_foreign_key("sla", "Contract", "package"),
        same_tenant_foreign_key("sla", "SLAPolicy", "default_package"),
        same_tenant_foreign_key("sla", "SLATarget", "package"),
        same_tenant_foreign_key("sla", "SLATarget", "severity"),
        same_tenant_foreign_key("sla", "SLATarget", "calendar"),
        same_tenant_foreign_key("sla", "SLATarget", "condition_calendar"),
        same_tenant_foreign_key("sla", "SLAClock", "ticket"),
        same_tenant_foreign_key("sla", "SLAClock", "target"),
        same_tenant_foreign_key("sla", "SLAClock", "calendar"),
        same_tenant_foreign_key("sla", "SLAClockPause", "clock"),
    ]
