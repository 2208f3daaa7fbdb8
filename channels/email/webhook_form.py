"""Streaming ``multipart/form-data`` for the provider inbound webhook.

Django holds every non-file form field in memory and refuses a request whose fields pass
``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB). Mailgun's raw-MIME route posts the whole message as
the *field* ``body-mime``, so a mail with a few screenshots was refused (400) and, once Mailgun
had given up retrying, lost. :func:`multipart_read` reads the body instead, in 64 KiB chunks,
through Werkzeug's sans-IO multipart decoder (the one behind ``werkzeug.formparser``; Django's
own parser cannot send a field anywhere but memory):

- the fields named in ``spool`` and every file part go to a temporary file, in memory up to
  256 KiB and on disk beyond;
- every other field is kept in memory, at most 64 KiB each and 1 MiB together (a Mailgun
  signature, recipient or subject is a few hundred bytes);
- the whole body is capped (``limit``): a Content-Length over it is refused before a byte is
  read, and a body that keeps coming past it is refused as soon as it does.

Memory while reading is therefore a chunk, the decoder's small buffer and the small fields,
whatever the size of the message.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

CHUNK = 64 * 1024
FIELD_MAX = 64 * 1024
FIELDS_MAX = 1024 * 1024
SPOOL_MEMORY = 256 * 1024
# The decoder keeps what it cannot hand out yet (part headers, a possible boundary); draining
# it after every chunk keeps that small, so only absurd part headers reach this.
_DECODER_BUFFER_MAX = 4 * CHUNK
_TRUNCATED = "the multipart body ends before its closing boundary"
_BOUNDARY = re.compile(r"[ -~]{0,200}[!-~]")  # Django's rule for a multipart boundary


class FormRefused(Exception):
    """The body cannot be read as the webhook's form (answered 400)."""

    status = 400


class FormTooLarge(FormRefused):
    """The body is over the cap (answered 413)."""

    status = 413


@dataclass
class Form:
    """A read form: small fields, spooled fields (rewound, last value of each name) and file
    parts as Django uploaded files. The caller closes it (a ``with`` block)."""

    fields: QueryDict = field(default_factory=lambda: QueryDict(mutable=True))
    spooled: dict[str, IO[bytes]] = field(default_factory=dict)
    files: MultiValueDict[str, UploadedFile] = field(default_factory=MultiValueDict)
    _open: list[IO[bytes]] = field(default_factory=list)

    def __enter__(self) -> Form:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for spool in self._open:
            spool.close()


@dataclass
class _Part:
    name: str
    filename: str | None
    content_type: str
    spool: IO[bytes] | None
    buffer: bytearray = field(default_factory=bytearray)
    size: int = 0


def multipart_read(request: HttpRequest, *, limit: int, spool: Collection[str]) -> Form:
    """Read the request's ``multipart/form-data`` body in chunks into a :class:`Form`.

    Raises :class:`FormTooLarge` for a body over ``limit`` bytes and :class:`FormRefused` for
    anything else that is not a well-formed form (no boundary, a truncated body, a small field
    over 64 KiB, more parts than Django's ``DATA_UPLOAD_MAX_NUMBER_FIELDS``/``_FILES``).
    Precondition: nothing has read the body yet (``request.POST`` untouched).
    """
    boundary = request.content_params.get("boundary", "") if request.content_params else ""
    if not _BOUNDARY.fullmatch(boundary):
        raise FormRefused("not multipart/form-data with a valid boundary")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise FormTooLarge(_too_large(length, limit))
    form = Form()
    try:
        _decode(request, form, boundary.encode("ascii"), limit, frozenset(spool))
    except BaseException:
        form.close()
        raise
    return form


def _too_large(size: int, limit: int) -> str:
    return f"the request is {size} bytes or more; this webhook accepts at most {limit} bytes"


