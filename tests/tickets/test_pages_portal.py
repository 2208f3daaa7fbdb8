"""The customer portal's pages through the Django test client: who may see what, the new-ticket
form (catalogs, custom fields per type, errors that keep the input, held tickets), the list and
the ticket page (conversation without internal notes, the SLA clock in the viewer's zone)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.conftest import World
from tests.factories import ContactFactory
from tests.tickets.page_helpers import TUESDAY_9, assert_csp_clean, file_ticket, officernd
from tickets.models import Attachment, Ticket, TicketType
from tickets.services import (
    business_impact_create,
    custom_field_create,
    product_area_create,
    ticket_note,
    ticket_reply,
    ticket_transition,
    ticket_type_create,
)

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def frozen() -> object:
    with time_machine.travel(TUESDAY_9, tick=False) as traveller:
        yield traveller


def catalogs(world: World) -> dict[str, object]:
    bug = ticket_type_create(
        tenant=world.tenant,
        key="bug",
        name="Bug",
        form_hints="Steps to reproduce\nWhat you expected",
        position=1,
    )
    question = ticket_type_create(tenant=world.tenant, key="question", name="Question", position=2)
    where = custom_field_create(
        tenant=world.tenant,
        key="where",
        label="Where does it happen?",
        kind="select",
        options=["browser", "mobile_app", "merchant_app"],
        required=True,
        ticket_types=[bug],
    )
    other = business_impact_create(
        tenant=world.tenant, key="other", name="Other", rank=9, requires_text=True
    )
    single = business_impact_create(tenant=world.tenant, key="single", name="Single user", rank=4)
    area = product_area_create(tenant=world.tenant, key="billing", name="Billing")
    return {
        "bug": bug,
        "question": question,
        "where": where,
        "other": other,
        "single": single,
        "area": area,
    }


# --- who may see what -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/tickets/", "/tickets/new/", "/tickets/emergency/"])
def test_anonymous_visitors_are_sent_to_the_login(alpha: World, path: str) -> None:
    response = Client(HTTP_HOST=alpha.host).get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_anonymous_ticket_page_is_a_login_redirect_too(alpha: World) -> None:
    ticket = file_ticket(alpha, alpha.contact1, "Printer on fire")
    response = Client(HTTP_HOST=alpha.host).get(f"/tickets/{ticket.reference}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_contact_of_another_organization_gets_404(alpha: World) -> None:
    ticket = file_ticket(alpha, alpha.contact1, "Org one's secret")
    for member in (alpha.contact2, alpha.owner2):
        client = alpha.client(member)
        assert client.get(f"/tickets/{ticket.reference}/").status_code == 404
        assert client.get(f"/tickets/{ticket.reference}/sla/").status_code == 404
        response = client.post(f"/tickets/{ticket.reference}/reply/", {"body": "hi"})
        assert response.status_code == 404
    # A colleague who is not the owner sees only their own tickets.
    colleague = ContactFactory(tenant=alpha.tenant, organization=alpha.org1)
    colleague.user.set_password("correct horse battery staple")
    colleague.user.save()
    assert alpha.client(colleague).get(f"/tickets/{ticket.reference}/").status_code == 404
    # The owner of the organization sees it.
    assert alpha.client(alpha.owner1).get(f"/tickets/{ticket.reference}/").status_code == 200


def test_other_tenants_reference_is_404(alpha: World, beta: World) -> None:
    ticket = file_ticket(alpha, alpha.contact1, "ALPHA-SECRET")
    client = beta.client(beta.owner1)
    assert client.get(f"/tickets/{ticket.reference}/").status_code == 404
    # Beta's own ticket with alpha's number but beta's prefix is not alpha's ticket either.
    assert client.get(f"/tickets/BE-{ticket.number}/").status_code == 404


# --- the new-ticket form ----------------------------------------------------------------------


def test_form_shows_catalogs_severity_descriptions_and_hints(alpha: World) -> None:
    severities = officernd(alpha)
    cat = catalogs(alpha)
    response = alpha.client(alpha.contact1).get("/tickets/new/")
    html = response.content.decode()
    assert response.status_code == 200
    assert_csp_clean(html)
    # Severity as radio cards, each with its customer-facing description.
    for severity in severities.values():
        assert f'id="severity-{severity.pk}"' in html
        assert severity.description in html
    assert "<legend>Severity</legend>" in html
    # The first type (Bug) is chosen: its hints and its custom field show.
    assert "Steps to reproduce" in html and "Where does it happen?" in html
    assert f'value="{cat["bug"].pk}" selected' in html
    # KB suggestions as the subject is typed; the type swaps its fields with htmx.
    assert 'hx-get="/kb/suggest/"' in html and 'data-suggest-param="q"' in html
    assert 'hx-target="#type-fields"' in html and 'id="type-fields"' in html
    assert 'name="attachments"' in html and "multiple" in html and "data-dropzone" in html
    # Colleagues of the organization can be copied.
    assert alpha.owner1.user.email in html
    assert re.search(r'<label for="id_subject">Subject</label>', html)


def test_type_change_swaps_custom_fields_with_htmx_and_without_js(alpha: World) -> None:
    officernd(alpha)
    cat = catalogs(alpha)
    client = alpha.client(alpha.contact1)
    fragment = client.get(
        "/tickets/new/",
        {"ticket_type": cat["question"].pk},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="type-fields",
    ).content.decode()
    assert "<form" not in fragment and "Where does it happen?" not in fragment
    assert "Symptoms" in fragment  # the general hints: Question has none of its own
    fragment = client.get(
        "/tickets/new/",
        {"ticket_type": cat["bug"].pk},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="type-fields",
    ).content.decode()
    assert "Where does it happen?" in fragment and "Steps to reproduce" in fragment
    # Without JavaScript: the "update the form" button re-renders the page, input kept.
    response = client.post(
        "/tickets/new/",
        {
            "refresh": "1",
            "ticket_type": cat["question"].pk,
            "subject": "Half-typed subject",
            "description": "Half-typed description",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="Half-typed subject"' in html and "Half-typed description" in html
    assert "Where does it happen?" not in html
    assert "errorlist" not in html


def test_filing_a_ticket_with_cc_attachment_and_custom_field(alpha: World, frozen: object) -> None:
    severities = officernd(alpha)
    cat = catalogs(alpha)
    client = alpha.client(alpha.contact1)
    response = client.post(
        "/tickets/new/",
        {
            "ticket_type": cat["bug"].pk,
            "severity": severities["sev2"].pk,
            "subject": "Invoices do not load",
            "description": "The **invoices** page spins forever.",
            "business_impact": cat["single"].pk,
            "product_area": cat["area"].pk,
            "cf_where": "browser",
            "cc_colleagues": [alpha.owner1.user.email],
            "cc": "boss@example.org, it@example.org",
            "attachments": [SimpleUploadedFile("screen.png", PNG, content_type="image/png")],
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    ticket = Ticket.objects.for_tenant(alpha.tenant).get(subject="Invoices do not load")
    assert response["Location"] == f"/tickets/{ticket.reference}/"
    assert ticket.requester == alpha.contact1.user and ticket.organization == alpha.org1
    assert ticket.severity == severities["sev2"] and ticket.type == cat["bug"]
    assert ticket.custom_fields == {"where": "browser"}
    assert set(ticket.cc) == {"boss@example.org", "it@example.org", alpha.owner1.user.email}
    attachment = Attachment.objects.get(ticket=ticket)
    assert attachment.filename == "screen.png" and attachment.public

    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert_csp_clean(html)
    assert "Thank you: we received" in html
    assert "<strong>invoices</strong>" in html
    # Ultimate, SEV 2: first response within 8 business hours of 24/5 → Tue 17:00 London.
    assert "First response due in 8 h" in html
    assert "Tue 17:00 your time" in html
    assert "screen.png" in html and f"/tickets/{ticket.reference}/attachments/" in html
    assert "Where does it happen?" in html and "browser" in html


def test_form_errors_are_inline_and_keep_everything_typed(alpha: World) -> None:
    severities = officernd(alpha)
    cat = catalogs(alpha)
    response = alpha.client(alpha.contact1).post(
        "/tickets/new/",
        {
            "ticket_type": cat["bug"].pk,
            "severity": severities["sev1"].pk,
            "subject": "",
            "description": "Everything I wrote",
            "business_impact": cat["other"].pk,
            "cc": "not-an-address, ok@example.org",
            "requested_due_date": "2026-04-01",
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'role="alert"' in html
    # Inline, linked to their fields.
    assert 'id="id_subject_error"' in html and 'aria-describedby="id_subject_error"' in html
    assert 'aria-invalid="true"' in html
    assert "not-an-address" in html and 'id="id_cc_error"' in html
    assert "Please tell us who is affected." in html  # "other" needs its text
    assert 'id="id_cf_where_error"' in html  # a required custom field
    # Nothing lost.
    assert "Everything I wrote" in html
    assert 'value="not-an-address, ok@example.org"' in html
    assert f'id="severity-{severities["sev1"].pk}" value="{severities["sev1"].pk}" checked' in html
    assert 'value="2026-04-01"' in html
    assert not Ticket.objects.for_tenant(alpha.tenant).exists()


def test_pending_contact_is_told_and_keeps_what_they_wrote(alpha: World) -> None:
    severities = officernd(alpha)
    pending = ContactFactory(
        tenant=alpha.tenant, organization=None, contact_role="pending", user__email="new@x.test"
    )
    client = alpha.client(pending)
    form = client.get("/tickets/new/").content.decode()
    assert "waiting for verification" in form
    response = client.post(
        "/tickets/new/",
        {
            "subject": "Please help",
            "description": "All my words",
            "severity": severities["sev2"].pk,
        },
        follow=True,
    )
    html = response.content.decode()
    ticket = Ticket.objects.for_tenant(alpha.tenant).get(subject="Please help")
    assert ticket.held_for_verification and ticket.description == "All my words"
    assert "kept everything you wrote" in html
    assert "held until your account is verified" in html
    assert "All my words" in html
    assert ticket.reference in client.get("/tickets/").content.decode()


# --- the list ----------------------------------------------------------------------------------


def test_list_owner_sees_the_organization_and_contacts_their_own(
    alpha: World, frozen: object
) -> None:
    severities = officernd(alpha)
    mine = file_ticket(alpha, alpha.contact1, "Contact one's ticket", severities["sev1"])
    owners = file_ticket(alpha, alpha.owner1, "Owner's ticket")
    other_org = file_ticket(alpha, alpha.contact2, "Org two's ticket")
    html = alpha.client(alpha.contact1).get("/tickets/").content.decode()
    assert mine.reference in html and owners.reference not in html
    assert other_org.reference not in html
    assert "in 1 h" in html  # SEV 1 on Ultimate: next SLA due
    owner_html = alpha.client(alpha.owner1).get("/tickets/").content.decode()
    assert mine.reference in owner_html and owners.reference in owner_html
    assert other_org.reference not in owner_html
    only_mine = alpha.client(alpha.owner1).get("/tickets/?mine=1").content.decode()
    assert owners.reference in only_mine and mine.reference not in only_mine
    assert_csp_clean(owner_html)


def test_list_states(alpha: World) -> None:
    officernd(alpha)
    done = file_ticket(alpha, alpha.contact1, "Done one")
    ticket_transition(ticket=done, status="solved", by=alpha.agent)
    live = file_ticket(alpha, alpha.contact1, "Live one")
    client = alpha.client(alpha.contact1)
    open_html = client.get("/tickets/").content.decode()
    assert live.reference in open_html and done.reference not in open_html
    done_html = client.get("/tickets/?state=done").content.decode()
    assert done.reference in done_html and live.reference not in done_html


# --- the ticket page -----------------------------------------------------------------------------


def test_internal_notes_never_reach_the_customer(alpha: World) -> None:
    officernd(alpha)
    ticket = file_ticket(alpha, alpha.contact1, "Where are my notes")
    ticket_reply(ticket=ticket, body="Public answer from us", author=alpha.agent.user)
    ticket_note(ticket=ticket, body="SECRET-NOTE the customer is grumpy", by=alpha.agent)
    for member in (alpha.contact1, alpha.owner1):
        client = alpha.client(member)
        for path in ("", "sla/", "reply/"):
            html = client.get(f"/tickets/{ticket.reference}/{path}").content.decode()
            assert "SECRET-NOTE" not in html and "Internal note" not in html
        html = client.get(f"/tickets/{ticket.reference}/").content.decode()
        assert "Public answer from us" in html


def test_customer_reply_reopens_a_solved_ticket_and_errors_keep_text(alpha: World) -> None:
    officernd(alpha)
    ticket = file_ticket(alpha, alpha.contact1, "Reopen me")
    ticket_reply(ticket=ticket, body="Fixed!", author=alpha.agent.user, status="solved")
    client = alpha.client(alpha.contact1)
    assert (
        "Replying reopens this ticket."
        in client.get(f"/tickets/{ticket.reference}/").content.decode()
    )
    empty = client.post(f"/tickets/{ticket.reference}/reply/", {"body": "   "})
    assert empty.status_code == 400 and 'id="id_body_error"' in empty.content.decode()
    response = client.post(f"/tickets/{ticket.reference}/reply/", {"body": "Still broken"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert "Still broken" in client.get(f"/tickets/{ticket.reference}/").content.decode()


def test_clock_is_shown_in_the_viewers_zone(alpha: World, frozen: object) -> None:
    severities = officernd(alpha)
    ticket = file_ticket(alpha, alpha.contact1, "Zone test", severities["sev1"])
    client = alpha.client(alpha.contact1)
    # No profile zone, no cookie: the tenant's (UTC) — 09:00 + 1 business hour.
    assert "Tue 10:00 your time" in client.get(f"/tickets/{ticket.reference}/").content.decode()
    # The browser's zone from the cookie app.js sets.
    client.cookies["tz"] = "Europe%2FBerlin"  # as static/js/app.js writes it
    assert "Tue 11:00 your time" in client.get(f"/tickets/{ticket.reference}/").content.decode()
    # The profile's zone wins over the cookie.
    user = alpha.contact1.user
    user.time_zone = "America/New_York"
    user.save(update_fields=["time_zone"])
    html = client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert "Tue 05:00 your time" in html and "First response due in 1 h" in html
    # A nonsense cookie falls back to the tenant's zone.
    user.time_zone = ""
    user.save(update_fields=["time_zone"])
    client.cookies["tz"] = "Mars/Olympus"
    assert "Tue 10:00 your time" in client.get(f"/tickets/{ticket.reference}/").content.decode()


def test_no_clock_shows_the_tickets_note(alpha: World) -> None:
    from sla.models import Severity
    from sla.policies import load_policy_template

    load_policy_template(tenant=alpha.tenant, template="webagency")
    normal = Severity.objects.for_tenant(alpha.tenant).get(key="normal")
    ticket = file_ticket(alpha, alpha.contact1, "No contract here", normal)
    html = alpha.client(alpha.contact1).get(f"/tickets/{ticket.reference}/").content.decode()
    assert "first come, first served" in html
    new_form = alpha.client(alpha.contact1).get("/tickets/new/").content.decode()
    assert "first come, first served" in new_form  # told before filing, too


def test_sla_fragment_refreshes_itself(alpha: World, frozen: object) -> None:
    severities = officernd(alpha)
    ticket = file_ticket(alpha, alpha.contact1, "Fragment", severities["sev1"])
    html = alpha.client(alpha.contact1).get(f"/tickets/{ticket.reference}/sla/").content.decode()
    assert html.startswith('<section class="card" id="sla"')
    assert 'hx-trigger="every 60s"' in html and "First response due in 1 h" in html


def test_escalate_is_offered_once_the_acknowledgement_window_is_breached(alpha: World) -> None:
    severities = officernd(alpha)
    with time_machine.travel(TUESDAY_9, tick=False):
        ticket = file_ticket(alpha, alpha.contact1, "Nobody answers", severities["sev1"])
        client = alpha.client(alpha.contact1)
        html = client.get(f"/tickets/{ticket.reference}/").content.decode()
        assert "Escalate this ticket" not in html
        assert "you can escalate it here" in html  # and from when
        early = client.post(f"/tickets/{ticket.reference}/escalate/", follow=True)
        assert "once the acknowledgement time has passed" in early.content.decode()
    with time_machine.travel(TUESDAY_9.replace(hour=11), tick=False):
        client = alpha.client(alpha.contact1)
        html = client.get(f"/tickets/{ticket.reference}/").content.decode()
        assert "First response overdue by 1 h" in html
        assert "Escalate this ticket" in html
        response = client.post(
            f"/tickets/{ticket.reference}/escalate/", {"reason": "Production is down"}, follow=True
        )
        html = response.content.decode()
        assert "Escalated: our escalation team has been notified" in html
        assert "You escalated this ticket on" in html and "Escalate this ticket" not in html
        # Staff work the ticket instead; the agent page is theirs.
        assert (
            alpha.client(alpha.agent).post(f"/tickets/{ticket.reference}/escalate/").status_code
            == 404
        )


def test_escalate_is_not_offered_for_ineligible_severities(alpha: World) -> None:
    from sla.policies import load_policy_template

    load_policy_template(tenant=alpha.tenant, template="apiplatform")
    from sla.models import Severity, SupportPackage
    from sla.services import contract_create

    premium = SupportPackage.objects.for_tenant(alpha.tenant).get(name="Premium")
    contract_create(
        tenant=alpha.tenant, organization=alpha.org1, package=premium, starts_on=TUESDAY_9.date()
    )
    low = Severity.objects.for_tenant(alpha.tenant).get(key="low")
    with time_machine.travel(TUESDAY_9, tick=False):
        ticket = file_ticket(alpha, alpha.contact1, "Low one", low)
    with time_machine.travel(TUESDAY_9 + dt.timedelta(days=10), tick=False):
        html = alpha.client(alpha.contact1).get(f"/tickets/{ticket.reference}/").content.decode()
        assert "overdue" in html and "Escalate this ticket" not in html


# --- emergency ---------------------------------------------------------------------------------


def test_emergency_form_where_the_tenant_has_one(alpha: World, beta: World) -> None:
    from sla.policies import load_policy_template

    load_policy_template(tenant=alpha.tenant, template="webagency")  # seeds the emergency type
    emergency = TicketType.objects.for_tenant(alpha.tenant).get(is_emergency=True)
    client = alpha.client(alpha.contact1)
    html = client.get("/tickets/emergency/").content.decode()
    assert_csp_clean(html)
    for case in (
        "Website is offline/down",
        "Website seems to be hacked",
        "The main website functionality is not working",
    ):
        assert case in html
    missing = client.post("/tickets/emergency/", {"description": "Down!"})
    assert missing.status_code == 400 and "Down!" in missing.content.decode()
    response = client.post(
        "/tickets/emergency/",
        {"case": "Website seems to be hacked", "description": "Defaced home page"},
    )
    assert response.status_code == 302
    ticket = Ticket.objects.for_tenant(alpha.tenant).get(type=emergency)
    assert ticket.subject == "Emergency: Website seems to be hacked"
    assert ticket.severity is not None and ticket.severity.key == "emergency"
    # The new-ticket form points to it; a tenant without one says there is none.
    assert "/tickets/emergency/" in client.get("/tickets/new/").content.decode()
    other = beta.client(beta.contact1).get("/tickets/emergency/")
    assert other.status_code == 200 and "no separate emergency form" in other.content.decode()


def test_staff_may_use_the_portal_pages(alpha: World) -> None:
    ticket = file_ticket(alpha, alpha.contact1, "Seen by staff")
    client = alpha.client(alpha.agent)
    html = client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert "Open in the agent workspace" in html
    assert ticket.reference in client.get("/tickets/").content.decode()


def test_list_paginates_and_keeps_its_filters(alpha: World) -> None:
    from tickets.views.portal import LIST_PAGE_SIZE

    for i in range(LIST_PAGE_SIZE + 2):
        file_ticket(alpha, alpha.owner1, f"Paged {i}")
    client = alpha.client(alpha.owner1)
    first = client.get("/tickets/?mine=1").content.decode()
    assert first.count('class="ref"') == LIST_PAGE_SIZE
    assert 'href="?state=open&amp;mine=1&amp;page=2"' in first
    second = client.get("/tickets/?state=open&mine=1&page=2").content.decode()
    assert second.count('class="ref"') == 2 and "Paged 0" in second


def test_list_query_count_does_not_grow_with_rows(alpha: World) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    severities = officernd(alpha)
    client = alpha.client(alpha.owner1)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/tickets/").status_code == 200
        return len(queries)

    file_ticket(alpha, alpha.contact1, "One", severities["sev1"])
    few = count()
    for i in range(15):
        file_ticket(alpha, alpha.contact1, f"More {i}", severities["sev2"])
    assert count() == few


def test_a_refused_attachment_is_an_inline_error_and_nothing_is_filed(alpha: World) -> None:
    severities = officernd(alpha)
    response = alpha.client(alpha.contact1).post(
        "/tickets/new/",
        {
            "severity": severities["sev3"].pk,
            "subject": "With a program attached",
            "description": "See the attachment.",
            "attachments": [
                SimpleUploadedFile("tool.exe", b"MZ\x90\x00" + b"\x00" * 64, "application/x-msdos")
            ],
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_attachments_error"' in html and "not accepted" in html
    assert "With a program attached" in html and "choose your files again" in html
    assert not Ticket.objects.for_tenant(alpha.tenant).exists()
