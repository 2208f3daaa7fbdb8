from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from helpdesk.models import Tenant
from helpdesk.services import tenant_delete


class Command(BaseCommand):
    help = "Delete a tenant and everything it owns (tickets, catalogs, contracts, files)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument(
            "--yes", action="store_true", help="Confirm: without it nothing is deleted."
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        tenant = Tenant.objects.filter(slug=opts["slug"]).first()
        if tenant is None:
            raise CommandError(f"No tenant '{opts['slug']}'.")
        if not opts["yes"]:
            raise CommandError(f"This deletes '{tenant.slug}' and all its data: add --yes.")
        tenant_delete(tenant=tenant)
        self.stdout.write(f"Deleted tenant {opts['slug']}.")
