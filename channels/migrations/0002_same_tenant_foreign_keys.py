from django.db import migrations

from helpdesk.tenancy import same_tenant_foreign_key


class Migration(migrations.Migration):
    dependencies = [("helpdesk_channels", "0001_initial")]

    operations = [
        same_tenant_foreign_key("helpdesk_channels", "Notification", "recipient"),
        same_tenant_foreign_key("helpdesk_channels", "Notification", "ticket"),
        same_tenant_foreign_key("helpdesk_channels", "NotificationDelivery", "membership"),
        same_tenant_foreign_key("helpdesk_channels", "NotificationDelivery", "ticket"),
        same_tenant_foreign_key("helpdesk_channels", "WebhookDelivery", "subscription"),
    ]
