"""Serving an attachment safely (the API download and the portal route share this).

* Streamed (``FileResponse`` reads the file in blocks), never loaded whole.
* ``Content-Disposition: attachment`` with the real name (RFC 5987 for any Unicode), and
  ``X-Content-Type-Options: nosniff``: the browser saves the file instead of rendering it.
* ``Content-Security-Policy: sandbox; default-src 'none'`` on every file response: even a file
  opened directly runs no script and loads nothing.
* Preview (``?preview=1``) only for raster images — PNG, JPEG, GIF, WebP, as sniffed at upload —
  inline and still sandboxed. SVG can carry script: it is always an attachment, and its bytes go
  out as ``application/octet-stream``, never ``image/svg+xml``; so do HTML and anything else not
  on the safe list.
"""

from __future__ import annotations

from django.http import FileResponse, Http404

from .models import Attachment
from .sniff import RASTER_IMAGES

# Served with their own type; everything else is application/octet-stream.
SAFE_TYPES = RASTER_IMAGES | {"application/pdf", "text/plain"}
SANDBOX_CSP = "sandbox; default-src 'none'"


def attachment_response(attachment: Attachment, *, preview: bool = False) -> FileResponse:
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404("The file is missing.") from None
    inline = preview and attachment.content_type in RASTER_IMAGES
    content_type = (
        attachment.content_type
        if attachment.content_type in SAFE_TYPES
        else "application/octet-stream"
    )
    if content_type == "text/plain":
        content_type = "text/plain; charset=utf-8"
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=attachment.filename,
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX_CSP
    response["Cache-Control"] = "private, no-store"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
