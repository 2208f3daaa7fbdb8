from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "channels.chat"
    label = "helpdesk_chat"
    verbose_name = "Live chat"
    default_auto_field = "django.db.models.BigAutoField"
