from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = "SLA"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # An emergency ticket (emergency form, or an incident out of hours) pages every on-call
        # agent at once, after the ticket's transaction commits.
        from helpdesk import configcache
        from tickets import outbox

        from . import models as m
        from .escalation.subscribers import ticket_event_to_paging

        outbox.subscribe(ticket_event_to_paging)
        # What coverage and the clocks read on every ticket (helpdesk.configcache).
        configcache.watch(
            m.Severity,
            m.SupportPackage,
            m.PackageSeverity,
            m.Contract,
            m.SLAPolicy,
            m.SLATarget,
            m.BusinessCalendar,
            m.OpeningInterval,
            m.Holiday,
        )
