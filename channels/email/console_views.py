"""``/manage/email/``: the tenant's email addresses, the inbound log and the quarantine (admins
only). Quarantined raw bytes are shown as escaped text, cut at a size, and downloadable as an
attachment that no browser renders."""

from __future__ import annotations

import re

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from console.access import admin_required
from console.catalogs.common import delete_or_error, save_or_errors
from console.common import render_console, tenant_of

from .console_forms import MailboxForm
from .imap import imap_test_connection
from .mailboxes import mailbox_delete, mailbox_save, quarantine_retry
from .models import InboundEmail, Mailbox

LOG_ROWS = 100
RAW_PREVIEW_BYTES = 256 * 1024


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _printable(text: str) -> str:
    """Control characters (NUL, escape …) as visible ``\\xNN``: shown, never acted upon."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def _quarantined(request: HttpRequest) -> object:
    return (
        InboundEmail.objects.for_tenant(tenant_of(request))
        .filter(outcome=InboundEmail.Outcome.QUARANTINED, released_at__isnull=True)
        .select_related("mailbox")
    )


@require_http_methods(["GET", "HEAD", "POST"])
@admin_required
def email_index(request: HttpRequest) -> HttpResponse:
    tenant = tenant_of(request)
    form = MailboxForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        row = save_or_errors(form, lambda: mailbox_save(tenant=tenant, **form.values()))
        if row is not None:
            messages.success(request, _("Added %(address)s.") % {"address": row.address})
            return HttpResponseRedirect(reverse("console-email"))
    context = {
        "mailboxes": Mailbox.objects.for_tenant(tenant),
        "form": form,
        "quarantine_count": _quarantined(request).count(),  # type: ignore[attr-defined]
        "recent": InboundEmail.objects.for_tenant(tenant).select_related("ticket__tenant")[:10],
    }
    return render_console(request, "console/email/index.html", context, 400 if form.errors else 200)


@require_http_methods(["GET", "HEAD", "POST"])
@admin_required
def mailbox_edit(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = tenant_of(request)
    mailbox = get_object_or_404(Mailbox.objects.for_tenant(tenant), pk=pk)
    connection_error: str | None = None
    if request.method == "POST" and request.POST.get("action") == "test":
        connection_error = imap_test_connection(mailbox)
        form = MailboxForm(initial=MailboxForm.initial_for(mailbox), editing=True)
    elif request.method == "POST":
        form = MailboxForm(request.POST, editing=True)
        if form.is_valid():
            saved = save_or_errors(
                form, lambda: mailbox_save(tenant=tenant, mailbox=mailbox, **form.values())
            )
            if saved is not None:
                messages.success(request, _("Saved %(address)s.") % {"address": saved.address})
                return HttpResponseRedirect(reverse("console-email"))
            mailbox.refresh_from_db()
    else:
        form = MailboxForm(initial=MailboxForm.initial_for(mailbox), editing=True)
    webhook_url = request.build_absolute_uri(
        reverse("email-inbound-mailgun", kwargs={"mailbox_id": mailbox.pk})
    )
    context = {
        "mailbox": mailbox,
        "form": form,
        "connection_error": connection_error,
        "webhook_url": webhook_url,
        "has_password": bool(mailbox.imap_password),
        "has_signing_key": bool(mailbox.webhook_signing_key),
    }
    return render_console(
        request, "console/email/mailbox_edit.html", context, 400 if form.errors else 200
    )


@require_http_methods(["GET", "HEAD", "POST"])
@admin_required
def mailbox_remove(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = tenant_of(request)
    mailbox = get_object_or_404(Mailbox.objects.for_tenant(tenant), pk=pk)
    back = reverse("console-email")
    error = None
    if request.method == "POST":
        address = mailbox.address
        error = delete_or_error(lambda: mailbox_delete(tenant=tenant, mailbox=mailbox), address)
        if error is None:
            messages.success(request, _("Deleted %(address)s.") % {"address": address})
            return HttpResponseRedirect(back)
    context = {
        "title": _("Email addresses"),
        "noun": _("email address"),
        "row": mailbox,
        "error": error,
        "back": back,
    }
    return render_console(
        request, "console/catalogs/confirm_delete.html", context, 409 if error else 200
    )


@require_safe
@admin_required
def inbound_log(request: HttpRequest) -> HttpResponse:
    tenant = tenant_of(request)
    outcome = request.GET.get("outcome", "")
    rows = InboundEmail.objects.for_tenant(tenant).select_related("mailbox", "ticket__tenant")
    if outcome in InboundEmail.Outcome.values:
        rows = rows.filter(outcome=outcome)
    else:
        outcome = ""
    context = {
        "rows": rows[:LOG_ROWS],
        "outcome": outcome,
        "outcomes": InboundEmail.Outcome.choices,
        "limit": LOG_ROWS,
    }
    return render_console(request, "console/email/log.html", context)


@require_safe
@admin_required
def quarantine_list(request: HttpRequest) -> HttpResponse:
    rows = _quarantined(request)[:LOG_ROWS]  # type: ignore[index]
    return render_console(request, "console/email/quarantine_list.html", {"rows": rows})


@require_http_methods(["GET", "HEAD", "POST"])
@admin_required
def quarantine_detail(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = tenant_of(request)
    row = get_object_or_404(
        InboundEmail.objects.for_tenant(tenant).select_related("mailbox"),
        pk=pk,
        outcome=InboundEmail.Outcome.QUARANTINED,
    )
    error = ""
    if request.method == "POST":
        try:
            result = quarantine_retry(tenant=tenant, row=row)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            if result.pk == row.pk:
                messages.error(
                    request, _("Quarantined again: %(reason)s") % {"reason": result.reason}
                )
                return HttpResponseRedirect(reverse("console-email-quarantine-detail", args=[pk]))
            messages.success(
                request,
                _("Processed again: %(outcome)s.") % {"outcome": result.get_outcome_display()},
            )
            return HttpResponseRedirect(reverse("console-email-quarantine"))
    preview = ""
    stored = bool(row.raw.name) and default_storage.exists(row.raw.name or "")
    if stored:
        with row.raw.open("rb") as handle:
            preview = _printable(handle.read(RAW_PREVIEW_BYTES).decode("utf-8", "replace"))
    context = {
        "row": row,
        "preview": preview,
        "stored": stored,
        "cut": stored and row.raw.size > RAW_PREVIEW_BYTES,
        "preview_limit": RAW_PREVIEW_BYTES,
        "error": error,
    }
    return render_console(
        request, "console/email/quarantine_detail.html", context, 409 if error else 200
    )


@require_safe
@admin_required
def quarantine_raw(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(
        InboundEmail.objects.for_tenant(tenant_of(request)),
        pk=pk,
        outcome=InboundEmail.Outcome.QUARANTINED,
    )
    if not row.raw.name or not default_storage.exists(row.raw.name):
        raise Http404("The raw message is no longer stored.")
    response = FileResponse(
        row.raw.open("rb"),
        as_attachment=True,
        filename=f"quarantined-{row.pk}.eml",
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response  # type: ignore[return-value]  # a FileResponse streams; the decorator is typed for HttpResponse
