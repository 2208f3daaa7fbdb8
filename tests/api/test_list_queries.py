"""Every list of the API answers in a number of queries that does not grow with its rows.

The lists are found in the schema (a GET whose 200 is a page with ``results``, or an array), so
a new list endpoint fails here until it has a row maker below. Each maker adds rows with the
relations the serializer shows (requester, organization, team, members, CCs, …), which is
where an N+1 would hide.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from drf_spectacular.generators import SchemaGenerator

from channels.chat.models import ChatSession
from channels.chat.services import chat_accept, chat_post, chat_start
from channels.notifications.models import Notification
from channels.webhooks.models import WebhookDelivery, WebhookSubscription
from helpdesk.services import api_token_create
from kb.models import Article
from kb.services import article_create, article_update, category_create
from sla.models import EmergencyPage, Escalation, OnCallEntry
from tests.channels.test_chat_support import active_chat, chat_ready
from tests.conftest import World
from tests.factories import (
    BusinessCalendarFactory,
    BusinessImpactFactory,
    ContactFactory,
    ContractFactory,
    CustomFieldFactory,
    MembershipFactory,
    OrganizationFactory,
    PriorityFactory,
    ProductAreaFactory,
    SeverityFactory,
    SupportPackageFactory,
    TeamFactory,
    TicketTypeFactory,
)
from tickets.models import Ticket
from tickets.services import attachment_add, ticket_create, ticket_note, ticket_reply
from tickets.services.events import event_record

MORE = 5
_seq = itertools.count(1)

# A maker adds one row to a list; a context maker builds the parent of a nested list once.
RowMaker = Callable[[World, dict[str, Any]], object]


def _n() -> int:
    return next(_seq)


def _ticket(w: World, subject: str = "Printer on fire") -> Ticket:
    team = w.extra.get("team") or TeamFactory(tenant=w.tenant)
    w.extra["team"] = team
    return ticket_create(
        tenant=w.tenant,
        subject=f"{subject} {_n()}",
        description="It burns.",
        requester=w.contact1.user,
        requester_email=w.contact1.user.email,
        organization=w.org1,
        cc=[w.owner1.user.email],
        team=team,
        assignee=w.agent,
        by=w.agent,
    )


def _parent_ticket(w: World) -> dict[str, Any]:
    return {"ticket_pk": _ticket(w).pk}


def _parent_article(w: World) -> dict[str, Any]:
    article = article_create(
        tenant=w.tenant,
        author=w.admin.user,
        title=f"How to reset {_n()}",
        body_markdown="Press the button.",
        status=Article.Status.PUBLISHED,
    )
    return {"article_pk": article.pk}


def _parent_webhook(w: World) -> dict[str, Any]:
    hook = WebhookSubscription.objects.create(
        tenant=w.tenant, url="http://127.0.0.1:9/hook", events=["ticket.created"], secret="s"
    )
    return {"id": hook.pk}


def _team(w: World, ctx: dict[str, Any]) -> None:
    team = TeamFactory(tenant=w.tenant)
    team.members.create(tenant=w.tenant, membership=w.agent)


def _agent(w: World, ctx: dict[str, Any]) -> None:
    agent = MembershipFactory(tenant=w.tenant, role="agent", tier="agent")
    TeamFactory(tenant=w.tenant).members.create(tenant=w.tenant, membership=agent)


def _message(w: World, ctx: dict[str, Any]) -> None:
    ticket = Ticket.objects.get(pk=ctx["ticket_pk"])
    reply = ticket_reply(ticket=ticket, body="More smoke.", author=w.contact1.user)
    attachment_add(
        ticket=ticket,
        upload=ContentFile(b"smoke", name="smoke.txt"),
        by=w.contact1.user,
        message=reply,
    )
    ticket_note(ticket=ticket, body="Internal: call the fire brigade.", by=w.agent)


def _attachment(w: World, ctx: dict[str, Any]) -> None:
    ticket = Ticket.objects.get(pk=ctx["ticket_pk"])
    attachment_add(ticket=ticket, upload=ContentFile(b"x", name=f"f{_n()}.txt"), by=w.agent.user)


def _event(w: World, ctx: dict[str, Any]) -> None:
    ticket = Ticket.objects.get(pk=ctx["ticket_pk"])
    event_record(ticket=ticket, kind="field_changed", by=w.agent, field="subject", after=str(_n()))


def _escalation(w: World, ctx: dict[str, Any]) -> None:
    Escalation.objects.create(
        tenant=w.tenant,
        kind="customer",
        ticket=_ticket(w),
        metric="resolution",
        raised_by=w.contact1,
        recipients=[w.agent.user.email],
    )


def _page(w: World, ctx: dict[str, Any]) -> None:
    EmergencyPage.objects.create(tenant=w.tenant, ticket=_ticket(w), reason="Down")


def _notification(w: World, ctx: dict[str, Any]) -> None:
    Notification.objects.create(
        tenant=w.tenant,
        recipient=w.admin,
        ticket=_ticket(w),
        kind=Notification.Kind.SLA_WARNING,
        text="Soon due",
        source_key=f"q{_n()}",
    )


def _delivery(w: World, ctx: dict[str, Any]) -> None:
    WebhookDelivery.objects.create(
        tenant=w.tenant,
        subscription_id=ctx["id"],
        event_id=f"e{_n()}",
        event_type="ticket.created",
        payload={"n": 1},
    )


def _revision(w: World, ctx: dict[str, Any]) -> None:
    article = Article.objects.get(pk=ctx["article_pk"])
    article_update(
        tenant=w.tenant, article=article, author=w.admin.user, body_markdown=f"Step {_n()}."
    )


def _article(w: World, ctx: dict[str, Any]) -> None:
    category = category_create(tenant=w.tenant, name=f"Cat {_n()}")
    article_create(
        tenant=w.tenant,
        author=w.admin.user,
        title=f"Guide {_n()}",
        body_markdown="Text.",
        category=category,
        status=Article.Status.PUBLISHED,
    )


def _chat_parent(w: World) -> dict[str, Any]:
    chat_ready(w)  # org1 holds a package with chat
    return {}


def _chat(w: World, ctx: dict[str, Any]) -> None:
    contact = ContactFactory(tenant=w.tenant, organization=w.org1)
    session = chat_start(tenant=w.tenant, customer=contact, body="Hi")
    chat_accept(session=session, agent=w.agent)


def _chat_messages_parent(w: World) -> dict[str, Any]:
    chat_ready(w)
    return {"id": active_chat(w).pk}


def _chat_message(w: World, ctx: dict[str, Any]) -> None:
    session = ChatSession.objects.get(pk=ctx["id"])
    chat_post(session=session, by=w.contact1, body=f"Still broken {_n()}")


# schema path → (parent maker or None, row maker)
LISTS: dict[str, tuple[Callable[[World], dict[str, Any]] | None, RowMaker]] = {
    "/api/v1/agents/": (None, _agent),
    "/api/v1/business-impacts/": (None, lambda w, c: BusinessImpactFactory(tenant=w.tenant)),
    "/api/v1/calendars/": (None, lambda w, c: BusinessCalendarFactory(tenant=w.tenant)),
    "/api/v1/chats/": (_chat_parent, _chat),
    "/api/v1/chats/{id}/messages/": (_chat_messages_parent, _chat_message),
    "/api/v1/contacts/": (None, lambda w, c: ContactFactory(tenant=w.tenant, organization=w.org1)),
    "/api/v1/contracts/": (
        None,
        lambda w, c: ContractFactory(
            tenant=w.tenant, organization=OrganizationFactory(tenant=w.tenant)
        ),
    ),
    "/api/v1/custom-fields/": (None, lambda w, c: CustomFieldFactory(tenant=w.tenant)),
    "/api/v1/escalations/": (None, _escalation),
    "/api/v1/kb/articles/": (None, _article),
    "/api/v1/kb/articles/{article_pk}/revisions/": (_parent_article, _revision),
    "/api/v1/kb/categories/": (
        None,
        lambda w, c: category_create(tenant=w.tenant, name=f"C{_n()}"),
    ),
    "/api/v1/notifications/": (None, _notification),
    "/api/v1/on-call/": (
        None,
        lambda w, c: OnCallEntry.objects.create(
            tenant=w.tenant,
            membership=MembershipFactory(tenant=w.tenant, role="agent", tier="agent"),
        ),
    ),
    "/api/v1/organizations/": (None, lambda w, c: OrganizationFactory(tenant=w.tenant)),
    "/api/v1/packages/": (None, lambda w, c: SupportPackageFactory(tenant=w.tenant)),
    "/api/v1/pages/": (None, _page),
    "/api/v1/priorities/": (None, lambda w, c: PriorityFactory(tenant=w.tenant)),
    "/api/v1/product-areas/": (None, lambda w, c: ProductAreaFactory(tenant=w.tenant)),
    "/api/v1/severities/": (None, lambda w, c: SeverityFactory(tenant=w.tenant)),
    "/api/v1/teams/": (None, _team),
    "/api/v1/ticket-types/": (None, lambda w, c: TicketTypeFactory(tenant=w.tenant)),
    "/api/v1/tickets/": (None, lambda w, c: _ticket(w)),
    "/api/v1/tickets/{ticket_pk}/attachments/": (_parent_ticket, _attachment),
    "/api/v1/tickets/{ticket_pk}/events/": (_parent_ticket, _event),
    "/api/v1/tickets/{ticket_pk}/messages/": (_parent_ticket, _message),
    "/api/v1/tickets/{ticket_pk}/similar/": (
        lambda w: {"ticket_pk": _ticket(w, "Printer jam").pk},
        lambda w, c: _ticket(w, "Printer jam"),
    ),
    "/api/v1/tokens/": (
        None,
        lambda w, c: api_token_create(tenant=w.tenant, membership=w.contact1, name=f"t{_n()}"),
    ),
    "/api/v1/webhooks/": (None, lambda w, c: _parent_webhook(w)),
    "/api/v1/webhooks/{id}/deliveries/": (_parent_webhook, _delivery),
}


def _list_paths() -> list[str]:
    schema = SchemaGenerator().get_schema(request=None, public=True)

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
        return node

    found = []
    for path, operations in schema["paths"].items():
        ok = operations.get("get", {}).get("responses", {}).get("200", {})
        body = resolve(ok.get("content", {}).get("application/json", {}).get("schema", {}))
        if body.get("type") == "array" or "results" in body.get("properties", {}):
            found.append(path)
    return sorted(found)


LIST_PATHS = _list_paths()


def test_every_list_has_a_row_maker() -> None:
    assert len(LIST_PATHS) >= 25
    assert sorted(set(LIST_PATHS) - set(LISTS)) == [], "add a row maker to LISTS"


@pytest.mark.parametrize("path", LIST_PATHS)
def test_list_queries_do_not_grow_with_rows(path: str, alpha: World) -> None:
    if path not in LISTS:
        pytest.fail(f"no row maker for {path}")
    parent, add_row = LISTS[path]
    ctx = parent(alpha) if parent else {}
    url = path.format(**ctx)
    _, key = api_token_create(tenant=alpha.tenant, membership=alpha.admin, name="counter")
    client = Client(HTTP_HOST=alpha.host, HTTP_AUTHORIZATION=f"Token {key}")

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (url, response.content[:300])
        body = response.json()
        rows = body if isinstance(body, list) else body["results"]
        return len(queries), len(rows)

    add_row(alpha, ctx)
    client.get(url)  # the token's first use is recorded once; not part of the list's cost
    few, few_rows = count()
    for _ in range(MORE):
        add_row(alpha, ctx)
    many, many_rows = count()
    assert many_rows > few_rows, (url, few_rows, many_rows)  # the rows really are listed
    assert many == few, f"{url}: {few} queries for {few_rows} rows, {many} for {many_rows}"
