"""Branding in the console (/manage/branding/), its service and the public logo route."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from console.catalogs.services import (
    LOGO_MAX_BYTES,
    branding_logo_store,
    logo_path,
    tenant_branding_update,
)
from helpdesk.models import Tenant
from tests.conftest import World
from tests.sweep_makers.console_catalogs import tiny_png
from tickets.services import ticket_create

URL = "/manage/branding/"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 200


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    """Uploads go to a temporary directory, not var/media."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def admin(alpha: World) -> Client:
    return alpha.client(alpha.admin)


def _form(tenant: Tenant, **changes: Any) -> dict[str, Any]:
    data = {
        "name": tenant.name,
        "brand_color": tenant.brand_color,
        "logo_url": "",
        "support_email": tenant.support_email,
        "time_zone": tenant.time_zone,
        "ticket_prefix": tenant.ticket_prefix,
        "allow_signup": "on" if tenant.allow_signup else "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _upload(data: bytes, name: str = "logo.png", content_type: str = "image/png") -> Any:
    return SimpleUploadedFile(name, data, content_type=content_type)


# --- the page -----------------------------------------------------------------------------------


def test_page_shows_the_current_branding(alpha: World, admin: Client) -> None:
    html = admin.get(URL).content.decode()
    assert 'value="Alpha"' in html
    assert 'type="color"' in html
    assert 'value="AL"' in html
    assert '<option value="Europe/Zurich">' in html
    assert "no longer find their ticket" in html


def test_save_every_field(alpha: World, admin: Client) -> None:
    data = _form(
        alpha.tenant,
        name="Alpha Support",
        brand_color="#AA3300",
        support_email="Help@Alpha.example",
        time_zone="Europe/Zurich",
        allow_signup="",
        logo_url="https://cdn.example.com/logo.png",
    )
    response = admin.post(URL, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    tenant = Tenant.objects.get(pk=alpha.tenant.pk)
    assert tenant.name == "Alpha Support"
    assert tenant.brand_color == "#aa3300"
    assert tenant.support_email == "help@alpha.example"
    assert tenant.time_zone == "Europe/Zurich"
    assert tenant.allow_signup is False
    assert tenant.logo_url == "https://cdn.example.com/logo.png"
    html = admin.get(URL).content.decode()
    assert 'value="https://cdn.example.com/logo.png"' in html
    # Emptying the address removes an external logo.
    admin.post(URL, _form(tenant, logo_url=""))
    tenant.refresh_from_db()
    assert tenant.logo_url == ""


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"brand_color": "red"}, "brand_color"),
        ({"support_email": "not an address"}, "support_email"),
        ({"name": ""}, "name"),
        ({"ticket_prefix": "1AB"}, "ticket_prefix"),
        ({"ticket_prefix": "TOOLONGPREFIX"}, "ticket_prefix"),
        ({"logo_url": "http://cdn.example.com/logo.png"}, "logo_url"),
        ({"logo_url": "javascript:alert(1)"}, "logo_url"),
    ],
)
def test_invalid_input_is_a_form_error_and_keeps_input(
    alpha: World, admin: Client, changes: dict[str, str], field: str
) -> None:
    data = _form(alpha.tenant, **{"name": "Kept name", **changes})
    if field == "name":
        data["support_email"] = "kept@alpha.example"
    response = admin.post(URL, data)
    assert response.status_code == 400
    assert field in response.context["form"].errors, response.context["form"].errors
    html = response.content.decode()
    assert 'value="Kept name"' in html or 'value="kept@alpha.example"' in html
    before = Tenant.objects.get(pk=alpha.tenant.pk)
    assert (before.name, before.ticket_prefix, before.time_zone) == ("Alpha", "AL", "UTC")


def test_prefix_change_needs_confirmation(alpha: World, admin: Client) -> None:
    ticket = ticket_create(
        tenant=alpha.tenant,
        subject="Old one",
        requester_email=alpha.contact1.user.email,
        requester=alpha.contact1.user,
    )
    assert ticket.reference.startswith("AL-")
    response = admin.post(URL, _form(alpha.tenant, ticket_prefix="or"))
    assert response.status_code == 400
    assert "confirm_prefix" in response.context["form"].errors
    assert 'value="or"' in response.content.decode()
    assert Tenant.objects.get(pk=alpha.tenant.pk).ticket_prefix == "AL"

    response = admin.post(URL, _form(alpha.tenant, ticket_prefix="or", confirm_prefix="on"))
    assert response.status_code == 302
    assert Tenant.objects.get(pk=alpha.tenant.pk).ticket_prefix == "OR"
    ticket.refresh_from_db()
    ticket.tenant.refresh_from_db()
    assert ticket.reference.startswith("OR-")
    assert "now shown as OR-" in admin.get(URL).content.decode()


