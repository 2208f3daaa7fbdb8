"""Users are found by their email address through the unique index: addresses are stored
trimmed and in lower case, and looked up the same way (never ``UPPER(email)``, which no index
answers — a scan of every user of every tenant on each API create, mail or login)."""

from __future__ import annotations

import io

from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels.email.senders import sender_resolve
from helpdesk.models import User, email_key
from helpdesk.services import user_get_or_create
from tests.conftest import PASSWORD, World
from tests.sla.conftest import api
from tickets.models import Ticket


def _no_upper(queries: CaptureQueriesContext) -> None:
    sqls = [q["sql"] for q in queries.captured_queries]
    assert sqls
    assert not [s for s in sqls if 'UPPER("helpdesk_user"."email"' in s], sqls


def test_email_key_is_the_stored_form(db: None) -> None:
    user = User.objects.create_user("  Mixed.Case@Example.TEST ", PASSWORD)
    assert user.email == email_key("  Mixed.Case@Example.TEST ") == "mixed.case@example.test"


def test_the_api_finds_the_requester_whatever_the_case(alpha: World) -> None:
    client = api(alpha, alpha.agent)
    shouted = alpha.contact1.user.email.upper()
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            "/api/v1/tickets/", {"subject": "Printer on fire", "requester_email": shouted}
        )
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert ticket.requester_id == alpha.contact1.user_id
    assert ticket.organization_id == alpha.contact1.organization_id
    _no_upper(queries)


def test_mail_senders_and_accounts_are_found_whatever_the_case(alpha: World) -> None:
    shouted = " " + alpha.contact1.user.email.upper()
    with CaptureQueriesContext(connection) as queries:
        sender = sender_resolve(tenant=alpha.tenant, email=shouted)
        same = user_get_or_create(email=shouted)
    assert sender.membership is not None and sender.membership.pk == alpha.contact1.pk
    assert same.pk == alpha.contact1.user_id
    _no_upper(queries)


def test_password_login_and_token_command_ignore_case(alpha: World) -> None:
    shouted = alpha.agent.user.email.upper()
    user = authenticate(username=shouted, password=PASSWORD)
    assert user is not None and user.pk == alpha.agent.user_id
    out = io.StringIO()
    call_command("create_api_token", "--tenant", "alpha", "--email", shouted, stdout=out)
    assert out.getvalue().strip().splitlines()[-1]
