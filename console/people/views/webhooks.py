"""/manage/webhooks/: outbound webhook subscriptions, their signing secrets and delivery logs."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from channels.webhooks.models import WebhookSubscription
from channels.webhooks.services import (
    webhook_subscription_create,
    webhook_subscription_delete,
    webhook_subscription_update,
)
from console.access import admin_required
from console.common import add_service_errors, paginate, render_console
from helpdesk.models import Tenant

from ..forms import WebhookEditForm, WebhookForm
from ..selectors import tenant_object_or_404, webhook_deliveries
from ..services import webhook_secret_rotate
from .common import confirm_page, no_store, posted

GET_POST = require_http_methods(["GET", "HEAD", "POST"])


def _tenant(request: HttpRequest) -> Tenant:
    return request.tenant  # type: ignore[attr-defined]


def _subscription(request: HttpRequest, pk: int) -> WebhookSubscription:
    return tenant_object_or_404(WebhookSubscription.objects.all(), tenant=_tenant(request), pk=pk)


def _secret_page(
    request: HttpRequest, subscription: WebhookSubscription, secret: str, *, created: bool
) -> HttpResponse:
    # Rendered in the POST's answer, never stored for a later page: shown this once.
    return no_store(
        render_console(
            request,
            "console/people/webhook_secret.html",
            {"subscription": subscription, "secret": secret, "created": created},
        )
    )


@admin_required
@require_safe
def webhook_list(request: HttpRequest) -> HttpResponse:
    subscriptions = WebhookSubscription.objects.for_tenant(_tenant(request)).order_by("id")
    return render_console(
        request, "console/people/webhook_list.html", {"subscriptions": subscriptions}
    )


@admin_required
@GET_POST
def webhook_new(request: HttpRequest) -> HttpResponse:
    form = WebhookForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            subscription, secret = webhook_subscription_create(
                tenant=_tenant(request),
                url=data["url"],
                events=data["events"],
                description=data["description"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _secret_page(request, subscription, secret, created=True)
    return render_console(
        request,
        "console/people/webhook_form.html",
        {"form": form, "subscription": None},
        status=400 if form.errors else 200,
    )


@admin_required
@GET_POST
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _subscription(request, pk)
    initial = {
        "url": subscription.url,
        "description": subscription.description,
        "events": subscription.events,
        "active": subscription.active,
    }
    form = WebhookEditForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            webhook_subscription_update(
                subscription=subscription,
                url=data["url"],
                events=data["events"],
                description=data["description"],
                active=data["active"],
            )
        except ValidationError as exc:
            subscription.refresh_from_db()
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Webhook saved."))
            return redirect("console-webhook", pk=subscription.pk)
    page = paginate(request, webhook_deliveries(tenant=_tenant(request), subscription=subscription))
    return render_console(
        request,
        "console/people/webhook_detail.html",
        {"form": form, "subscription": subscription, "page": page},
        status=400 if form.errors else 200,
    )


@admin_required
@GET_POST
def webhook_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _subscription(request, pk)
    if request.method == "POST":
        secret = webhook_secret_rotate(subscription=subscription)
        return _secret_page(request, subscription, secret, created=False)
    return confirm_page(
        request,
        title=_("Rotate signing secret"),
        message=_(
            "Deliveries to %(url)s will be signed with a new secret from now on; signatures "
            "made with the current one stop verifying. Update the receiver right away."
        )
        % {"url": subscription.url},
        button=_("Rotate secret"),
        cancel_url=reverse("console-webhook", args=[subscription.pk]),
        danger=True,
    )


@admin_required
@GET_POST
def webhook_enable(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _subscription(request, pk)
    if request.method == "POST":
        if not subscription.active:
            webhook_subscription_update(subscription=subscription, active=True)
            messages.success(request, _("Webhook re-enabled; its failure count is reset."))
        else:
            messages.info(request, _("This webhook is already active."))
        return redirect("console-webhook", pk=subscription.pk)
    return confirm_page(
        request,
        title=_("Re-enable webhook"),
        message=_(
            "Deliveries to %(url)s resume for new events; the failure count starts again at 0. "
            "Events missed while it was disabled are not resent."
        )
        % {"url": subscription.url},
        facts=[(_("Consecutive failures"), str(subscription.failure_count))],
        button=_("Re-enable"),
        cancel_url=reverse("console-webhook", args=[subscription.pk]),
    )


@admin_required
@GET_POST
def webhook_remove(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _subscription(request, pk)
    if request.method == "POST":
        webhook_subscription_delete(subscription=subscription)
        messages.success(request, _("Webhook deleted."))
        return redirect("console-webhooks")
    return confirm_page(
        request,
        title=_("Delete webhook"),
        message=_("Delete the subscription of %(url)s and its delivery log?")
        % {"url": subscription.url},
        button=_("Delete webhook"),
        cancel_url=reverse("console-webhook", args=[subscription.pk]),
        danger=True,
    )
