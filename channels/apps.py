from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    # Our own app: the ways a ticket arrives or a reply leaves. (Never install the Django
    # Channels library: its import name is the same.)
    name = "channels"
    label = "helpdesk_channels"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Ticket events (created, updated, message created) become signed webhooks after
        # commit; the tickets app publishes them through its outbox and knows nothing of us.
        from tickets import outbox

        from .email.outbound import ticket_event_to_mail
        from .webhooks.subscribers import ticket_event_to_webhooks

        outbox.subscribe(ticket_event_to_webhooks)
        # Public replies (and the acknowledgement of a ticket opened by email) become mail.
        outbox.subscribe(ticket_event_to_mail)

        from helpdesk import configcache

        from .webhooks.models import WebhookSubscription

        # Each event reads the tenant's subscriptions (helpdesk.configcache).
        configcache.watch(WebhookSubscription)
