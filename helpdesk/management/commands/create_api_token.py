from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from helpdesk.models import Membership, email_key
from helpdesk.selectors import tenant_for_slug
from helpdesk.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a member of a tenant; prints the token alone on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--email", required=True, help="the member's email address")
        parser.add_argument("--name", default="API token")

    def handle(self, *args: Any, **opts: Any) -> None:
        tenant = tenant_for_slug(opts["tenant"])
        if tenant is None:
            raise CommandError(f"No tenant '{opts['tenant']}'.")
        membership = (
            Membership.objects.for_tenant(tenant)
            .filter(user__email=email_key(opts["email"]), is_active=True)
            .first()
        )
        if membership is None:
            raise CommandError(f"{opts['email']} is not a member of {tenant.slug}.")
        token, key = api_token_create(tenant=tenant, membership=membership, name=opts["name"])
        self.stdout.write(f"Token {token.key_prefix}… for {opts['email']} ({membership.role})")
        self.stdout.write(key)
