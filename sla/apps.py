from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = "SLA"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # An emergency ticket (emergency form, or an incident out of hours) pages every on-call
        # agent at once, after the ticket's transaction commits.
        from tickets import outbox

        from .escalation.subscribers import ticket_event_to_paging

        outbox.subscribe(ticket_event_to_paging)
