"""The provider inbound webhook: Mailgun's inbound route (``forward()``) posts each message to
``POST /email/inbound/mailgun/<mailbox id>/`` on the tenant's host.

django-anymail does the provider's part: its Mailgun view verifies the HMAC-SHA256 signature
(timestamp + token, keyed with the Mailgun webhook signing key) and normalises both of
Mailgun's formats into one message. The signing key is the mailbox's own (an admin enters it in
the console), so each tenant may bring its own Mailgun account; a mailbox without one has no
webhook (404). The raw MIME (a route URL ending in ``mime`` makes Mailgun post ``body-mime``)
goes to the pipeline byte for byte; a "fully parsed" post is rebuilt as MIME by anymail first.

A GET answers what the endpoint is (so that an admin can check the URL), and nothing else.
"""

from __future__ import annotations

from typing import Any

from anymail.webhooks.mailgun import MailgunInboundWebhookView
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt

from .inbound import inbound_ingest
from .models import InboundEmail, Mailbox


class MailgunInboundView(MailgunInboundWebhookView):
    http_method_names = ["get", "post", "head", "options"]
    mailbox: Mailbox

    @method_decorator(csrf_exempt)
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        mailbox = (
            Mailbox.objects.for_tenant(tenant)
            .filter(pk=kwargs["mailbox_id"])
            .exclude(webhook_signing_key="")
            .select_related("tenant")
            .first()
            if tenant is not None
            else None
        )
        if mailbox is None:
            raise Http404("No such mailbox")
        self.mailbox = mailbox
        # The anymail view verifies with this key (validate_request).
        self.webhook_signing_key = mailbox.webhook_signing_key.encode("ascii", "replace")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return JsonResponse(
            {
                "detail": "Mailgun inbound webhook: POST signed messages here.",
                "mailbox": self.mailbox.pk,
            }
        )

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.run_validators(request)  # a wrong signature raises: Django answers 400
        if "body-mime" in request.POST:
            raw = request.POST["body-mime"].encode("utf-8", "surrogateescape")
        else:
            event = self.esp_to_anymail_event(request)
            raw = event.message.as_bytes()
        row = inbound_ingest(
            tenant=self.mailbox.tenant,
            raw=raw,
            source=InboundEmail.Source.WEBHOOK,
            mailbox=self.mailbox,
        )
        return JsonResponse({"outcome": row.outcome, "inbound": row.pk})
