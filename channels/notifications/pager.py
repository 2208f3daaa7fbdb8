"""Pager / SMS backends, chosen by ``settings.PAGER_BACKEND`` (a dotted path):

* :class:`ConsoleBackend` (default): logs the page (development, tests);
* :class:`HttpBackend`: POSTs ``{"to", "text", "reference", "key"}`` as JSON to
  ``settings.PAGER_HTTP_URL`` with ``Authorization: Bearer <PAGER_HTTP_TOKEN>`` — a generic
  shape that an SMS provider's webhook, or a small adapter in front of one, accepts.

A backend raises :class:`PagerError` when the page did not go out; the delivery is retried.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("helpdesk.pager")

# The console backend's outbox, for tests and for `make run` (bounded).
sent: list[dict[str, str]] = []


class PagerError(RuntimeError):
    pass


class PagerBackend(Protocol):
    def send(self, *, to: str, text: str, reference: str, key: str) -> None: ...


class ConsoleBackend:
    def send(self, *, to: str, text: str, reference: str, key: str) -> None:
        logger.warning("PAGE to %s [%s]: %s", to, reference, text)
        sent.append({"to": to, "text": text, "reference": reference, "key": key})
        del sent[:-1000]


class HttpBackend:
    def __init__(self, url: str | None = None, token: str | None = None, timeout: float = 10):
        self.url: str = url or getattr(settings, "PAGER_HTTP_URL", "") or ""
        self.token: str = (
            token if token is not None else getattr(settings, "PAGER_HTTP_TOKEN", "") or ""
        )
        self.timeout = timeout

    def send(self, *, to: str, text: str, reference: str, key: str) -> None:
        if not self.url.startswith(("https://", "http://")):
            raise PagerError("PAGER_HTTP_URL is not set")
        body = json.dumps({"to": to, "text": text, "reference": reference, "key": key}).encode()
        request = urllib.request.Request(  # noqa: S310 - the operator's configured URL
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.token}",
                # Providers that dedupe use it: a retried page is the same page.
                "Idempotency-Key": key,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                if not 200 <= response.status < 300:
                    raise PagerError(f"pager provider answered {response.status}")
        except urllib.error.HTTPError as exc:
            raise PagerError(f"pager provider answered {exc.code}") from exc
        except OSError as exc:
            raise PagerError(f"pager provider unreachable: {exc}") from exc


def pager_backend() -> PagerBackend:
    """A fresh backend per page (cheap), so a settings change applies at once."""
    path = getattr(settings, "PAGER_BACKEND", "channels.notifications.pager.ConsoleBackend")
    backend: PagerBackend = import_string(path)()
    return backend
