"""The phone channel: personal codes in the portal, the agent's "Log a call", the console's list.

Alpha's org1 holds an Ultimate contract (phone included); org2 a Standard one (no phone)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from channels.phone.models import PhoneCode, code_digest
from channels.phone.selectors import (
    phone_caller_for_code,
    phone_contacts_entitled,
    phone_entitlement_for,
)
from channels.phone.services import (
    phone_call_note,
    phone_call_ticket_create,
    phone_code_ensure,
    phone_code_regenerate,
)
from channels.phone.views import caller_token
from helpdesk.models import Membership
from sla.models import PackageSeverity, Severity, SLAClock, SLAPolicy, SLATarget, SupportPackage
from tests.conftest import World
from tests.factories import (
    BusinessCalendarFactory,
    ContractFactory,
    SeverityFactory,
    SupportPackageFactory,
    TicketTypeFactory,
)
from tickets.models import Message, Ticket, TicketType
from tickets.services import custom_field_create, ticket_create


@dataclass
class Phone:
    world: World
    ultimate: SupportPackage
    standard: SupportPackage
    high: Severity


def phone_desk(world: World) -> Phone:
    ultimate = SupportPackageFactory(
        tenant=world.tenant, name="Ultimate", channels=["web", "email", "chat", "phone"]
    )
    standard = SupportPackageFactory(tenant=world.tenant, name="Standard", channels=["web"])
    ContractFactory(tenant=world.tenant, organization=world.org1, package=ultimate)
    ContractFactory(tenant=world.tenant, organization=world.org2, package=standard)
    high = SeverityFactory(tenant=world.tenant, key="high", name="High", rank=1)
    calendar = BusinessCalendarFactory(
        tenant=world.tenant, hours=[(d, 0, 24 * 60) for d in range(7)]
    )
    PackageSeverity.objects.create(tenant=world.tenant, package=ultimate, severity=high)
    SLATarget.objects.create(
        tenant=world.tenant,
        package=ultimate,
        severity=high,
        metric="first_response",
        target_minutes=60,
        calendar=calendar,
    )
    return Phone(world, ultimate, standard, high)


@pytest.fixture(autouse=True)
def _fresh_throttles() -> None:
    cache.clear()  # the throttles' counters (LocMemCache: this process only)


@pytest.fixture
def desk(alpha: World) -> Phone:
    return phone_desk(alpha)


# --- entitlement and codes -------------------------------------------------------------------


def test_entitlement_follows_the_active_contracts_package(desk: Phone) -> None:
    w = desk.world
    yes = phone_entitlement_for(membership=w.contact1)
    assert yes.entitled and yes.package == desk.ultimate and yes.organization == w.org1
    no = phone_entitlement_for(membership=w.contact2)
    assert not no.entitled and no.package == desk.standard
    assert "Standard" in str(no.reason)
    assert not phone_entitlement_for(membership=w.agent).entitled


def test_expired_contract_means_no_phone(desk: Phone) -> None:
    w = desk.world
    contract = w.org1.contracts.get()
    contract.ends_on = dt.date(2021, 1, 1)
    contract.save(update_fields=["ends_on"])
    entitlement = phone_entitlement_for(membership=w.contact1)
    assert not entitlement.entitled and entitlement.package is None
    with pytest.raises(Exception, match="No active support contract"):
        phone_code_ensure(membership=w.contact1)


def test_default_package_rule_gives_phone_to_contacts_without_contract(
    alpha: World,
) -> None:
    ultimate = SupportPackageFactory(tenant=alpha.tenant, name="Ultimate", channels=["phone"])
    SLAPolicy.objects.create(
        tenant=alpha.tenant, no_contract_rule="default_package", default_package=ultimate
    )
    assert phone_entitlement_for(membership=alpha.contact2).entitled
    emails = {m.user.email for m in phone_contacts_entitled(tenant=alpha.tenant)}
    assert {alpha.contact1.user.email, alpha.contact2.user.email} <= emails


def test_pending_contact_is_not_entitled(desk: Phone) -> None:
    w = desk.world
    Membership.objects.filter(pk=w.contact1.pk).update(contact_role="pending")
    w.contact1.refresh_from_db()
    assert not phone_entitlement_for(membership=w.contact1).entitled


def test_codes_are_eight_digits_unique_and_stable(desk: Phone) -> None:
    w = desk.world
    one = phone_code_ensure(membership=w.contact1)
    two = phone_code_ensure(membership=w.owner1)
    assert len(one.code) == 8 and one.code.isdigit()
    assert one.code != two.code
    assert phone_code_ensure(membership=w.contact1).code == one.code
    assert PhoneCode.objects.filter(membership=w.contact1).count() == 1


def test_regenerate_changes_the_code_and_the_old_one_stops_verifying(desk: Phone) -> None:
    w = desk.world
    old = phone_code_ensure(membership=w.contact1).code
    caller = phone_caller_for_code(tenant=w.tenant, code=old)
    assert caller is not None and caller.contact == w.contact1
    new = phone_code_regenerate(membership=w.contact1, by=w.contact1)
    assert new.code != old and new.regenerated_at is not None
    assert phone_caller_for_code(tenant=w.tenant, code=old) is None
    again = phone_caller_for_code(tenant=w.tenant, code=new.code)
    assert again is not None and again.contact == w.contact1


def test_only_the_contact_or_an_admin_regenerates(desk: Phone) -> None:
    w = desk.world
    phone_code_ensure(membership=w.contact1)
    for other in (w.owner1, w.agent):
        with pytest.raises(Exception, match="Only the contact or an admin"):
            phone_code_regenerate(membership=w.contact1, by=other)
    assert phone_code_regenerate(membership=w.contact1, by=w.admin).regenerated_by == w.admin.user


def test_verification_accepts_spaces_and_dashes_and_refuses_other_shapes(desk: Phone) -> None:
    w = desk.world
    code = phone_code_ensure(membership=w.contact1).code
    spoken = f"{code[:4]} - {code[4:]}"
    assert phone_caller_for_code(tenant=w.tenant, code=spoken) is not None
    for bad in ("", code[:7], code + "1", "abcdefgh", "١٢٣٤٥٦٧٨"):
        assert phone_caller_for_code(tenant=w.tenant, code=bad) is None


def test_deactivated_contact_code_does_not_verify(desk: Phone) -> None:
    w = desk.world
    code = phone_code_ensure(membership=w.contact1).code
    Membership.objects.filter(pk=w.contact1.pk).update(is_active=False)
    assert phone_caller_for_code(tenant=w.tenant, code=code) is None


def test_other_tenants_code_never_verifies(desk: Phone, beta: World) -> None:
    phone_desk(beta)
    code = phone_code_ensure(membership=desk.world.contact1).code
    assert phone_caller_for_code(tenant=beta.tenant, code=code) is None


def test_phone_code_cannot_point_into_another_tenant(desk: Phone, beta: World) -> None:
    from helpdesk.tenancy import CrossTenantReference

    with pytest.raises(CrossTenantReference):
        PhoneCode.objects.create(
            tenant=beta.tenant, membership=desk.world.contact1, code="12345678", code_digest="x"
        )


# --- the portal ------------------------------------------------------------------------------


def test_portal_home_shows_the_contact_their_own_code(desk: Phone) -> None:
    w = desk.world
    body = w.client(w.contact1).get("/").content.decode()
    code = PhoneCode.objects.get(membership=w.contact1).code  # made on the first view
    assert code in body
    assert "Regenerate my code" in body
    # Another entitled contact sees their own code, never contact1's.
    other = w.client(w.owner1).get("/").content.decode()
    assert code not in other
    assert PhoneCode.objects.get(membership=w.owner1).code in other


def test_contact_without_phone_sees_no_code(desk: Phone) -> None:
    w = desk.world
    home = w.client(w.contact2).get("/").content.decode()
    assert "Phone support" not in home
    page = w.client(w.contact2).get("/phone/")
    assert page.status_code == 200
    assert "not part of your support package" in page.content.decode()
    assert not PhoneCode.objects.filter(membership=w.contact2).exists()


def test_staff_see_no_code_panel(desk: Phone) -> None:
    w = desk.world
    phone_code_ensure(membership=w.contact1)
    code = PhoneCode.objects.get(membership=w.contact1).code
    for member in (w.agent, w.admin):
        assert code not in w.client(member).get("/").content.decode()
        page = w.client(member).get("/phone/")
        assert page.status_code == 200 and code not in page.content.decode()


def test_portal_regenerate_post(desk: Phone) -> None:
    w = desk.world
    client = w.client(w.contact1)
    client.get("/phone/")
    old = PhoneCode.objects.get(membership=w.contact1).code
    response = client.post("/phone/", {"next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    new = PhoneCode.objects.get(membership=w.contact1).code
    assert new != old
    assert new in client.get("/").content.decode()


def test_portal_regenerate_refuses_contacts_without_phone_and_staff(desk: Phone) -> None:
    w = desk.world
    response = w.client(w.contact2).post("/phone/")
    assert response.status_code == 302
    assert not PhoneCode.objects.filter(membership=w.contact2).exists()
    assert w.client(w.agent).post("/phone/").status_code == 404


def test_portal_regenerate_ignores_offsite_next(desk: Phone) -> None:
    w = desk.world
    response = w.client(w.contact1).post("/phone/", {"next": "https://evil.example/"})
    assert response["Location"] == "/phone/"


def test_portal_phone_page_needs_login(desk: Phone) -> None:
    response = Client(HTTP_HOST=desk.world.host).get("/phone/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- the agent's "Log a call" ----------------------------------------------------------------


def test_log_a_call_verifies_then_creates_a_phone_ticket_with_its_clock(desk: Phone) -> None:
    w = desk.world
    code = phone_code_ensure(membership=w.contact1).code
    client = w.client(w.agent)
    assert client.get("/agent/phone/").status_code == 200
    shown = client.post("/agent/phone/", {"action": "verify", "code": code})
    body = shown.content.decode()
    assert shown.status_code == 200
    assert w.contact1.user.email in body and w.org1.name in body and "Ultimate" in body
    assert "Included" in body
    token = shown.context["ticket_form"]["caller"].value()
    response = client.post(
        "/agent/phone/",
        {
            "action": "create",
            "caller": token,
            "subject": "Printer on fire",
            "description": "Caller reports smoke.",
            "severity": desk.high.pk,
            "assign_to_me": "on",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(tenant=w.tenant, subject="Printer on fire")
    assert response["Location"] == f"/agent/tickets/{ticket.reference}/"
    assert ticket.channel == Ticket.Channel.PHONE
    assert ticket.requester == w.contact1.user
    assert ticket.requester_email == w.contact1.user.email
    assert ticket.organization == w.org1
    assert ticket.assignee == w.agent
    clock = SLAClock.objects.get(ticket=ticket, metric="first_response")
    assert clock.target_minutes == 60 and clock.due_at is not None


def test_unknown_code_is_a_clear_error(desk: Phone) -> None:
    w = desk.world
    response = w.client(w.agent).post("/agent/phone/", {"action": "verify", "code": "00000000"})
    assert response.status_code == 400
    assert "Unknown code" in response.content.decode()
    bad = w.client(w.agent).post("/agent/phone/", {"action": "verify", "code": "12ab"})
    assert bad.status_code == 400 and "8 digits" in bad.content.decode()


def test_caller_without_phone_gets_no_ticket_form(desk: Phone) -> None:
    w = desk.world
    PhoneCode.objects.create(
        tenant=w.tenant,
        membership=w.contact2,
        code="24681357",
        code_digest=code_digest(w.tenant.pk, "24681357"),
    )  # made while org2 still had phone, say
    response = w.client(w.agent).post("/agent/phone/", {"action": "verify", "code": "24681357"})
    assert response.status_code == 200
    assert response.context["ticket_form"] is None
    assert "Not included" in response.content.decode()
    token = caller_token(tenant=w.tenant, agent=w.agent, caller=w.contact2)
    refused = w.client(w.agent).post(
        "/agent/phone/",
        {"action": "create", "caller": token, "subject": "x", "description": "y"},
    )
    assert refused.status_code == 400
    assert not Ticket.objects.filter(tenant=w.tenant, subject="x").exists()


def test_create_with_a_forged_or_foreign_caller_token_asks_for_the_code_again(
    desk: Phone, beta: World
) -> None:
    w = desk.world
    forged = [
        "garbage",
        caller_token(tenant=w.tenant, agent=w.lead, caller=w.contact1),  # another agent's
        caller_token(tenant=beta.tenant, agent=beta.agent, caller=beta.contact1),
    ]
    for token in forged:
        response = w.client(w.agent).post(
            "/agent/phone/",
            {"action": "create", "caller": token, "subject": "forged", "description": "y"},
        )
        assert response.status_code == 400
        assert "enter their code again" in response.content.decode()
    assert not Ticket.objects.filter(subject="forged").exists()


def test_create_keeps_what_was_typed_on_errors(desk: Phone) -> None:
    w = desk.world
    token = caller_token(tenant=w.tenant, agent=w.agent, caller=w.contact1)
    response = w.client(w.agent).post(
        "/agent/phone/",
        {"action": "create", "caller": token, "subject": "", "description": "kept notes"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "kept notes" in body and "This field is required" in body


def test_type_change_keeps_typed_values_and_required_custom_fields_are_checked(
    desk: Phone,
) -> None:
    w = desk.world
    question = TicketTypeFactory(tenant=w.tenant, key="question", name="Question")
    bug: TicketType = TicketTypeFactory(tenant=w.tenant, key="bug", name="Bug")
    custom_field_create(
        tenant=w.tenant, key="where", label="Where", kind="text", required=True, ticket_types=[bug]
    )
    token = caller_token(tenant=w.tenant, agent=w.agent, caller=w.contact1)
    client = w.client(w.agent)
    typed = {"action": "create", "caller": token, "subject": "Crash", "description": "notes"}
    # Without JS: "update the form for this type" shows the type's fields, keeps what was typed.
    refreshed = client.post("/agent/phone/", {**typed, "ticket_type": bug.pk, "refresh": "1"})
    body = refreshed.content.decode()
    assert refreshed.status_code == 200
    assert 'name="cf_where"' in body and 'value="Crash"' in body and "notes" in body
    assert "This field is required" not in body
    missing = client.post("/agent/phone/", {**typed, "ticket_type": bug.pk})
    assert missing.status_code == 400 and "This field is required" in missing.content.decode()
    done = client.post("/agent/phone/", {**typed, "ticket_type": bug.pk, "cf_where": "Mobile app"})
    assert done.status_code == 302
    ticket = Ticket.objects.get(tenant=w.tenant, subject="Crash")
    assert ticket.type == bug and ticket.custom_fields == {"where": "Mobile app"}
    assert question.pk != bug.pk


def test_log_a_call_as_a_note_on_an_existing_ticket(desk: Phone) -> None:
    w = desk.world
    ticket = ticket_create(
        tenant=w.tenant,
        subject="Earlier issue",
        requester=w.contact1.user,
        requester_email=w.contact1.user.email,
    )
    code = phone_code_ensure(membership=w.contact1).code
    client = w.client(w.agent)
    shown = client.post("/agent/phone/", {"action": "verify", "code": code})
    assert ticket.reference in shown.content.decode()
    token = shown.context["note_form"]["caller"].value()
    response = client.post(
        "/agent/phone/",
        {"action": "note", "caller": token, "ticket": ticket.pk, "notes": "Called to chase."},
    )
    assert response.status_code == 302
    note = Message.objects.get(ticket=ticket, public=False)
    assert "Called to chase." in note.body and w.contact1.user.email in note.body


def test_note_refuses_a_ticket_of_another_organization(desk: Phone) -> None:
    w = desk.world
    other = ticket_create(
        tenant=w.tenant,
        subject="Org two",
        requester=w.contact2.user,
        requester_email=w.contact2.user.email,
    )
    token = caller_token(tenant=w.tenant, agent=w.agent, caller=w.contact1)
    response = w.client(w.agent).post(
        "/agent/phone/", {"action": "note", "caller": token, "ticket": other.pk, "notes": "x"}
    )
    assert response.status_code == 400
    assert not Message.objects.filter(ticket=other).exists()


def test_services_refuse_customers_as_agents(desk: Phone) -> None:
    w = desk.world
    with pytest.raises(Exception, match="agents and admins log calls"):
        phone_call_ticket_create(agent=w.owner1, caller=w.contact1, subject="s", description="d")
    ticket = ticket_create(
        tenant=w.tenant, subject="t", requester=w.contact1.user, requester_email="c@x.test"
    )
    with pytest.raises(Exception, match="agents and admins log calls"):
        phone_call_note(agent=w.owner1, caller=w.contact1, ticket=ticket, notes="n")


@override_settings(PHONE_VERIFY_RATE="3/min")
def test_log_a_call_is_throttled(desk: Phone) -> None:
    w = desk.world
    client = w.client(w.agent)
    for _ in range(3):
        response = client.post("/agent/phone/", {"action": "verify", "code": "00000000"})
        assert response.status_code == 400
    response = client.post("/agent/phone/", {"action": "verify", "code": "00000000"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "Too many code checks" in response.content.decode()
    # Even the right code waits: the limit is on checks, not on failures.
    code = phone_code_ensure(membership=w.contact1).code
    assert client.post("/agent/phone/", {"action": "verify", "code": code}).status_code == 429
    # Another agent has their own budget.
    other = w.client(w.lead).post("/agent/phone/", {"action": "verify", "code": code})
    assert other.status_code == 200


@pytest.mark.parametrize("who", ["owner1", "contact1"])
def test_customers_cannot_log_calls(desk: Phone, who: str) -> None:
    w = desk.world
    client = w.client(getattr(w, who))
    assert client.get("/agent/phone/").status_code == 404
    assert client.post("/agent/phone/", {"action": "verify", "code": "1"}).status_code == 404


def test_log_a_call_needs_login(desk: Phone) -> None:
    response = Client(HTTP_HOST=desk.world.host).get("/agent/phone/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_agent_nav_links_to_log_a_call(desk: Phone) -> None:
    w = desk.world
    assert 'href="/agent/phone/"' in w.client(w.agent).get("/agent/queue/").content.decode()


# --- the console -----------------------------------------------------------------------------


def test_console_lists_entitled_contacts_with_codes(desk: Phone) -> None:
    w = desk.world
    code = phone_code_ensure(membership=w.contact1).code
    response = w.client(w.admin).get("/manage/phone/")
    assert response.status_code == 200
    body = response.content.decode()
    assert code in body
    assert w.contact1.user.email in body and w.owner1.user.email in body
    assert w.contact2.user.email not in body  # Standard: no phone
    searched = w.client(w.admin).get("/manage/phone/?q=o1@").content.decode()
    assert w.owner1.user.email in searched and w.contact1.user.email not in searched


def test_console_regenerates_a_contacts_code(desk: Phone) -> None:
    w = desk.world
    old = phone_code_ensure(membership=w.contact1).code
    response = w.client(w.admin).post(
        "/manage/phone/", {"contact": w.contact1.pk, "next": "/manage/phone/?q=c1"}
    )
    assert response.status_code == 302 and response["Location"] == "/manage/phone/?q=c1"
    row = PhoneCode.objects.get(membership=w.contact1)
    assert row.code != old and row.regenerated_by == w.admin.user
    # A contact without a code yet gets one.
    w.client(w.admin).post("/manage/phone/", {"contact": w.owner1.pk})
    assert PhoneCode.objects.filter(membership=w.owner1).exists()


def test_console_refuses_contacts_without_phone_and_other_tenants(desk: Phone, beta: World) -> None:
    w = desk.world
    phone_desk(beta)
    client = w.client(w.admin)
    assert client.post("/manage/phone/", {"contact": w.contact2.pk}).status_code == 404
    assert client.post("/manage/phone/", {"contact": beta.contact1.pk}).status_code == 404
    assert client.post("/manage/phone/", {"contact": "x"}).status_code == 404
    assert not PhoneCode.objects.filter(membership__in=[w.contact2, beta.contact1]).exists()


@pytest.mark.parametrize("who", ["agent", "owner1", "contact1"])
def test_console_is_for_admins_only(desk: Phone, who: str) -> None:
    w = desk.world
    client = w.client(getattr(w, who))
    assert client.get("/manage/phone/").status_code == 404
    assert client.post("/manage/phone/", {"contact": w.contact1.pk}).status_code == 404
    assert not PhoneCode.objects.filter(membership=w.contact1).exists()


def test_console_needs_login(desk: Phone) -> None:
    response = Client(HTTP_HOST=desk.world.host).get("/manage/phone/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_console_query_count_does_not_grow_with_contacts(
    desk: Phone, django_assert_max_num_queries: object
) -> None:
    from tests.factories import ContactFactory

    w = desk.world
    client = w.client(w.admin)
    client.get("/manage/phone/")
    for n in range(20):
        contact = ContactFactory(
            tenant=w.tenant, organization=w.org1, user__email=f"many{n}@alpha.test"
        )
        phone_code_ensure(membership=contact)
    with django_assert_max_num_queries(12):  # type: ignore[operator]
        response = client.get("/manage/phone/")
    assert "many19@alpha.test" in response.content.decode()
