"""/manage/organizations/: customer organizations, their contracts and their contacts."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_safe

from console.access import admin_required
from console.common import add_service_errors, paginate, query_without_page, render_console
from helpdesk.models import Membership, Organization, Tenant
from helpdesk.services import (
    OrganizationDeleteImpact,
    contact_add,
    contact_verify,
    organization_create,
    organization_delete,
    organization_delete_impact,
    organization_update,
)
from sla.models import Contract
from sla.services.catalog import contract_create, contract_delete, contract_update

from ..forms import ContactAddForm, ContractForm, OrganizationForm
from ..selectors import (
    contacts_search,
    held_ticket_count,
    organization_contracts,
    organizations_search,
    tenant_object_or_404,
)
from .common import confirm_page, posted, released_text

GET_POST = require_http_methods(["GET", "HEAD", "POST"])


def _tenant(request: HttpRequest) -> Tenant:
    return request.tenant  # type: ignore[attr-defined]


def _today(tenant: Tenant) -> dt.date:
    try:
        zone = zoneinfo.ZoneInfo(tenant.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return timezone.localdate(timezone=zone)


def _org(request: HttpRequest, pk: int) -> Organization:
    return tenant_object_or_404(Organization.objects.all(), tenant=_tenant(request), pk=pk)


def _contract(request: HttpRequest, pk: int) -> Contract:
    return tenant_object_or_404(
        Contract.objects.select_related("organization", "package"), tenant=_tenant(request), pk=pk
    )


@admin_required
@require_safe
def organization_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:200]
    page = paginate(request, organizations_search(tenant=_tenant(request), query=query))
    return render_console(
        request,
        "console/people/organization_list.html",
        {"page": page, "q": query, "query": query_without_page(request)},
    )


@admin_required
@GET_POST
def organization_new(request: HttpRequest) -> HttpResponse:
    tenant = _tenant(request)
    form = OrganizationForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                org = organization_create(
                    tenant=tenant,
                    name=data["name"],
                    domains=data["domains"],
                    account_executive_email=data["account_executive_email"].lower(),
                )
                if data["notes"]:
                    organization_update(organization=org, notes=data["notes"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Organization %(name)s created.") % {"name": org.name})
            return redirect("console-org", pk=org.pk)
    return render_console(
        request,
        "console/people/organization_form.html",
        {"form": form, "organization": None},
        status=400 if form.errors else 200,
    )


@admin_required
@GET_POST
def organization_edit(request: HttpRequest, pk: int) -> HttpResponse:
    org = _org(request, pk)
    initial = {
        "name": org.name,
        "domains": ", ".join(org.domains or []),
        "account_executive_email": org.account_executive_email,
        "notes": org.notes,
    }
    form = OrganizationForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            organization_update(
                organization=org,
                name=data["name"],
                domains=data["domains"],
                account_executive_email=data["account_executive_email"],
                notes=data["notes"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Organization saved."))
            return redirect("console-org", pk=org.pk)
    return render_console(
        request,
        "console/people/organization_form.html",
        {"form": form, "organization": org},
        status=400 if form.errors else 200,
    )


def _detail(
    request: HttpRequest,
    org: Organization,
    *,
    contract_form: ContractForm | None = None,
    contact_form: ContactAddForm | None = None,
    status: int = 200,
) -> HttpResponse:
    tenant = _tenant(request)
    contacts = contacts_search(tenant=tenant, organization=org, include_inactive=True)
    return render_console(
        request,
        "console/people/organization_detail.html",
        {
            "organization": org,
            "contracts": organization_contracts(tenant=tenant, organization=org),
            "contacts": contacts,
            "today": _today(tenant),
            "contract_form": contract_form or ContractForm(tenant=tenant, auto_id="contract_%s"),
            "contact_form": contact_form or ContactAddForm(auto_id="contact_%s"),
        },
        status=status,
    )


@admin_required
@require_safe
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _org(request, pk))


@admin_required
@GET_POST
def organization_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what deleting would do (contracts deleted, contacts detached), or why it cannot be
    done while tickets belong to the organization; POST: delete and go back to the list."""
    org = _org(request, pk)
    impact = organization_delete_impact(organization=org)
    error = impact.refusal(org) if impact.blocked else ""
    if request.method == "POST" and not error:
        try:
            organization_delete(organization=org)
        except ValidationError as exc:  # a ticket arrived since the count
            error = " ".join(exc.messages)
            impact = organization_delete_impact(organization=org)
        else:
            messages.success(request, _deleted_text(org, impact))
            return redirect("console-orgs")
    return render_console(
        request,
        "console/people/organization_delete.html",
        {"organization": org, "impact": impact, "error": error},
        status=409 if error and request.method == "POST" else 200,
    )


def _deleted_text(org: Organization, impact: OrganizationDeleteImpact) -> str:
    contracts = ngettext(
        "%(count)d contract deleted", "%(count)d contracts deleted", impact.contracts
    ) % {"count": impact.contracts}
    contacts = ngettext(
        "%(count)d contact detached (now pending verification)",
        "%(count)d contacts detached (now pending verification)",
        impact.contacts,
    ) % {"count": impact.contacts}
    return _("Organization %(name)s deleted: %(contracts)s, %(contacts)s.") % {
        "name": org.name,
        "contracts": contracts,
        "contacts": contacts,
    }


