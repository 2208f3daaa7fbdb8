"""The console's catalog pages (/manage/catalogs/): list, add, edit, delete of every catalog, the
priority matrix and the ticket settings; admins only, tenant-scoped."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from sla.models import PackageSeverity, Severity
from tests.conftest import World
from tests.factories import (
    BusinessImpactFactory,
    CustomFieldFactory,
    PriorityFactory,
    ProductAreaFactory,
    SeverityFactory,
    SupportPackageFactory,
    TeamFactory,
    TicketTypeFactory,
)
from tickets.models import (
    BusinessImpact,
    CustomField,
    Priority,
    ProductArea,
    TicketSettings,
    TicketType,
)
from tickets.services import priority_default, priority_matrix_set, ticket_create

FACTORIES = {
    "severity": (SeverityFactory, Severity, "severities"),
    "priority": (PriorityFactory, Priority, "priorities"),
    "ticket-type": (TicketTypeFactory, TicketType, "ticket-types"),
    "business-impact": (BusinessImpactFactory, BusinessImpact, "business-impacts"),
    "product-area": (ProductAreaFactory, ProductArea, "product-areas"),
    "custom-field": (CustomFieldFactory, CustomField, "custom-fields"),
}

# What a valid add form sends, and the field that shows the row's name, per kind.
CREATE: dict[str, dict[str, Any]] = {
    "severity": {
        "key": "critical",
        "name": "Critical",
        "rank": "1",
        "description": "Production is down.",
        "escalation_eligible": "on",
    },
    "priority": {"key": "p1", "name": "Urgent", "rank": "1"},
    "ticket-type": {
        "key": "bug",
        "name": "Bug",
        "description": "Something is broken.",
        "form_hints": "Steps to reproduce",
        "is_emergency": "on",
        "position": "2",
    },
    "business-impact": {"key": "other", "name": "Other", "rank": "9", "requires_text": "on"},
    "product-area": {"key": "billing", "name": "Billing", "team": ""},
    "custom-field": {
        "key": "where",
        "label": "Where does it happen",
        "kind": "select",
        "options": "browser | Browser\nmobile | Mobile app",
        "required": "on",
        "help_text": "",
        "position": "0",
    },
}


def _list_urls() -> list[str]:
    return [
        "/manage/catalogs/",
        "/manage/catalogs/priority-matrix/",
        "/manage/catalogs/ticket-settings/",
        *[f"/manage/catalogs/{slug}/" for _f, _m, slug in FACTORIES.values()],
    ]


def _row_urls(world: World) -> list[str]:
    urls = []
    for kind, (factory, _model, _slug) in FACTORIES.items():
        pk = factory(tenant=world.tenant).pk
        urls.append(reverse(f"console-catalog-{kind}-edit", args=[pk]))
        urls.append(reverse(f"console-catalog-{kind}-delete", args=[pk]))
    return urls


@pytest.fixture
def admin(alpha: World) -> Client:
    return alpha.client(alpha.admin)


# --- access -------------------------------------------------------------------------------------


def test_every_page_renders_for_an_admin(alpha: World, admin: Client) -> None:
    for url in _list_urls() + _row_urls(alpha):
        response = admin.get(url)
        assert response.status_code == 200, url
        assert b'class="console-nav"' in response.content, url


@pytest.mark.parametrize("role", ["agent", "lead", "contact1", "owner1"])
def test_wrong_role_gets_404(alpha: World, role: str) -> None:
    client = alpha.client(getattr(alpha, role))
    for url in _list_urls() + _row_urls(alpha):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"key": "x", "name": "x"}).status_code == 404, url
    assert not Severity.objects.filter(key="x").exists()


def test_anonymous_goes_to_login(alpha: World) -> None:
    client = alpha.client()
    for url in _list_urls() + _row_urls(alpha):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url
        assert client.post(url, CREATE["severity"]).status_code == 302
    assert not Severity.objects.filter(key="critical").exists()


@pytest.mark.parametrize("kind", list(FACTORIES))
def test_other_tenants_row_is_404(alpha: World, beta: World, kind: str) -> None:
    factory, model, _slug = FACTORIES[kind]
    row = factory(tenant=alpha.tenant)
    before = model.objects.filter(pk=row.pk).values().get()
    client = beta.client(beta.admin)
    for action in ("edit", "delete"):
        url = reverse(f"console-catalog-{kind}-{action}", args=[row.pk])
        assert client.get(url).status_code == 404
        assert client.post(url, CREATE[kind]).status_code == 404
    assert model.objects.filter(pk=row.pk).values().get() == before


def test_lists_show_only_this_tenants_rows(alpha: World, beta: World) -> None:
    SeverityFactory(tenant=alpha.tenant, name="Alpha only severity")
    SeverityFactory(tenant=beta.tenant, name="Beta severity")
    body = beta.client(beta.admin).get("/manage/catalogs/severities/").content.decode()
    assert "Beta severity" in body
    assert "Alpha only severity" not in body


# --- round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(FACTORIES))
def test_add_edit_delete_round_trip(alpha: World, admin: Client, kind: str) -> None:
    _factory, model, slug = FACTORIES[kind]
    list_url = f"/manage/catalogs/{slug}/"
    response = admin.post(list_url, CREATE[kind])
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == list_url
    row = model.objects.for_tenant(alpha.tenant).get(key=CREATE[kind]["key"])
    page = admin.get(list_url).content.decode()
    assert str(row) in page
    assert reverse(f"console-catalog-{kind}-edit", args=[row.pk]) in page

    edit_url = reverse(f"console-catalog-{kind}-edit", args=[row.pk])
    form = admin.get(edit_url).content.decode()
    assert f'value="{CREATE[kind]["key"]}"' in form
    changed = {**CREATE[kind], "key": "renamed"}
    name_field = "label" if kind == "custom-field" else "name"
    changed[name_field] = "Renamed entry"
    assert admin.post(edit_url, changed).status_code == 302
    row.refresh_from_db()
    assert (row.key, str(row)) == ("renamed", "Renamed entry")

    delete_url = reverse(f"console-catalog-{kind}-delete", args=[row.pk])
    assert b"cannot be undone" in admin.get(delete_url).content
    assert admin.post(delete_url).status_code == 302
    assert not model.objects.filter(pk=row.pk).exists()


def test_severity_fields_are_saved(alpha: World, admin: Client) -> None:
    admin.post("/manage/catalogs/severities/", {**CREATE["severity"], "escalation_eligible": ""})
    severity = Severity.objects.get(tenant=alpha.tenant, key="critical")
    assert (severity.rank, severity.description, severity.escalation_eligible) == (
        1,
        "Production is down.",
        False,
    )


def test_ticket_type_and_impact_flags_are_saved(alpha: World, admin: Client) -> None:
    admin.post("/manage/catalogs/ticket-types/", CREATE["ticket-type"])
    admin.post("/manage/catalogs/business-impacts/", CREATE["business-impact"])
    bug = TicketType.objects.get(tenant=alpha.tenant, key="bug")
    assert (bug.is_emergency, bug.pages_on_call_out_of_hours, bug.position) == (True, False, 2)
    assert bug.form_hints == "Steps to reproduce"
    assert BusinessImpact.objects.get(tenant=alpha.tenant, key="other").requires_text is True


def test_product_area_team_is_set_and_cleared(alpha: World, admin: Client) -> None:
    team = TeamFactory(tenant=alpha.tenant, name="Billing experts")
    admin.post("/manage/catalogs/product-areas/", {**CREATE["product-area"], "team": team.pk})
    area = ProductArea.objects.get(tenant=alpha.tenant, key="billing")
    assert area.team == team
    assert "Billing experts" in admin.get("/manage/catalogs/product-areas/").content.decode()
    edit = reverse("console-catalog-product-area-edit", args=[area.pk])
    assert admin.post(edit, CREATE["product-area"]).status_code == 302
    area.refresh_from_db()
    assert area.team is None


def test_product_area_refuses_another_tenants_team(alpha: World, beta: World) -> None:
    foreign = TeamFactory(tenant=beta.tenant)
    response = alpha.client(alpha.admin).post(
        "/manage/catalogs/product-areas/", {**CREATE["product-area"], "team": foreign.pk}
    )
    assert response.status_code == 400
    assert "team" in response.context["form"].errors
    assert not ProductArea.objects.filter(key="billing").exists()


def test_custom_field_options_and_types(alpha: World, admin: Client) -> None:
    bug = TicketTypeFactory(tenant=alpha.tenant, name="Bug")
    TicketTypeFactory(tenant=alpha.tenant, name="Question")
    response = admin.post(
        "/manage/catalogs/custom-fields/", {**CREATE["custom-field"], "ticket_types": [bug.pk]}
    )
    assert response.status_code == 302
    field = CustomField.objects.get(tenant=alpha.tenant, key="where")
    assert field.options == [
        {"value": "browser", "label": "Browser"},
        {"value": "mobile", "label": "Mobile app"},
    ]
    assert field.required is True
    assert list(field.ticket_types.all()) == [bug]
    form = admin.get(reverse("console-catalog-custom-field-edit", args=[field.pk]))
    html = form.content.decode()
    assert "browser | Browser" in html
    assert f'value="{bug.pk}"' in html and "checked" in html
    # Back to a text field for every type: options must go, types are cleared.
    edit = {**CREATE["custom-field"], "kind": "text", "options": ""}
    admin.post(reverse("console-catalog-custom-field-edit", args=[field.pk]), edit)
    field.refresh_from_db()
    assert (field.kind, field.options, list(field.ticket_types.all())) == ("text", [], [])


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"options": ""}, "options", "at least one option"),
        ({"kind": "number"}, "options", "Only select fields have options"),
        ({"options": "a\na"}, "options", "must be unique"),
        ({"kind": "colour"}, "kind", "Select a valid choice"),
    ],
)
def test_custom_field_errors_keep_the_input(
    alpha: World, admin: Client, changes: dict[str, str], field: str, message: str
) -> None:
    data = {**CREATE["custom-field"], **changes}
    response = admin.post("/manage/catalogs/custom-fields/", data)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert 'value="Where does it happen"' in response.content.decode()
    assert not CustomField.objects.filter(key="where").exists()


@pytest.mark.parametrize("kind", list(FACTORIES))
def test_duplicate_key_is_a_form_error_and_keeps_input(
    alpha: World, admin: Client, kind: str
) -> None:
    factory, model, slug = FACTORIES[kind]
    factory(tenant=alpha.tenant, key=CREATE[kind]["key"])
    response = admin.post(f"/manage/catalogs/{slug}/", CREATE[kind])
    assert response.status_code == 400
    assert "already used" in " ".join(response.context["form"].errors["key"]) or (
        "already exists" in " ".join(response.context["form"].errors["key"])
    )
    html = response.content.decode()
    name = CREATE[kind].get("name") or CREATE[kind]["label"]
    assert f'value="{name}"' in html
    assert 'aria-invalid="true"' in html
    assert model.objects.filter(tenant=alpha.tenant).count() == 1


def test_edit_with_duplicate_key_keeps_the_row(alpha: World, admin: Client) -> None:
    SeverityFactory(tenant=alpha.tenant, key="taken")
    row = SeverityFactory(tenant=alpha.tenant, key="mine", name="Mine")
    url = reverse("console-catalog-severity-edit", args=[row.pk])
    response = admin.post(url, {**CREATE["severity"], "key": "taken", "name": "Changed"})
    assert response.status_code == 400
    assert 'value="Changed"' in response.content.decode()
    row.refresh_from_db()
    assert (row.key, row.name) == ("mine", "Mine")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"key": "Not a slug!"}, "key"),
        ({"rank": "0"}, "rank"),
        ({"rank": "abc"}, "rank"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
    ],
)
def test_invalid_severity_input(
    alpha: World, admin: Client, data: dict[str, str], field: str
) -> None:
    response = admin.post("/manage/catalogs/severities/", {**CREATE["severity"], **data})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert 'value="Production is down."' not in response.content.decode()  # a textarea
    assert "Production is down." in response.content.decode()
    assert not Severity.objects.filter(tenant=alpha.tenant).exists()


# --- deleting what is used ----------------------------------------------------------------------


def test_deleting_a_severity_used_by_a_ticket_is_a_clear_error(alpha: World, admin: Client) -> None:
    severity = SeverityFactory(tenant=alpha.tenant, name="Sev used")
    ticket_create(
        tenant=alpha.tenant,
        subject="Uses it",
        requester_email=alpha.contact1.user.email,
        requester=alpha.contact1.user,
        severity=severity,
    )
    response = admin.post(reverse("console-catalog-severity-delete", args=[severity.pk]))
    assert response.status_code == 409
    body = response.content.decode()
    assert "Sev used is still in use" in body
    assert "ticket" in body
    assert Severity.objects.filter(pk=severity.pk).exists()


def test_deleting_a_severity_a_package_covers_is_a_clear_error(alpha: World, admin: Client) -> None:
    severity = SeverityFactory(tenant=alpha.tenant)
    package = SupportPackageFactory(tenant=alpha.tenant)
    PackageSeverity.objects.create(tenant=alpha.tenant, package=package, severity=severity)
    response = admin.post(reverse("console-catalog-severity-delete", args=[severity.pk]))
    assert response.status_code == 409
    assert b"still in use" in response.content
    assert Severity.objects.filter(pk=severity.pk).exists()


@pytest.mark.parametrize("kind", ["priority", "ticket-type", "business-impact", "product-area"])
def test_deleting_a_row_tickets_use_is_a_clear_error(
    alpha: World, admin: Client, kind: str
) -> None:
    factory, model, _slug = FACTORIES[kind]
    row = factory(tenant=alpha.tenant)
    field = {
        "priority": "priority",
        "ticket-type": "ticket_type",
        "business-impact": "business_impact",
        "product-area": "product_area",
    }[kind]
    ticket_create(
        tenant=alpha.tenant,
        subject="Uses it",
        requester_email=alpha.contact1.user.email,
        requester=alpha.contact1.user,
        **{field: row},
    )
    response = admin.post(reverse(f"console-catalog-{kind}-delete", args=[row.pk]))
    assert response.status_code == 409
    assert b"still in use" in response.content
    assert model.objects.filter(pk=row.pk).exists()


# --- priority matrix ----------------------------------------------------------------------------


def test_matrix_save_changes_the_default_priority(alpha: World, admin: Client) -> None:
    critical = SeverityFactory(tenant=alpha.tenant, name="Critical")
    low = SeverityFactory(tenant=alpha.tenant, name="Low")
    everyone = BusinessImpactFactory(tenant=alpha.tenant, name="Everyone")
    one_user = BusinessImpactFactory(tenant=alpha.tenant, name="One user")
    urgent = PriorityFactory(tenant=alpha.tenant, name="Urgent")
    normal = PriorityFactory(tenant=alpha.tenant, name="Normal")
    page = admin.get("/manage/catalogs/priority-matrix/")
    html = page.content.decode()
    assert "Everyone" in html and "One user" in html and "Critical" in html
    data = {
        f"cell_{critical.pk}_{everyone.pk}": urgent.pk,
        f"cell_{critical.pk}_any": normal.pk,
        f"cell_{low.pk}_any": normal.pk,
    }
    response = admin.post("/manage/catalogs/priority-matrix/", data)
    assert response.status_code == 302
    tenant = alpha.tenant
    assert priority_default(tenant=tenant, severity=critical, business_impact=everyone) == urgent
    assert priority_default(tenant=tenant, severity=critical, business_impact=one_user) == normal
    assert priority_default(tenant=tenant, severity=low, business_impact=everyone) == normal
    # The page shows what is saved; clearing a cell removes it.
    html = admin.get("/manage/catalogs/priority-matrix/").content.decode()
    assert f'<option value="{urgent.pk}" selected>' in html
    data.pop(f"cell_{critical.pk}_{everyone.pk}")
    admin.post("/manage/catalogs/priority-matrix/", data)
    assert priority_default(tenant=tenant, severity=critical, business_impact=everyone) == normal


def test_matrix_cell_left_empty_is_cleared(alpha: World, admin: Client) -> None:
    severity = SeverityFactory(tenant=alpha.tenant)
    priority = PriorityFactory(tenant=alpha.tenant)
    priority_matrix_set(
        tenant=alpha.tenant, severity=severity, business_impact=None, priority=priority
    )
    assert admin.post("/manage/catalogs/priority-matrix/", {}).status_code == 302
    assert priority_default(tenant=alpha.tenant, severity=severity, business_impact=None) is None


def test_matrix_refuses_another_tenants_priority(alpha: World, beta: World, admin: Client) -> None:
    severity = SeverityFactory(tenant=alpha.tenant)
    PriorityFactory(tenant=alpha.tenant)
    foreign = PriorityFactory(tenant=beta.tenant)
    response = admin.post(
        "/manage/catalogs/priority-matrix/", {f"cell_{severity.pk}_any": foreign.pk}
    )
    assert response.status_code == 400
    assert f"cell_{severity.pk}_any" in response.context["form"].errors
    assert priority_default(tenant=alpha.tenant, severity=severity, business_impact=None) is None


def test_matrix_without_catalogs_says_what_is_missing(admin: Client) -> None:
    html = admin.get("/manage/catalogs/priority-matrix/").content.decode()
    assert "needs severities and priorities" in html


# --- ticket settings ----------------------------------------------------------------------------


def test_ticket_settings_round_trip(alpha: World, admin: Client) -> None:
    html = admin.get("/manage/catalogs/ticket-settings/").content.decode()
    assert 'value="20"' in html and "application/pdf" in html
    response = admin.post(
        "/manage/catalogs/ticket-settings/",
        {"max_attachment_mb": "5.5", "allowed_content_types": "image/png\nApplication/PDF\n"},
    )
    assert response.status_code == 302
    settings = TicketSettings.objects.get(tenant=alpha.tenant)
    assert settings.max_attachment_bytes == int(5.5 * 1024 * 1024)
    assert settings.allowed_content_types == ["application/pdf", "image/png"]
    html = admin.get("/manage/catalogs/ticket-settings/").content.decode()
    assert 'value="5.50"' in html


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"max_attachment_mb": "0"}, "max_attachment_mb"),
        ({"max_attachment_mb": "lots"}, "max_attachment_mb"),
        ({"allowed_content_types": "png files"}, "allowed_content_types"),
        ({"allowed_content_types": "image/svg+xml"}, "allowed_content_types"),
        ({"allowed_content_types": "text/html"}, "allowed_content_types"),
    ],
)
def test_ticket_settings_errors(
    alpha: World, admin: Client, data: dict[str, str], field: str
) -> None:
    posted = {"max_attachment_mb": "7", "allowed_content_types": "image/png", **data}
    response = admin.post("/manage/catalogs/ticket-settings/", posted)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert posted["allowed_content_types"] in response.content.decode()
    assert not TicketSettings.objects.filter(tenant=alpha.tenant).exists()


def test_index_counts_rows(alpha: World, admin: Client) -> None:
    SeverityFactory(tenant=alpha.tenant)
    SeverityFactory(tenant=alpha.tenant)
    html = admin.get("/manage/catalogs/").content.decode()
    assert "2 entries" in html
