"""Attachments: checked against the tenant's limits, streamed to storage in chunks while being
hashed (a large upload is never held in memory), typed by sniffing their bytes."""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
import unicodedata
from collections.abc import Iterator
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from helpdesk.models import Membership, User

from .. import outbox
from ..models import Attachment, Message, Ticket, TicketEvent
from ..sniff import HEAD_BYTES, sniff
from .catalog import ticket_settings_for
from .events import event_record, touch

CHUNK_BYTES = 64 * 1024
FILENAME_MAX = 255
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


class TooLarge(Exception):
    pass


def filename_clean(name: str) -> str:
    """The real name, any Unicode, minus what could mislead or break a header: path parts,
    control characters and bidirectional overrides ("invoice\u202efdp.exe")."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf"))
    name = _UNSAFE.sub("", name).strip().strip(".") or "attachment"
    if len(name) > FILENAME_MAX:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            name = stem[: FILENAME_MAX - len(ext) - 1] + "." + ext
        else:
            name = name[:FILENAME_MAX]
    return name


class _HashingFile(File):
    """A File over ``head`` + the rest of ``stream`` that hashes, counts and enforces the size
    limit as storage pulls its chunks, so nothing larger than a chunk is ever in memory."""

    def __init__(self, head: bytes, stream: IO[bytes], limit: int, name: str) -> None:
        super().__init__(None, name=name)
        self._head = head
        self._stream = stream
        self._limit = limit
        self.sha256 = hashlib.sha256()
        self.written = 0
        self._pending = b""

    @property
    def size(self) -> int:  # unknown until streamed; storage backends only ask for chunks
        return self.written

    def _feed(self, chunk: bytes) -> bytes:
        self.written += len(chunk)
        if self.written > self._limit:
            raise TooLarge
        self.sha256.update(chunk)
        return chunk

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        size = chunk_size or CHUNK_BYTES
        if self._head:
            yield self._feed(self._head)
            self._head = b""
        while True:
            chunk = self._stream.read(size)
            if not chunk:
                return
            yield self._feed(chunk)

    def read(self, size: int = -1) -> bytes:
        # For storages that read() instead of iterating chunks: still bounded per call.
        want = CHUNK_BYTES if size is None or size < 0 or size > CHUNK_BYTES else size
        if self._head:
            out, self._head = self._head[:want], self._head[want:]
            return self._feed(out)
        return self._feed(self._stream.read(want) or b"")

    def multiple_chunks(self, chunk_size: int | None = None) -> bool:
        return True

    def open(self, mode: str | None = None, *args: Any, **kwargs: Any) -> _HashingFile:
        return self

    def close(self) -> None:
        pass

    def __bool__(self) -> bool:
        return True


def _read_head(stream: IO[bytes]) -> bytes:
    head = b""
    while len(head) < HEAD_BYTES:
        chunk = stream.read(HEAD_BYTES - len(head))
        if not chunk:
            break
        head += chunk
    return head


def _storage_name(tenant_id: int) -> str:
    now = timezone.now()
    return f"attachments/{tenant_id}/{now:%Y/%m}/{secrets.token_hex(16)}"


def attachment_add(
    *,
    ticket: Ticket,
    upload: Any,
    filename: str | None = None,
    declared_content_type: str = "",
    by: User | None,
    message: Message | None = None,
) -> Attachment:
    """Store ``upload`` (an UploadedFile or any binary file-like object) on ``ticket``.

    Refused (ValidationError naming ``file``) when larger than the tenant's limit — before
    reading when the size is known, else as soon as the stream passes it — or when the type
    sniffed from the bytes is not in the tenant's allowlist. The real filename is kept
    (any Unicode); storage gets a random name under the tenant's own path. Customers see the
    attachment when it is on a public message, or when a customer uploaded it.

    Preconditions: ``by`` may see the ticket (``ticket_get_for_user``); ``message`` is the
    ticket's."""
    if ticket.status == Ticket.Status.CLOSED:
        raise ValidationError({"file": "This ticket is closed."})
    if message is not None and message.ticket_id != ticket.pk:
        raise ValidationError({"message": "Unknown message."})
    settings = ticket_settings_for(tenant=ticket.tenant_id)
    limit = settings.max_attachment_bytes
    too_large = f"The file is larger than {filesizeformat(limit)}."
    known_size = getattr(upload, "size", None)
    if isinstance(known_size, int) and known_size > limit:
        raise ValidationError({"file": too_large})
    name = filename_clean(filename or getattr(upload, "name", "") or "")
    declared = (declared_content_type or getattr(upload, "content_type", "") or "")[:127]
    stream = upload.file if hasattr(upload, "chunks") and hasattr(upload, "file") else upload
    if hasattr(stream, "seek"):
        with contextlib.suppress(OSError, ValueError):
            stream.seek(0)
    head = _read_head(stream)
    content_type = sniff(head, declared)
    if content_type not in settings.allowed_content_types:
        raise ValidationError({"file": f"Files of type {content_type} are not accepted here."})
    name_wanted = _storage_name(ticket.tenant_id)
    hashing = _HashingFile(head, stream, limit, name=name_wanted)
    try:
        stored = default_storage.save(name_wanted, hashing)
    except TooLarge:
        # The storage stopped mid-file: remove what it wrote (the name is ours and random).
        default_storage.delete(name_wanted)
        raise ValidationError({"file": too_large}) from None
    try:
        return _attachment_row(ticket, message, stored, name, content_type, declared, hashing, by)
    except BaseException:
        default_storage.delete(stored)
        raise


@transaction.atomic
def _attachment_row(
    ticket: Ticket,
    message: Message | None,
    stored: str,
    name: str,
    content_type: str,
    declared: str,
    hashing: _HashingFile,
    by: User | None,
) -> Attachment:
    staff = (
        by is not None
        and Membership.objects.for_tenant(ticket.tenant_id)
        .filter(user=by, is_active=True, role__in=(Membership.Role.ADMIN, Membership.Role.AGENT))
        .exists()
    )
    attachment = Attachment(
        tenant_id=ticket.tenant_id,
        ticket=ticket,
        message=message,
        filename=name,
        content_type=content_type,
        declared_content_type=declared,
        size=hashing.written,
        sha256=hashing.sha256.hexdigest(),
        public=message.public if message is not None else not staff,
        uploaded_by=by,
    )
    attachment.file.name = stored
    attachment.save()
    event_record(
        ticket=ticket,
        kind=TicketEvent.Kind.ATTACHMENT_ADDED,
        by=by,
        after={
            "id": attachment.pk,
            "filename": name,
            "size": attachment.size,
            "content_type": content_type,
            "public": attachment.public,
        },
    )
    touch(ticket)
    outbox.publish(
        "attachment.created",
        tenant_id=ticket.tenant_id,
        ticket_id=ticket.pk,
        attachment_id=attachment.pk,
    )
    return attachment
