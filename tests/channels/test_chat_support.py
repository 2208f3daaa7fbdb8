"""Shared set-up of the chat tests: the officernd policy (its packages include chat) with org1 on
Ultimate, and org2 on a package without chat."""

from __future__ import annotations

import datetime as dt

from channels.chat.models import ChatSession
from channels.chat.services import chat_accept, chat_post, chat_start
from helpdesk.models import Membership
from sla.models import SupportPackage
from sla.services import contract_create, package_create
from tests.conftest import World
from tests.tickets.page_helpers import officernd


def chat_ready(world: World) -> World:
    """org1 holds Ultimate (chat included); org2 holds "Web only" (no chat)."""
    officernd(world)
    web_only = package_create(
        tenant=world.tenant, name="Web only", channels=["web", "email"], severities=[]
    )
    contract_create(
        tenant=world.tenant,
        organization=world.org2,
        package=web_only,
        starts_on=dt.date(2020, 1, 1),
    )
    world.extra["web_only"] = web_only
    world.extra["ultimate"] = SupportPackage.objects.for_tenant(world.tenant).get(name="Ultimate")
    return world


def active_chat(
    world: World, customer: Membership | None = None, text: str = "Hello"
) -> ChatSession:
    customer = customer or world.contact1
    session = chat_start(tenant=world.tenant, customer=customer, body=text)
    chat_accept(session=session, agent=world.agent)
    chat_post(session=session, by=world.agent, body="Hi, how can I help?")
    return session
