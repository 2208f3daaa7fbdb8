"""The catalogs an admin edits row by row: for each, its model, form, list columns and the
services that write it. The views in :mod:`console.catalogs.views` are the same for all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from helpdesk.models import Tenant
from sla.models import Severity
from sla.services.catalog import severity_create, severity_delete, severity_update
from tickets.models import BusinessImpact, CustomField, Priority, ProductArea, TicketType
from tickets.services import (
    business_impact_create,
    business_impact_update,
    catalog_delete,
    custom_field_create,
    custom_field_update,
    priority_create,
    priority_update,
    product_area_create,
    product_area_update,
    ticket_type_create,
    ticket_type_update,
)

from . import forms

Cell = Callable[[Any], str]


def _yes(value: bool) -> str:
    return str(_("Yes")) if value else ""


def _short(text: str) -> str:
    return Truncator(text or "").chars(80)


@dataclass(frozen=True)
class Kind:
    slug: str  # the URL segment and the route name part of the list: console-catalog-<slug>
    singular: str  # the route name part of edit and delete: console-catalog-<singular>-edit
    title: Any
    noun: Any
    intro: Any
    model: type[models.Model]
    form: type[forms.TenantForm]
    columns: tuple[tuple[Any, Cell], ...]
    create: Callable[[Tenant, dict[str, Any]], models.Model]
    update: Callable[[Any, dict[str, Any]], models.Model]
    delete: Callable[[Any], None]
    related: tuple[str, ...] = ()
    prefetch: tuple[str, ...] = ()

    def rows(self, tenant: Tenant) -> QuerySet[Any]:
        qs = self.model.objects.for_tenant(tenant)  # type: ignore[attr-defined]
        return qs.select_related(*self.related).prefetch_related(*self.prefetch)


def _row_delete(row: models.Model) -> None:
    catalog_delete(row=row)


def _product_area_update(row: ProductArea, v: dict[str, Any]) -> ProductArea:
    return product_area_update(
        product_area=row,
        key=v["key"],
        name=v["name"],
        team=v["team"],
        clear_team=v["team"] is None,
    )


def _types(row: CustomField) -> str:
    names = [t.name for t in row.ticket_types.all()]
    return ", ".join(names) if names else str(_("Every type"))


KINDS: tuple[Kind, ...] = (
    Kind(
        slug="severities",
        singular="severity",
        title=_("Severities"),
        noun=_("severity"),
        intro=_(
            "How bad it is, as the customer reports it. Severities drive the SLA targets of each "
            "package; customers read the description when they pick one."
        ),
        model=Severity,
        form=forms.SeverityForm,
        columns=(
            (_("Rank"), lambda r: str(r.rank)),
            (_("Key"), lambda r: r.key),
            (_("Name"), lambda r: r.name),
            (_("Description"), lambda r: _short(r.description)),
            (_("May escalate"), lambda r: _yes(r.escalation_eligible)),
        ),
        create=lambda tenant, v: severity_create(tenant=tenant, **v),
        update=lambda row, v: severity_update(severity=row, **v),
        delete=lambda row: severity_delete(severity=row),
    ),
    Kind(
        slug="priorities",
        singular="priority",
        title=_("Priorities"),
        noun=_("priority"),
        intro=_(
            "The agents' working order. A new ticket's priority comes from the priority matrix "
            "(severity x business impact); agents may change it."
        ),
        model=Priority,
        form=forms.PriorityForm,
        columns=(
            (_("Rank"), lambda r: str(r.rank)),
            (_("Key"), lambda r: r.key),
            (_("Name"), lambda r: r.name),
        ),
        create=lambda tenant, v: priority_create(tenant=tenant, **v),
        update=lambda row, v: priority_update(priority=row, **v),
        delete=_row_delete,
    ),
    Kind(
        slug="ticket-types",
        singular="ticket-type",
        title=_("Ticket types"),
        noun=_("ticket type"),
        intro=_("What customers can file: bug, question, feature request, incident …"),
        model=TicketType,
        form=forms.TicketTypeForm,
        columns=(
            (_("Position"), lambda r: str(r.position)),
            (_("Key"), lambda r: r.key),
            (_("Name"), lambda r: r.name),
            (_("Emergency"), lambda r: _yes(r.is_emergency)),
            (_("Pages out of hours"), lambda r: _yes(r.pages_on_call_out_of_hours)),
        ),
        create=lambda tenant, v: ticket_type_create(tenant=tenant, **v),
        update=lambda row, v: ticket_type_update(ticket_type=row, **v),
        delete=_row_delete,
    ),
    Kind(
        slug="business-impacts",
        singular="business-impact",
        title=_("Business impacts"),
        noun=_("business impact"),
        intro=_(
            "Who is affected, from a single user to everyone. An impact that asks for a "
            'description is the "other, please describe" choice.'
        ),
        model=BusinessImpact,
        form=forms.BusinessImpactForm,
        columns=(
            (_("Rank"), lambda r: str(r.rank)),
            (_("Key"), lambda r: r.key),
            (_("Name"), lambda r: r.name),
            (_("Asks for a description"), lambda r: _yes(r.requires_text)),
        ),
        create=lambda tenant, v: business_impact_create(tenant=tenant, **v),
        update=lambda row, v: business_impact_update(business_impact=row, **v),
        delete=_row_delete,
    ),
    Kind(
        slug="product-areas",
        singular="product-area",
        title=_("Product areas"),
        noun=_("product area"),
        intro=_("Parts of your product; a ticket's area routes it to the team of its experts."),
        model=ProductArea,
        form=forms.ProductAreaForm,
        columns=(
            (_("Key"), lambda r: r.key),
            (_("Name"), lambda r: r.name),
            (_("Team"), lambda r: r.team.name if r.team else ""),
        ),
        create=lambda tenant, v: product_area_create(tenant=tenant, **v),
        update=_product_area_update,
        delete=_row_delete,
        related=("team",),
    ),
    Kind(
        slug="custom-fields",
        singular="custom-field",
        title=_("Custom fields"),
        noun=_("custom field"),
        intro=_(
            "Your own ticket fields (e.g. where does it happen: browser, mobile app). A field "
            "applies to the ticket types you tick, or to every type."
        ),
        model=CustomField,
        form=forms.CustomFieldForm,
        columns=(
            (_("Position"), lambda r: str(r.position)),
            (_("Key"), lambda r: r.key),
            (_("Label"), lambda r: r.label),
            (_("Kind"), lambda r: str(r.get_kind_display())),
            (_("Options"), lambda r: _short(", ".join(o.get("label", "") for o in r.options))),
            (_("Required"), lambda r: _yes(r.required)),
            (_("Ticket types"), _types),
        ),
        create=lambda tenant, v: custom_field_create(tenant=tenant, **v),
        update=lambda row, v: custom_field_update(custom_field=row, **v),
        delete=_row_delete,
        prefetch=("ticket_types",),
    ),
)

BY_SLUG = {kind.slug: kind for kind in KINDS}
