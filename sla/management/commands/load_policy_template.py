from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from helpdesk.models import Tenant
from sla.policies import TEMPLATES, available_templates


class Command(BaseCommand):
    help = (
        "Load a policy template (calendars, severities, packages, targets, SLA policy) into a "
        "tenant. Loading the same template again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("template", help="one of: " + ", ".join(available_templates()))
        parser.add_argument("--tenant", required=True, help="the tenant's slug")

    def handle(self, *args: Any, **opts: Any) -> None:
        name = opts["template"]
        if name not in TEMPLATES:
            raise CommandError(
                f"Unknown template '{name}'. Available templates: "
                + ", ".join(available_templates())
            )
        tenant = Tenant.objects.filter(slug=opts["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant '{opts['tenant']}'.")
        try:
            loaded = TEMPLATES[name].load(tenant)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        if loaded:
            self.stdout.write(f"Loaded template {name} into {tenant.slug}.")
        else:
            self.stdout.write(
                f"Template {name} is already loaded in {tenant.slug}: nothing changed."
            )