# --- contracts ----------------------------------------------------------------------------------


@admin_required
@GET_POST
def contract_new(request: HttpRequest, organization_pk: int) -> HttpResponse:
    tenant = _tenant(request)
    org = _org(request, organization_pk)
    form = ContractForm(posted(request), tenant=tenant, auto_id="contract_%s")
    if request.method != "POST":
        return render_console(
            request, "console/people/contract_form.html", {"form": form, "organization": org}
        )
    if form.is_valid():
        data = form.cleaned_data
        try:
            contract_create(
                tenant=tenant,
                organization=org,
                package=data["package"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Contract added."))
            return redirect("console-org", pk=org.pk)
    return _detail(request, org, contract_form=form, status=400)


@admin_required
@GET_POST
def contract_edit(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = _tenant(request)
    contract = _contract(request, pk)
    initial = {
        "package": contract.package_id,
        "starts_on": contract.starts_on,
        "ends_on": contract.ends_on,
    }
    form = ContractForm(posted(request), tenant=tenant, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            contract_update(
                contract=contract,
                package=data["package"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                clear_ends_on=data["ends_on"] is None,
            )
        except ValidationError as exc:
            contract.refresh_from_db()
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Contract saved."))
            return redirect("console-org", pk=contract.organization_id)
    return render_console(
        request,
        "console/people/contract_form.html",
        {"form": form, "organization": contract.organization, "contract": contract},
        status=400 if form.errors else 200,
    )


@admin_required
@GET_POST
def contract_end(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _contract(request, pk)
    today = _today(_tenant(request))
    cancel = reverse("console-org", args=[contract.organization_id])
    error = ""
    if request.method == "POST":
        if contract.ends_on is not None and contract.ends_on <= today:
            messages.info(request, _("This contract has already ended."))
            return redirect("console-org", pk=contract.organization_id)
        try:
            contract_update(contract=contract, ends_on=today)
        except ValidationError as exc:
            contract.refresh_from_db()
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("The contract ends today."))
            return redirect("console-org", pk=contract.organization_id)
    message = _(
        "%(org)s's %(package)s contract will end today, %(today)s: from tomorrow their tickets "
        "follow the no-contract rule, and their open tickets are recomputed now."
    ) % {
        "org": contract.organization.name,
        "package": contract.package.name,
        "today": today.isoformat(),
    }
    if error:
        message = _("%(error)s Delete the contract instead if it should never start.") % {
            "error": error
        }
    return confirm_page(
        request,
        title=_("End contract"),
        message=message,
        button=_("End the contract today"),
        cancel_url=cancel,
        status=400 if error else 200,
    )


@admin_required
@GET_POST
def contract_remove(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _contract(request, pk)
    org_pk = contract.organization_id
    if request.method == "POST":
        contract_delete(contract=contract)
        messages.success(request, _("Contract deleted."))
        return redirect("console-org", pk=org_pk)
    return confirm_page(
        request,
        title=_("Delete contract"),
        message=_(
            "Delete %(org)s's %(package)s contract (%(start)s to %(end)s)? It disappears from "
            "their history; to stop it from today, end it instead."
        )
        % {
            "org": contract.organization.name,
            "package": contract.package.name,
            "start": contract.starts_on.isoformat(),
            "end": contract.ends_on.isoformat() if contract.ends_on else _("open-ended"),
        },
        button=_("Delete contract"),
        cancel_url=reverse("console-org", args=[org_pk]),
        danger=True,
    )


# --- adding a contact ---------------------------------------------------------------------------


@admin_required
@GET_POST
def organization_contact_new(request: HttpRequest, organization_pk: int) -> HttpResponse:
    tenant = _tenant(request)
    org = _org(request, organization_pk)
    form = ContactAddForm(posted(request), auto_id="contact_%s")
    if request.method != "POST":
        return render_console(
            request, "console/people/contact_add.html", {"form": form, "organization": org}
        )
    if form.is_valid():
        data = form.cleaned_data
        released = 0
        try:
            with transaction.atomic():
                contact = contact_add(
                    tenant=tenant,
                    organization=org,
                    email=data["email"],
                    name=data["name"].strip(),
                    role=data["role"],
                )
                if contact.is_verified_contact:
                    # Someone who signed up and waited as a pending contact is verified by
                    # being added: what they sent meanwhile is released, as on the verify page.
                    released = held_ticket_count(tenant=tenant, contact=contact)
                    contact_verify(
                        tenant=tenant, contact=contact, organization=org, role=data["role"]
                    )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            text = _("%(email)s is a contact of %(org)s (%(role)s).") % {
                "email": contact.user.email,
                "org": org.name,
                "role": Membership.ContactRole(contact.contact_role).label,
            }
            if released:
                text += " " + released_text(released)
            messages.success(request, text)
            return redirect("console-org", pk=org.pk)
    return _detail(request, org, contact_form=form, status=400)
