"""``/manage/packages/``: support packages with their SLA matrix, and the tenant's SLA policy
(``/manage/packages/policy/``). Saving a package goes through ``package_update``, which
recomputes the open tickets' clocks."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, ProtectedError, RestrictedError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from console.common import add_service_errors, render_console, tenant_of
from helpdesk.models import Tenant
from sla.models import BusinessCalendar, Contract, SLAPolicy, SupportPackage
from sla.selectors import package_get, packages_for_tenant, severities_for_tenant, sla_policy_for
from sla.services import (
    package_create,
    package_delete,
    package_update,
    sla_policy_get_or_create,
    sla_policy_update,
)

from ..access import admin_required
from .matrix import Matrix
from .package_forms import PackageForm, SLAPolicyForm


def _default_package_id(tenant: Tenant) -> int | None:
    policy = sla_policy_for(tenant=tenant)
    return policy.default_package_id if policy else None


@admin_required
@require_safe
def package_list(request: HttpRequest) -> HttpResponse:
    tenant = tenant_of(request)
    packages = packages_for_tenant(tenant=tenant).annotate(
        contract_count=Count("contracts", distinct=True)
    )
    return render_console(
        request,
        "console/service/package_list.html",
        {
            "packages": packages,
            "default_package_id": _default_package_id(tenant),
            "policy": sla_policy_for(tenant=tenant),
        },
    )


def _matrix(request: HttpRequest, package: SupportPackage | None) -> Matrix:
    tenant = tenant_of(request)
    return Matrix(
        severities=list(severities_for_tenant(tenant=tenant).order_by("rank", "id")),
        calendars=list(BusinessCalendar.objects.for_tenant(tenant).order_by("name", "id")),
        package=package,
        data=request.POST if request.method == "POST" else None,
    )


def _save(
    request: HttpRequest, form: PackageForm, matrix: Matrix, package: SupportPackage | None
) -> SupportPackage | None:
    form_ok = form.is_valid()
    if not (matrix.is_valid() and form_ok):
        return None
    data = form.cleaned_data
    values: dict[str, Any] = {
        "name": data["name"],
        "description": data["description"],
        "channels": data["channels"],
        "severities": matrix.covered(),
        "targets": matrix.targets(),
    }
    try:
        with transaction.atomic():
            if package is None:
                return package_create(tenant=tenant_of(request), **values)
            return package_update(package=package, **values)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for name, errors in exc.error_dict.items():
                for error in errors:
                    if name in form.fields:
                        form.add_error(name, error.messages)
                    else:
                        matrix.add_error(" ".join(error.messages))
        else:
            matrix.add_error(" ".join(exc.messages))
    return None


def _edit_page(
    request: HttpRequest,
    form: PackageForm,
    matrix: Matrix,
    package: SupportPackage | None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {"form": form, "matrix": matrix, "package": package}
    if package is not None:
        context["contracts"] = (
            Contract.objects.for_tenant(package.tenant_id)
            .filter(package=package)
            .select_related("organization")
            .order_by("organization__name", "starts_on")
        )
        context["is_default"] = _default_package_id(tenant_of(request)) == package.pk
    return render_console(request, "console/service/package_form.html", context, status=status)


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def package_new(request: HttpRequest) -> HttpResponse:
    form = PackageForm(request.POST if request.method == "POST" else None)
    matrix = _matrix(request, None)
    if request.method == "POST":
        package = _save(request, form, matrix, None)
        if package is not None:
            messages.success(request, _("Package “%(name)s” created.") % {"name": package.name})
            return HttpResponseRedirect(reverse("console-package-edit", args=[package.pk]))
        return _edit_page(request, form, matrix, None, status=400)
    form = PackageForm(initial={"channels": ["web", "email"]})
    return _edit_page(request, form, matrix, None)


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def package_edit(request: HttpRequest, pk: int) -> HttpResponse:
    package = package_get(tenant=tenant_of(request), package_id=pk)
    matrix = _matrix(request, package)
    if request.method == "POST":
        form = PackageForm(request.POST)
        saved = _save(request, form, matrix, package)
        if saved is not None:
            messages.success(
                request,
                _("Package “%(name)s” saved; the open tickets' clocks were recomputed.")
                % {"name": saved.name},
            )
            return HttpResponseRedirect(reverse("console-package-edit", args=[saved.pk]))
        return _edit_page(request, form, matrix, package, status=400)
    form = PackageForm(initial=PackageForm.initial_for(package))
    return _edit_page(request, form, matrix, package)


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def package_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = tenant_of(request)
    package = package_get(tenant=tenant, package_id=pk)
    contracts = list(
        Contract.objects.for_tenant(tenant)
        .filter(package=package)
        .select_related("organization")
        .order_by("organization__name", "starts_on")
    )
    is_default = _default_package_id(tenant) == package.pk
    error = ""
    if contracts or is_default:
        error = _(
            "“%(name)s” cannot be deleted while organizations hold it or it is the default "
            "package; end those contracts or change the SLA policy first."
        ) % {"name": package.name}
    elif request.method == "POST":
        try:
            with transaction.atomic():
                package_delete(package=package)
        except (ProtectedError, RestrictedError):
            error = _("The package came into use meanwhile; it was not deleted.")
        else:
            messages.success(request, _("Package “%(name)s” deleted.") % {"name": package.name})
            return HttpResponseRedirect(reverse("console-package-list"))
    return render_console(
        request,
        "console/service/package_delete.html",
        {"package": package, "contracts": contracts, "is_default": is_default, "error": error},
        status=409 if error and request.method == "POST" else 200,
    )


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def package_policy(request: HttpRequest) -> HttpResponse:
    tenant = tenant_of(request)
    policy = sla_policy_get_or_create(tenant=tenant)
    if request.method == "POST":
        form = SLAPolicyForm(request.POST, tenant=tenant)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    sla_policy_update(
                        tenant=tenant,
                        no_contract_rule=data["no_contract_rule"],
                        default_package=data["default_package"],
                        no_contract_note=data["no_contract_note"],
                        pause_on_hold=data["pause_on_hold"],
                        description=data["description"],
                    )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request, _("SLA policy saved; the open tickets' clocks were recomputed.")
                )
                return HttpResponseRedirect(reverse("console-package-policy"))
        status = 400
    else:
        form = SLAPolicyForm(initial=SLAPolicyForm.initial_for(policy), tenant=tenant)
        status = 200
    return render_console(
        request,
        "console/service/package_policy.html",
        {"form": form, "policy": policy, "rules": SLAPolicy.NoContractRule},
        status=status,
    )
