from django.apps import AppConfig


class PhoneConfig(AppConfig):
    name = "channels.phone"
    label = "helpdesk_phone"
    verbose_name = "Phone"
    default_auto_field = "django.db.models.BigAutoField"
