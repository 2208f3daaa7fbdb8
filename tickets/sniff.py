"""What a file really is, from its first bytes (a client's Content-Type is never trusted).

Small and dependency-free on purpose: the allowlist is images, PDF, plain text, zip and office
documents, and each of those announces itself in its first few hundred bytes. Anything
unrecognised is ``application/octet-stream`` (and refused unless a tenant allows it).
"""

from __future__ import annotations

import re

HEAD_BYTES = 8192
OCTET_STREAM = "application/octet-stream"
SVG = "image/svg+xml"
# Raster images a browser may show inline (through the sandboxed preview only).
RASTER_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})

_OOXML = (
    (b"word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (b"xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (b"ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
)
_OLE_TYPES = frozenset(
    {"application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint"}
)
_ODF = re.compile(
    rb"^PK\x03\x04.{26}mimetype(application/vnd\.oasis\.opendocument\.[a-z.-]+)", re.S
)
_MARKUP = re.compile(rb"<\s*(svg|html|head|body|script|iframe|object|embed|\?xml|!doctype)\b", re.I)


def sniff(head: bytes, declared: str = "") -> str:
    """The content type of a file whose first bytes are ``head`` (up to :data:`HEAD_BYTES`).
    ``declared`` only chooses among formats the bytes cannot tell apart (legacy Office files
    all share one container)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        odf = _ODF.match(head)
        if odf:
            return odf.group(1).decode("ascii")
        if b"[Content_Types].xml" in head or any(m in head for m, _ in _OOXML):
            for marker, content_type in _OOXML:
                if marker in head:
                    return content_type
        return "application/zip"
    if head.startswith(b"PK\x05\x06"):  # an empty zip
        return "application/zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        declared = declared.split(";")[0].strip().lower()
        return declared if declared in _OLE_TYPES else "application/x-ole-storage"
    return _text_or_markup(head)


def _text_or_markup(head: bytes) -> str:
    if not head:
        return "text/plain"
    if b"\x00" in head:
        return OCTET_STREAM
    sample = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The head may end inside a multi-byte character; anything earlier is not text.
        if exc.start < len(sample) - 3:
            return OCTET_STREAM
        text = sample[: exc.start].decode("utf-8")
    markup = _MARKUP.search(text.encode("utf-8")[:2048])
    if markup:
        # SVG and HTML can carry script: they are never "text/plain" to us.
        found = text.lower()
        return SVG if "<svg" in found else "text/html"
    printable = sum(ch.isprintable() or ch in "\r\n\t\f" for ch in text)
    return "text/plain" if printable >= 0.95 * max(len(text), 1) else OCTET_STREAM