def test_unchanged_prefix_needs_no_confirmation(alpha: World, admin: Client) -> None:
    assert admin.post(URL, _form(alpha.tenant, name="Renamed")).status_code == 302


# --- the logo -----------------------------------------------------------------------------------


def test_upload_a_png_and_serve_it(alpha: World, admin: Client, media: Path) -> None:
    png = tiny_png(b"alpha")
    response = admin.post(URL, {**_form(alpha.tenant), "logo_file": _upload(png)})
    assert response.status_code == 302, response.content.decode()[:2000]
    tenant = Tenant.objects.get(pk=alpha.tenant.pk)
    assert tenant.logo_url.startswith("/manage/branding/logo/logo-")
    name = tenant.logo_url.rstrip("/").rsplit("/", 1)[1]
    assert (media / "branding" / str(tenant.pk) / name).read_bytes() == png

    # Public: a customer and an anonymous visitor load it from the tenant's host.
    for client in (alpha.client(), alpha.client(alpha.contact1)):
        served = client.get(tenant.logo_url)
        assert served.status_code == 200
        assert b"".join(served.streaming_content) == png
        assert served["Content-Type"] == "image/png"
        assert served["Content-Disposition"] == "inline"
        assert served["X-Content-Type-Options"] == "nosniff"
    # The portal shows it.
    assert tenant.logo_url in alpha.client().get("/kb/").content.decode()
    # The admin page knows it is an upload and does not put our path in the address field.
    html = admin.get(URL).content.decode()
    assert "Uploaded logo" in html
    assert f'value="{tenant.logo_url}"' not in html
    # Saving the page again keeps the uploaded logo.
    assert admin.post(URL, _form(tenant, name="Still Alpha")).status_code == 302
    tenant.refresh_from_db()
    assert tenant.logo_url.endswith(f"{name}/")


@pytest.mark.parametrize(("data", "ext"), [(JPEG, "jpg"), (WEBP, "webp")])
def test_jpeg_and_webp_are_accepted(alpha: World, data: bytes, ext: str) -> None:
    url = branding_logo_store(tenant=alpha.tenant, upload=ContentFile(data, name="x.bin"))
    assert url.endswith(f".{ext}/")
    content_type = {"jpg": "image/jpeg", "webp": "image/webp"}[ext]
    assert alpha.client().get(url)["Content-Type"] == content_type


def test_replacing_or_removing_an_upload_deletes_the_old_file(
    alpha: World, admin: Client, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(URL, {**_form(alpha.tenant), "logo_file": _upload(tiny_png(b"one"))})
    first = Tenant.objects.get(pk=alpha.tenant.pk).logo_url
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(URL, {**_form(alpha.tenant), "logo_file": _upload(tiny_png(b"two"))})
    second = Tenant.objects.get(pk=alpha.tenant.pk).logo_url
    assert first != second
    assert alpha.client().get(first).status_code == 404
    assert alpha.client().get(second).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(URL, {**_form(alpha.tenant), "remove_logo": "on"})
    assert Tenant.objects.get(pk=alpha.tenant.pk).logo_url == ""
    assert alpha.client().get(second).status_code == 404


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (SVG, "logo.svg", "image/svg+xml"),
        (SVG, "logo.png", "image/png"),  # a name and a declared type prove nothing
        (b"<html><script>alert(1)</script></html>", "logo.png", "image/png"),
        (b"GIF89a" + b"\x00" * 50, "logo.gif", "image/gif"),
        (b"", "logo.png", "image/png"),
    ],
)
def test_upload_that_is_not_png_jpeg_webp_is_refused(
    alpha: World, admin: Client, media: Path, data: bytes, name: str, content_type: str
) -> None:
    response = admin.post(
        URL, {**_form(alpha.tenant, name="Kept"), "logo_file": _upload(data, name, content_type)}
    )
    assert response.status_code == 400
    assert "logo_file" in response.context["form"].errors
    assert 'value="Kept"' in response.content.decode()
    tenant = Tenant.objects.get(pk=alpha.tenant.pk)
    assert (tenant.logo_url, tenant.name) == ("", "Alpha")
    assert not (media / "branding").exists()


