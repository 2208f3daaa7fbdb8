from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from helpdesk.services import tenant_create
from sla.policies import available_templates, load_policy_template


class Command(BaseCommand):
    help = "Create a tenant with its first admin, optionally from a policy template."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="host label: the tenant lives at SLUG.<base domain>")
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--template",
            help="policy template to load (give an unknown name to list them)",
        )
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-password", required=True)

    def handle(self, *args: Any, **opts: Any) -> None:
        template = opts.get("template")
        if template and template not in available_templates():
            names = ", ".join(available_templates()) or "(none yet)"
            raise CommandError(f"Unknown template '{template}'. Available templates: {names}")
        try:
            with transaction.atomic():
                tenant = tenant_create(
                    slug=opts["slug"],
                    name=opts["name"],
                    admin_email=opts["admin_email"],
                    admin_password=opts["admin_password"],
                )
                if template:
                    load_policy_template(tenant=tenant, template=template)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"Created tenant {tenant.slug} ({tenant.name})")
