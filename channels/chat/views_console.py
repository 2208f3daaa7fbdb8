"""``/manage/chat/``: the tenant's chat settings (on/off, whether anonymous visitors may chat,
the sites that may embed the chat page, the welcome text) and the snippet to paste on a site."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from console.access import admin_required
from console.nav import console_nav
from helpdesk.models import Tenant

from .forms import SettingsForm
from .selectors import chat_settings_for
from .services import chat_settings_update


@require_http_methods(["GET", "HEAD", "POST"])
@admin_required
def chat_settings(request: HttpRequest) -> HttpResponse:
    tenant: Tenant = request.tenant  # type: ignore[attr-defined]
    current = chat_settings_for(tenant=tenant)
    if request.method == "POST":
        form = SettingsForm(request.POST)
        if form.is_valid():
            try:
                chat_settings_update(
                    tenant=tenant,
                    enabled=form.cleaned_data["enabled"],
                    allowed_origins=form.origins(),
                    welcome_text=form.cleaned_data["welcome_text"],
                    anonymous_visitors=form.cleaned_data["anonymous_visitors"],
                )
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                messages.success(request, _("Chat settings saved."))
                return HttpResponseRedirect(reverse("console-chat"))
    else:
        form = SettingsForm(
            initial={
                "enabled": current.enabled,
                "allowed_origins": "\n".join(current.allowed_origins or []),
                "welcome_text": current.welcome_text,
                "anonymous_visitors": current.anonymous_visitors,
            }
        )
    embed_src = request.build_absolute_uri(reverse("chat-embed-js"))
    context = {**console_nav(request), "form": form, "embed_src": embed_src}
    return render(
        request, "chat/console_settings.html", context, status=400 if form.errors else 200
    )
