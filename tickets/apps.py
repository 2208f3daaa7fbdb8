from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import pre_delete


def allow_tenant_purge(sender: Any, instance: Any, using: str, **kwargs: Any) -> None:
    """Before Django cascades a tenant's deletion, tell the append-only trigger of ticket
    events (migration 0007) that this tenant's events may go. ``set_config(..., true)`` lasts
    until the end of the transaction that Django's deletion runs in, and no longer.

    Infrastructure, not domain flow: it grants the cascade the one permission it needs."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('helpdesk.purge_tenants', "
            "coalesce(current_setting('helpdesk.purge_tenants', true), '') || ',' || %s, true)",
            [str(instance.pk)],
        )


class TicketsConfig(AppConfig):
    name = "tickets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from helpdesk import configcache

        from . import models as m

        pre_delete.connect(
            allow_tenant_purge, sender="helpdesk.Tenant", dispatch_uid="tickets_purge_tenant"
        )
        # The catalogs, routing and teams a new ticket reads (helpdesk.configcache); a team's
        # round-robin pointer moves with every assignment and is read under a lock instead.
        configcache.watch(
            m.Priority,
            m.TicketType,
            m.BusinessImpact,
            m.ProductArea,
            m.CustomField,
            m.CustomFieldTicketType,
            m.PriorityMatrixEntry,
            m.RoutingRule,
        )
        configcache.watch(m.Team, volatile=["last_assigned"])