def test_oversize_upload_is_refused(alpha: World, admin: Client, media: Path) -> None:
    big = tiny_png() + b"\x00" * LOGO_MAX_BYTES
    response = admin.post(URL, {**_form(alpha.tenant), "logo_file": _upload(big)})
    assert response.status_code == 400
    assert "512 KiB" in response.context["form"].errors["logo_file"][0]
    assert Tenant.objects.get(pk=alpha.tenant.pk).logo_url == ""
    assert not (media / "branding").exists()
    # Exactly the limit is fine.
    exact = tiny_png() + b"\x00" * (LOGO_MAX_BYTES - len(tiny_png()))
    assert branding_logo_store(tenant=alpha.tenant, upload=ContentFile(exact, name="l.png"))


def test_upload_with_remove_or_address_is_an_error(alpha: World, admin: Client) -> None:
    response = admin.post(
        URL, {**_form(alpha.tenant), "logo_file": _upload(tiny_png()), "remove_logo": "on"}
    )
    assert response.status_code == 400
    assert "remove_logo" in response.context["form"].errors
    response = admin.post(
        URL,
        {
            **_form(alpha.tenant, logo_url="https://cdn.example.com/a.png"),
            "logo_file": _upload(tiny_png()),
        },
    )
    assert response.status_code == 400
    assert "logo_url" in response.context["form"].errors
    assert Tenant.objects.get(pk=alpha.tenant.pk).logo_url == ""


def test_logo_route_is_tenant_scoped(alpha: World, beta: World) -> None:
    url = branding_logo_store(tenant=alpha.tenant, upload=ContentFile(tiny_png(b"a"), name="a"))
    assert alpha.client().get(url).status_code == 200
    # Beta's host has no such file: the same name there is unknown.
    assert beta.client().get(url).status_code == 404
    assert beta.client(beta.admin).get(url).status_code == 404
    # Names outside the pattern never reach the storage.
    for bad in ("..%2F..%2Fsecret", "logo-zz.png", "logo-" + "0" * 32 + ".svg"):
        assert alpha.client().get(f"/manage/branding/logo/{bad}/").status_code == 404
    assert alpha.client().post(url).status_code == 405


def test_same_bytes_are_stored_once(alpha: World) -> None:
    first = branding_logo_store(tenant=alpha.tenant, upload=ContentFile(tiny_png(), name="a"))
    second = branding_logo_store(tenant=alpha.tenant, upload=ContentFile(tiny_png(), name="b"))
    assert first == second
    name = first.rstrip("/").rsplit("/", 1)[1]
    assert default_storage.exists(logo_path(alpha.tenant, name))


# --- the service --------------------------------------------------------------------------------


def test_service_refuses_another_tenants_logo(alpha: World, beta: World) -> None:
    url = branding_logo_store(tenant=beta.tenant, upload=ContentFile(tiny_png(b"b"), name="b"))
    with pytest.raises(ValidationError) as exc:
        tenant_branding_update(tenant=alpha.tenant, logo_url=url)
    assert "logo_url" in exc.value.message_dict
    assert tenant_branding_update(tenant=beta.tenant, logo_url=url).logo_url == url


def test_service_reports_every_bad_field_and_saves_nothing(alpha: World) -> None:
    with pytest.raises(ValidationError) as exc:
        tenant_branding_update(
            tenant=alpha.tenant, name="New", time_zone="Nowhere/City", ticket_prefix="a-b"
        )
    assert set(exc.value.message_dict) == {"time_zone", "ticket_prefix"}
    assert Tenant.objects.get(pk=alpha.tenant.pk).name == "Alpha"


# --- access -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["agent", "lead", "contact1", "owner1"])
def test_wrong_role_gets_404(alpha: World, role: str) -> None:
    client = alpha.client(getattr(alpha, role))
    assert client.get(URL).status_code == 404
    assert client.post(URL, _form(alpha.tenant, name="Hijacked")).status_code == 404
    assert Tenant.objects.get(pk=alpha.tenant.pk).name == "Alpha"


def test_anonymous_goes_to_login(alpha: World) -> None:
    client = alpha.client()
    for method in (client.get, client.post):
        response = method(URL)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_another_tenants_admin_edits_only_their_own_tenant(alpha: World, beta: World) -> None:
    response = beta.client(beta.admin).post(URL, _form(beta.tenant, name="Beta renamed"))
    assert response.status_code == 302
    assert Tenant.objects.get(pk=beta.tenant.pk).name == "Beta renamed"
    assert Tenant.objects.get(pk=alpha.tenant.pk).name == "Alpha"
