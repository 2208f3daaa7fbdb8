"""/manage/contacts/: every contact of every organization; change role, verify, deactivate."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from console.access import admin_required
from console.common import add_service_errors, paginate, query_without_page, render_console
from helpdesk.models import Membership, Tenant
from helpdesk.services import contact_deactivate, contact_update, contact_verify

from ..forms import ContactEditForm, ContactFilterForm, ContactVerifyForm
from ..selectors import contacts_search, held_ticket_count, tenant_object_or_404
from .common import confirm_page, posted, released_text

GET_POST = require_http_methods(["GET", "HEAD", "POST"])
PENDING = Membership.ContactRole.PENDING


def _tenant(request: HttpRequest) -> Tenant:
    return request.tenant  # type: ignore[attr-defined]


def _contact(request: HttpRequest, pk: int) -> Membership:
    return tenant_object_or_404(
        Membership.objects.filter(role=Membership.Role.CUSTOMER).select_related(
            "user", "organization"
        ),
        tenant=_tenant(request),
        pk=pk,
    )


def _back(contact: Membership) -> str:
    if contact.organization_id is not None:
        return reverse("console-org", args=[contact.organization_id])
    return reverse("console-contacts")


@admin_required
@require_safe
def contact_list(request: HttpRequest) -> HttpResponse:
    tenant = _tenant(request)
    filters = ContactFilterForm(request.GET, tenant=tenant)
    data = filters.cleaned_data if filters.is_valid() else {}
    contacts = contacts_search(
        tenant=tenant,
        query=data.get("q") or "",
        role=data.get("role") or "",
        organization=data.get("organization"),
    )
    return render_console(
        request,
        "console/people/contact_list.html",
        {
            "filters": filters,
            "page": paginate(request, contacts),
            "query": query_without_page(request),
        },
    )


@admin_required
@GET_POST
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = _tenant(request)
    contact = _contact(request, pk)
    initial = {
        "name": contact.user.name,
        "organization": contact.organization_id,
        "role": contact.contact_role,
    }
    form = ContactEditForm(posted(request), tenant=tenant, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        role, organization = data["role"], data["organization"]
        released = 0
        try:
            with transaction.atomic():
                verifying = contact.contact_role == PENDING and role != PENDING
                contact_update(
                    tenant=tenant,
                    contact=contact,
                    name=data["name"],
                    role=None if verifying else role,
                    organization=organization,
                )
                if verifying:
                    # Leaving "pending" is a verification: held tickets go to the queue.
                    released = held_ticket_count(tenant=tenant, contact=contact)
                    contact_verify(
                        tenant=tenant, contact=contact, organization=organization, role=role
                    )
        except ValidationError as exc:
            contact.refresh_from_db()
            add_service_errors(form, exc)
        else:
            text = _("Contact saved.")
            if released:
                text += " " + released_text(released)
            messages.success(request, text)
            return redirect(_back(contact))
    return render_console(
        request,
        "console/people/contact_edit.html",
        {"form": form, "contact": contact, "back": _back(contact)},
        status=400 if form.errors else 200,
    )


@admin_required
@GET_POST
def contact_verify_view(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = _tenant(request)
    contact = _contact(request, pk)
    if contact.contact_role != PENDING:
        messages.info(request, _("%(email)s is already verified.") % {"email": contact.user.email})
        return redirect(_back(contact))
    held = held_ticket_count(tenant=tenant, contact=contact)
    form = ContactVerifyForm(
        posted(request), tenant=tenant, initial={"organization": contact.organization_id}
    )
    if request.method == "POST" and form.is_valid():
        try:
            contact_verify(
                tenant=tenant,
                contact=contact,
                organization=form.cleaned_data["organization"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            text = _("%(email)s is verified.") % {"email": contact.user.email}
            messages.success(request, f"{text} {released_text(held)}")
            return redirect(_back(contact))
    return confirm_page(
        request,
        title=_("Verify %(email)s") % {"email": contact.user.email},
        message=_(
            "Confirm that this person works for the organization and may file tickets for it."
        ),
        facts=[(_("Held tickets to release"), str(held))],
        button=_("Verify and release held tickets"),
        cancel_url=_back(contact),
        form=form,
        status=400 if form.errors else 200,
    )


@admin_required
@GET_POST
def contact_deactivate_view(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = _tenant(request)
    contact = _contact(request, pk)
    if request.method == "POST":
        contact_deactivate(tenant=tenant, contact=contact)
        messages.success(
            request, _("%(email)s can no longer sign in here.") % {"email": contact.user.email}
        )
        return redirect(_back(contact))
    return confirm_page(
        request,
        title=_("Deactivate %(email)s") % {"email": contact.user.email},
        message=_(
            "They can no longer sign in or use their API tokens here; their tickets and messages "
            "stay. Adding the same address again reactivates them."
        ),
        button=_("Deactivate contact"),
        cancel_url=_back(contact),
        danger=True,
    )
