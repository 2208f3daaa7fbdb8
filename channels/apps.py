from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    # Our own app: the ways a ticket arrives or a reply leaves. (Never install the Django
    # Channels library: its import name is the same.)
    name = "channels"
    label = "helpdesk_channels"
    default_auto_field = "django.db.models.BigAutoField"
