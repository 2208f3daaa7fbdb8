from django.db import migrations

from helpdesk.tenancy import same_tenant_foreign_key


class Migration(migrations.Migration):
    dependencies = [("helpdesk_chat", "0001_chat_sessions")]

    operations = [
        same_tenant_foreign_key("helpdesk_chat", "ChatSession", "customer"),
        same_tenant_foreign_key("helpdesk_chat", "ChatSession", "organization"),
        same_tenant_foreign_key("helpdesk_chat", "ChatSession", "agent"),
        same_tenant_foreign_key("helpdesk_chat", "ChatSession", "ticket"),
        same_tenant_foreign_key("helpdesk_chat", "ChatMessage", "session"),
    ]
