"""``/manage/branding/``: the desk's name, colour, logo, support address, time zone, ticket
prefix and sign-up; and the uploaded logo itself, served to everyone on the tenant's host."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from console.common import render_console, tenant_of

from ..access import admin_required
from .common import save_or_errors
from .forms import BrandingForm
from .services import (
    LOGO_NAME,
    LOGO_TYPES,
    branding_logo_store,
    logo_path,
    tenant_branding_update,
    uploaded_logo_name,
)

LOGO_CONTENT_TYPES = {ext: content_type for content_type, ext in LOGO_TYPES.items()}


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def branding(request: HttpRequest) -> HttpResponse:
    tenant = tenant_of(request)
    uploaded = uploaded_logo_name(tenant, tenant.logo_url) if tenant.logo_url else None
    if request.method == "POST":
        form = BrandingForm(request.POST, request.FILES, tenant=tenant)
        if form.is_valid():
            data = form.cleaned_data
            old_prefix = tenant.ticket_prefix

            def write() -> Any:
                logo_url: str | None = data["logo_url"] or ("" if not uploaded else None)
                if data["remove_logo"]:
                    logo_url = ""
                elif data["logo_file"] is not None:
                    logo_url = branding_logo_store(tenant=tenant, upload=data["logo_file"])
                return tenant_branding_update(
                    tenant=tenant,
                    name=data["name"],
                    brand_color=data["brand_color"],
                    logo_url=logo_url,
                    support_email=data["support_email"],
                    ticket_prefix=data["ticket_prefix"],
                    time_zone=data["time_zone"],
                    allow_signup=data["allow_signup"],
                )

            if save_or_errors(form, write) is not None:
                messages.success(request, _("Saved the branding."))
                if tenant.ticket_prefix != old_prefix:
                    messages.info(
                        request,
                        _("Tickets are now shown as %(prefix)s-….")
                        % {"prefix": tenant.ticket_prefix},
                    )
                return HttpResponseRedirect(reverse("console-branding"))
            tenant.refresh_from_db()
    else:
        initial = {
            field: getattr(tenant, field)
            for field in (
                "name",
                "brand_color",
                "support_email",
                "time_zone",
                "ticket_prefix",
                "allow_signup",
            )
        }
        initial["logo_url"] = "" if uploaded else tenant.logo_url
        form = BrandingForm(initial=initial, tenant=tenant)
    context = {"form": form, "uploaded_logo": uploaded}
    status = 400 if form.errors else 200
    return render_console(request, "console/catalogs/branding.html", context, status)


@require_safe
def brand_logo(request: HttpRequest, logo_name: str) -> FileResponse:
    """The tenant's uploaded logo, for anyone (customers see it on the portal). Only files in
    this tenant's folder: another tenant's name is a 404 like any unknown one."""
    if not LOGO_NAME.match(logo_name):
        raise Http404
    path = logo_path(tenant_of(request), logo_name)
    try:
        handle = default_storage.open(path, "rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    content_type = LOGO_CONTENT_TYPES[logo_name.rsplit(".", 1)[1]]
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    # The name carries the content's hash: a new logo is a new URL.
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
