from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from helpdesk.demo import DEMO_PASSWORD, DEMO_TENANTS, demo_load_tenant, demo_logins


class Command(BaseCommand):
    help = "Create (or refresh) the five demo tenants and print their addresses and logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", default="8000")

    def handle(self, *args: Any, **opts: Any) -> None:
        base = settings.HELPDESK_BASE_DOMAIN
        self.stdout.write(f"Demo tenants (password for every login: {DEMO_PASSWORD})")
        for spec in DEMO_TENANTS:
            demo_load_tenant(spec)
            logins = demo_logins(spec)
            self.stdout.write(f"  http://{spec.slug}.{base}:{opts['port']}/  {spec.name}")
            self.stdout.write(
                f"      admin {logins['admin']} · agent {logins['agent']} · "
                f"customer {logins['owner']}"
            )
