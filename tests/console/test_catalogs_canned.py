"""Canned responses in the console (/manage/canned-responses/) and their services."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from tests.conftest import World
from tickets.models import CannedResponse
from tickets.services import (
    canned_response_create,
    canned_response_delete,
    canned_response_update,
    ticket_create,
)

LIST = "/manage/canned-responses/"


@pytest.fixture
def admin(alpha: World) -> Client:
    return alpha.client(alpha.admin)


def _macro(
    world: World, title: str = "Thanks", body: str = "Thank you for waiting."
) -> CannedResponse:
    return canned_response_create(tenant=world.tenant, title=title, body=body)


# --- services -----------------------------------------------------------------------------------


def test_create_checks_title_and_body(alpha: World, beta: World) -> None:
    macro = _macro(alpha)
    assert (macro.title, macro.body, macro.is_active) == ("Thanks", "Thank you for waiting.", True)
    with pytest.raises(ValidationError) as exc:
        canned_response_create(tenant=alpha.tenant, title="  thanks ", body="Again")
    assert "already exists" in exc.value.message_dict["title"][0]
    with pytest.raises(ValidationError) as exc:
        canned_response_create(tenant=alpha.tenant, title="Empty", body=" \n ")
    assert "body" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        canned_response_create(tenant=alpha.tenant, title="  ", body="Text")
    assert "title" in exc.value.message_dict
    # Titles are unique per tenant only.
    assert canned_response_create(tenant=beta.tenant, title="Thanks", body="Beta").pk


def test_update_and_delete(alpha: World) -> None:
    macro = _macro(alpha)
    other = _macro(alpha, title="Other")
    with pytest.raises(ValidationError):
        canned_response_update(canned_response=other, title="THANKS")
    canned_response_update(canned_response=macro, title="Thanks!", body="New text", is_active=False)
    macro.refresh_from_db()
    assert (macro.title, macro.body, macro.is_active) == ("Thanks!", "New text", False)
    canned_response_delete(canned_response=macro)
    assert not CannedResponse.objects.filter(pk=macro.pk).exists()


# --- pages --------------------------------------------------------------------------------------


def test_round_trip(alpha: World, admin: Client) -> None:
    assert b"No canned responses yet" in admin.get(LIST).content
    response = admin.post(
        LIST, {"title": "Need logs", "body": "Please attach the **logs**.", "is_active": "on"}
    )
    assert response.status_code == 302
    macro = CannedResponse.objects.get(tenant=alpha.tenant, title="Need logs")
    assert macro.created_by == alpha.admin.user
    assert "Need logs" in admin.get(LIST).content.decode()

    edit = reverse("console-canned-response-edit", args=[macro.pk])
    assert "Please attach the **logs**." in admin.get(edit).content.decode()
    assert admin.post(edit, {"title": "Logs please", "body": "Attach logs."}).status_code == 302
    macro.refresh_from_db()
    assert (macro.title, macro.body, macro.is_active) == ("Logs please", "Attach logs.", False)

    delete = reverse("console-canned-response-delete", args=[macro.pk])
    assert b"cannot be undone" in admin.get(delete).content
    assert admin.post(delete).status_code == 302
    assert not CannedResponse.objects.filter(pk=macro.pk).exists()


def test_duplicate_title_is_a_form_error_and_keeps_input(alpha: World, admin: Client) -> None:
    _macro(alpha)
    response = admin.post(LIST, {"title": "thanks", "body": "My carefully written text"})
    assert response.status_code == 400
    assert "already exists" in response.context["form"].errors["title"][0]
    assert "My carefully written text" in response.content.decode()
    assert CannedResponse.objects.filter(tenant=alpha.tenant).count() == 1


def test_empty_body_is_a_form_error(alpha: World, admin: Client) -> None:
    macro = _macro(alpha)
    edit = reverse("console-canned-response-edit", args=[macro.pk])
    response = admin.post(edit, {"title": "Renamed", "body": "   "})
    assert response.status_code == 400
    assert "body" in response.context["form"].errors
    assert 'value="Renamed"' in response.content.decode()
    macro.refresh_from_db()
    assert macro.title == "Thanks"


def test_agents_reply_box_offers_active_macros_only(alpha: World, admin: Client) -> None:
    admin.post(LIST, {"title": "Offered", "body": "Offered text", "is_active": "on"})
    admin.post(LIST, {"title": "Retired", "body": "Retired text"})
    ticket = ticket_create(
        tenant=alpha.tenant,
        subject="Help",
        requester_email=alpha.contact1.user.email,
        requester=alpha.contact1.user,
    )
    page = alpha.client(alpha.agent).get(reverse("agent-ticket", args=[ticket.reference]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Offered" in html
    assert "Retired" not in html


@pytest.mark.parametrize("role", ["agent", "lead", "contact1"])
def test_wrong_role_gets_404(alpha: World, role: str) -> None:
    macro = _macro(alpha)
    client = alpha.client(getattr(alpha, role))
    for url in (
        LIST,
        reverse("console-canned-response-edit", args=[macro.pk]),
        reverse("console-canned-response-delete", args=[macro.pk]),
    ):
        assert client.get(url).status_code == 404
        assert client.post(url, {"title": "x", "body": "y"}).status_code == 404
    assert CannedResponse.objects.filter(tenant=alpha.tenant).count() == 1


def test_anonymous_goes_to_login(alpha: World) -> None:
    response = alpha.client().get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_other_tenants_macro_is_404(alpha: World, beta: World) -> None:
    macro = _macro(alpha)
    client = beta.client(beta.admin)
    for name in ("console-canned-response-edit", "console-canned-response-delete"):
        url = reverse(name, args=[macro.pk])
        assert client.get(url).status_code == 404
        assert client.post(url, {"title": "Stolen", "body": "x"}).status_code == 404
    macro.refresh_from_db()
    assert macro.title == "Thanks"
    assert "Thanks" not in client.get(LIST).content.decode()
