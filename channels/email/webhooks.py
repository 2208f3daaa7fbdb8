"""The provider inbound webhook: Mailgun's inbound route (``forward()``) posts each message to
``POST /email/inbound/mailgun/<mailbox id>/`` on the tenant's host.

django-anymail does the provider's part: its Mailgun view verifies the HMAC-SHA256 signature
(timestamp + token, keyed with the Mailgun webhook signing key, compared in constant time) and
normalises both of Mailgun's formats into one message. The signing key is the mailbox's own (an
admin enters it in the console), so each tenant may bring its own Mailgun account; a mailbox
without one has no webhook (404). The raw MIME (a route URL ending in ``mime`` makes Mailgun post
``body-mime``) goes to the pipeline byte for byte; a "fully parsed" post is rebuilt as MIME by
anymail first.

Mailgun posts ``multipart/form-data``, and ``body-mime`` is a form *field*: Django would hold it
in memory and refuse anything over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB), losing every mail
with a few screenshots. So this view reads the body itself, streaming
(``channels.email.webhook_form``): the message and its text fields go to temporary files, the
small fields (timestamp, token, signature, recipient …) stay in memory, capped, and the request
is capped at the pipeline's message limit plus 1 MiB for the rest of the form (413 beyond). The
small fields then stand in for ``request.POST`` (and the file parts for ``request.FILES``), so
anymail's own validators check the signature, before anything is stored. The pipeline takes
bytes, so the raw message is read from its temporary file once, after the signature holds.
Anymail applies no timestamp freshness check, and neither does this view: a replayed post is a
duplicate Message-ID, recorded as such.

A GET answers what the endpoint is (so that an admin can check the URL), and nothing else.
"""

from __future__ import annotations

import logging
from email.encoders import encode_base64
from email.message import Message
from typing import Any

from anymail.webhooks.mailgun import MailgunInboundWebhookView
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.utils.datastructures import MultiValueDict
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt

from helpdesk.api.exceptions import PROBLEM_CONTENT_TYPE, problem

from .inbound import inbound_ingest, max_message_bytes
from .models import InboundEmail, Mailbox
from .webhook_form import FormRefused, multipart_read

logger = logging.getLogger(__name__)

# Room for the form around the message: Mailgun's other fields and the multipart framing.
FORM_ALLOWANCE = 1 << 20
# Mailgun's fields that carry the message or its text, of any size: spooled while the request
# is read, never held in memory then. The others are a few hundred bytes each.
SPOOLED_FIELDS = frozenset(
    {
        "body-mime",
        "body-plain",
        "body-html",
        "stripped-text",
        "stripped-html",
        "stripped-signature",
        "message-headers",
    }
)
_TITLES = {400: "Invalid request", 413: "Content too large"}


def request_max_bytes() -> int:
    """The largest request the webhook reads: the pipeline's message limit and the form."""
    return max_message_bytes() + FORM_ALLOWANCE


def _install(request: HttpRequest, post: QueryDict, files: MultiValueDict[str, Any]) -> None:
    # Where Django's own parser leaves its result: request.POST and request.FILES (and anymail,
    # which reads them) answer from these; Django closes the files at the end of the request.
    request._post = post  # type: ignore[attr-defined]
    request._files = files  # type: ignore[attr-defined]


def _as_bytes(message: Message) -> bytes:
    """A "fully parsed" post rebuilt as MIME. Anymail sets each posted file as the raw bytes of
    its part, without a transfer encoding, and the generator then rewrites the line breaks
    inside them (a binary attachment lost bytes); base64 keeps them byte for byte."""
    for part in message.walk():
        if (
            not part.is_multipart()
            and part.get_content_disposition() in ("attachment", "inline")
            and "Content-Transfer-Encoding" not in part
        ):
            encode_base64(part)
    return message.as_bytes()


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
        if request.content_type != "multipart/form-data":
            return self._post_small(request)
        try:
            form = multipart_read(request, limit=request_max_bytes(), spool=SPOOLED_FIELDS)
        except FormRefused as exc:
            logger.warning("Mailgun webhook for mailbox %s refused: %s", self.mailbox.pk, exc)
            body = problem(exc.status, str(exc), code="inbound-webhook-refused")
            body["title"] = _TITLES.get(exc.status, body["title"])
            return JsonResponse(body, status=exc.status, content_type=PROBLEM_CONTENT_TYPE)
        with form:
            _install(request, form.fields, form.files)
            self.run_validators(request)  # a wrong signature raises: Django answers 400
            # Mailgun posts it as a field; a file part of that name is taken as well.
            mime = form.spooled.get("body-mime") or form.files.get("body-mime")
            if mime is not None:
                raw = mime.read()  # the pipeline takes bytes: the one full copy
            else:
                # A "fully parsed" post: anymail reads the text fields from request.POST.
                for name, spooled in form.spooled.items():
                    form.fields[name] = spooled.read().decode("utf-8", "replace")
                raw = _as_bytes(self.esp_to_anymail_event(request).message)
        return self._ingest(raw)

    def _post_small(self, request: HttpRequest) -> HttpResponse:
        """Any other form encoding, through Django's parser and its size limits."""
        self.run_validators(request)
        if "body-mime" in request.POST:
            raw = request.POST["body-mime"].encode("utf-8", "surrogateescape")
        else:
            raw = _as_bytes(self.esp_to_anymail_event(request).message)
        return self._ingest(raw)

    def _ingest(self, raw: bytes) -> HttpResponse:
        row = inbound_ingest(
            tenant=self.mailbox.tenant,
            raw=raw,
            source=InboundEmail.Source.WEBHOOK,
            mailbox=self.mailbox,
        )
        return JsonResponse({"outcome": row.outcome, "inbound": row.pk})