def _decode(
    request: HttpRequest, form: Form, boundary: bytes, limit: int, spool: frozenset[str]
) -> None:
    decoder = MultipartDecoder(boundary, max_form_memory_size=_DECODER_BUFFER_MAX)
    reader = _Reader(form, spool)
    received = 0
    while not reader.done:
        chunk = request.read(CHUNK)
        received += len(chunk)
        if received > limit:
            raise FormTooLarge(_too_large(received, limit))
        try:
            decoder.receive_data(chunk or None)
            while not reader.done:
                event = decoder.next_event()
                if isinstance(event, NeedData):
                    break
                reader.take(event)
        except RequestEntityTooLarge:
            raise FormRefused("a part's headers are too long") from None
        except ValueError as exc:  # includes undecodable part headers
            if not chunk:  # the decoder was told the body ended, and wanted more
                raise FormRefused(_TRUNCATED) from None
            raise FormRefused(f"malformed multipart body: {exc}") from None
        if not chunk and not reader.done:
            raise FormRefused(_TRUNCATED)


class _Reader:
    """Turns the decoder's events into the form, one part at a time."""

    def __init__(self, form: Form, spool: frozenset[str]) -> None:
        self.form = form
        self.spool = spool
        self.part: _Part | None = None
        self.done = False
        self.field_count = 0
        self.file_count = 0
        self.small_total = 0

    def take(self, event: Any) -> None:
        if isinstance(event, File | Field):
            self._start(event)
        elif isinstance(event, Data):
            self._data(event.data, more=event.more_data)
        elif isinstance(event, Epilogue):
            self.done = True

    def _start(self, event: Field | File) -> None:
        is_file = isinstance(event, File)
        if is_file:
            self.file_count += 1
            count, cap = self.file_count, settings.DATA_UPLOAD_MAX_NUMBER_FILES
        else:
            self.field_count += 1
            count, cap = self.field_count, settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        if cap is not None and count > cap:
            raise FormRefused(f"more than {cap} {'files' if is_file else 'fields'}")
        spooled: IO[bytes] | None = None
        if is_file or event.name in self.spool:
            spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)  # noqa: SIM115
            self.form._open.append(spooled)
        self.part = _Part(
            name=event.name,
            filename=event.filename if isinstance(event, File) else None,
            content_type=event.headers.get("content-type", ""),
            spool=spooled,
        )

    def _data(self, data: bytes, *, more: bool) -> None:
        part = self.part
        if part is None:  # the decoder emits data only inside a part
            raise FormRefused("data outside a part")
        part.size += len(data)
        if part.spool is not None:
            part.spool.write(data)
        else:
            self.small_total += len(data)
            if part.size > FIELD_MAX:
                name = (part.name or "")[:100]  # a part may come without a name
                raise FormRefused(f"the field {name!r} is over {FIELD_MAX} bytes")
            if self.small_total > FIELDS_MAX:
                raise FormRefused(f"the form's small fields are over {FIELDS_MAX} bytes together")
            part.buffer += data
        if not more:
            self._finish(part)
            self.part = None

    def _finish(self, part: _Part) -> None:
        form = self.form
        if part.spool is None:
            # As Django decodes fields (UTF-8 is what Mailgun posts).
            form.fields.appendlist(part.name, part.buffer.decode("utf-8", "replace"))
            return
        part.spool.seek(0)
        if part.filename is None:
            earlier = form.spooled.get(part.name)
            if earlier is not None:  # a repeated field: the last one counts, as in a QueryDict
                earlier.close()
            form.spooled[part.name] = part.spool
            return
        content_type, params = parse_options_header(part.content_type)
        form.files.appendlist(
            part.name,
            UploadedFile(
                file=part.spool,
                name=_file_name(part.filename),
                content_type=content_type or "application/octet-stream",
                size=part.size,
                charset=params.get("charset"),
            ),
        )


def _file_name(name: str) -> str | None:
    """The last path segment of a posted file name (a browser on Windows may send a path);
    none for a name that is no file name at all."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return None if name in {"", ".", ".."} else name
