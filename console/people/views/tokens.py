"""/manage/tokens/: every API token of the tenant; create one for a member (key shown once);
revoke."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from console.access import admin_required
from console.common import add_service_errors, paginate, render_console
from helpdesk.models import ApiToken, Tenant
from helpdesk.services import api_token_create, api_token_revoke

from ..forms import TokenForm
from ..selectors import api_tokens_of, tenant_object_or_404
from .common import confirm_page, no_store, posted

GET_POST = require_http_methods(["GET", "HEAD", "POST"])


def _tenant(request: HttpRequest) -> Tenant:
    return request.tenant  # type: ignore[attr-defined]


@admin_required
@require_safe
def token_list(request: HttpRequest) -> HttpResponse:
    return render_console(
        request,
        "console/people/token_list.html",
        {"page": paginate(request, api_tokens_of(tenant=_tenant(request))), "now": timezone.now()},
    )


@admin_required
@GET_POST
def token_new(request: HttpRequest) -> HttpResponse:
    tenant = _tenant(request)
    form = TokenForm(posted(request), tenant=tenant)
    if request.method == "POST" and form.is_valid():
        try:
            token, key = api_token_create(
                tenant=tenant,
                membership=form.cleaned_data["membership"],
                name=form.cleaned_data["name"],
                expires_at=form.expires_at(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            # Rendered in the POST's answer and never stored: only the key's hash is kept.
            return no_store(
                render_console(
                    request, "console/people/token_created.html", {"token": token, "key": key}
                )
            )
    return render_console(
        request,
        "console/people/token_form.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@admin_required
@GET_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = _tenant(request)
    token = tenant_object_or_404(
        ApiToken.objects.select_related("membership__user"), tenant=tenant, pk=pk
    )
    if request.method == "POST":
        if token.revoked_at is None:
            api_token_revoke(tenant=tenant, token=token)
            messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
        else:
            messages.info(request, _("This token was already revoked."))
        return redirect("console-tokens")
    return confirm_page(
        request,
        title=_("Revoke token %(name)s") % {"name": token.name},
        message=_(
            "Requests with this token (%(prefix)s…, acting as %(owner)s) are refused from now on. "
            "This cannot be undone; create a new token if one is needed again."
        )
        % {"prefix": token.key_prefix, "owner": token.membership.user.email},
        button=_("Revoke token"),
        cancel_url=reverse("console-tokens"),
        danger=True,
    )
