"""Walking a parsed MIME tree: which parts are the body, which are attachments, and their text.

Decoding is lenient by design: a wrong charset label or a broken base64 line costs a few
replacement characters, never the message.
"""

from __future__ import annotations

import binascii
import mimetypes
import re
import unicodedata
from dataclasses import dataclass, field
from email.message import Message

from channels.email.message import Attachment
from channels.email.tnef import TnefError, extract_tnef_attachments, is_tnef

_MAX_DEPTH = 30  # deeper nesting is an attack, not a mail client
_MAX_PARTS = 1_000
_MAX_FILENAME = 255

# The WHATWG Encoding Standard's reading of labels that mailers get wrong: text labelled
# Latin-1 or ASCII is in practice Windows-1252, Shift_JIS is Windows-31J, GB2312 is GBK.
_LABEL_ALIASES = {  # keys with "-" for "_", see decode_text
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "ks-c-5601-1987": "cp949",
    "euc-kr": "cp949",
}
_UNDECLARED = {"", "us-ascii", "ascii", "unknown-8bit", "x-unknown", "unknown", "default"}
# Control characters and bidirectional overrides: the latter disguise "invoice\u202egpj.exe".
_UNSAFE_IN_FILENAME = re.compile(r"[\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


_ESCAPED_BYTE = re.compile(r"[\udc80-\udcff]")


def repair_text(value: str) -> str:
    """``value`` without lone surrogates or NUL characters.

    The stdlib parser keeps undecodable header bytes as surrogate escapes; they are read here
    as UTF-8, else Windows-1252. NULs go because PostgreSQL text columns refuse them.
    """
    if _ESCAPED_BYTE.search(value):
        try:
            raw = value.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # surrogates outside the escape range: not bytes at all
            raw = value.encode("utf-8", "replace")
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            value = raw.decode("cp1252", errors="replace")
    return value.replace("\x00", "")


def decode_text(data: bytes, charset: str | None) -> tuple[str, bool]:
    """Decode body bytes; returns (text, used_fallback).

    Undeclared or ASCII-labelled text is tried as UTF-8 first (what 8-bit mail without a
    label mostly is). An unknown label falls back to UTF-8, then Windows-1252 with
    replacement characters, so decoding never fails.
    """
    label = (charset or "").strip().strip("\"'").lower()
    if label in _UNDECLARED:
        try:
            return data.decode("utf-8"), False
        except UnicodeDecodeError:
            return data.decode("cp1252", errors="replace"), label != ""
    try:
        # bytes.decode refuses bytes-to-bytes codecs (base64, zlib…) with LookupError, so a
        # charset label can never make us decompress anything.
        codec = _LABEL_ALIASES.get(label.replace("_", "-"), label)
        return data.decode(codec, errors="replace"), False
    except (LookupError, UnicodeError, ValueError, TypeError):
        try:
            return data.decode("utf-8"), True
        except UnicodeDecodeError:
            return data.decode("cp1252", errors="replace"), True


def unflow(text: str, *, delsp: bool) -> str:
    """Join RFC 3676 format=flowed soft line breaks; quote depth is kept as "> " prefixes."""
    out: list[str] = []
    paragraph: list[str] = []  # pieces of the logical line being joined
    paragraph_depth = 0
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):  # space-stuffing (RFC 3676 section 4.4)
            content = content[1:]
        is_flowed = content.endswith(" ") and content != "-- "
        if is_flowed and delsp:
            content = content[:-1]
        if paragraph and depth != paragraph_depth:
            out.append(_quoted(paragraph, paragraph_depth))
            paragraph = []
        paragraph.append(content)
        paragraph_depth = depth
        if not is_flowed:
            out.append(_quoted(paragraph, depth))
            paragraph = []
    if paragraph:
        out.append(_quoted(paragraph, paragraph_depth))
    return "\n".join(out)


def _quoted(pieces: list[str], depth: int) -> str:
    text = "".join(pieces)
    return ("> " * depth + text).rstrip() if depth else text


def decode_payload(part: Message) -> bytes:
    """The part's body bytes after Content-Transfer-Encoding.

    Base64 (nearly every large attachment) is decoded straight from the parsed text with
    binascii, which makes no intermediate copies; the stdlib's own path re-encodes the text,
    splits it into lines and joins them again first, about three extra copies of the part.
    """
    payload = part.get_payload()
    cte = str(part.get("content-transfer-encoding", "") or "").strip().lower()
    if cte == "base64" and isinstance(payload, str):
        try:
            return binascii.a2b_base64(payload)
        except (binascii.Error, ValueError):
            pass  # bad padding or 8-bit noise: the stdlib's tolerant decoder below
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def part_text(part: Message) -> tuple[str, bool]:
    """A text part's content as str with "\\n" line ends; returns (text, used_fallback)."""
    text, fallback = decode_text(decode_payload(part), part.get_content_charset())
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if part.get_content_subtype() == "plain":
        fmt = str(part.get_param("format", "") or "").lower()
        if fmt == "flowed":
            delsp = str(part.get_param("delsp", "") or "").lower() == "yes"
            text = unflow(text, delsp=delsp)
    return text, fallback


def clean_filename(name: str) -> str:
    """A display-safe file name: no directories, control or bidi characters; <= 255 chars."""
    name = unicodedata.normalize("NFC", repair_text(name))
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE_IN_FILENAME.sub("", name).strip().strip(".").strip()
    if len(name) > _MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:16] if dot else ""
        name = (stem if dot else name)[: _MAX_FILENAME - len(ext) - 1] + (dot + ext)
    return name


def _default_filename(content_type: str, index: int) -> str:
    extension = mimetypes.guess_extension(content_type, strict=False)
    if content_type == "message/rfc822":
        extension = ".eml"
    elif extension is None:
        extension = ".txt" if content_type.startswith("text/") else ".bin"
    return f"attachment-{index}{extension}"


def _content_id(part: Message) -> str:
    value = str(part.get("content-id", "") or "").strip()
    return value[1:-1].strip() if value.startswith("<") and value.endswith(">") else value


def _filename(part: Message) -> str:
    try:
        return clean_filename(part.get_filename() or "")
    except Exception:  # a broken parameter must not lose the attachment
        return ""


@dataclass
class Collected:
    """What a walk over the MIME tree found."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    parts_seen: int = 0

    def attach(self, part: Message, payload: bytes, *, filename: str = "") -> None:
        ctype = part.get_content_type()
        content_id = _content_id(part)
        disposition = part.get_content_disposition()
        self.attachments.append(
            Attachment(
                filename=filename or _filename(part) or _default_filename(ctype, self.count()),
                content_type=ctype,
                size=len(payload),
                content_id=content_id,
                inline=disposition == "inline" or (disposition is None and bool(content_id)),
                payload=payload,
            )
        )

    def count(self) -> int:
        return len(self.attachments) + 1


def _serialised(part: Message) -> bytes:
    inner = part.get_payload(0) if isinstance(part.get_payload(), list) else None
    try:
        return inner.as_bytes() if isinstance(inner, Message) else decode_payload(part)
    except Exception:  # the generator chokes on some broken inner messages
        return str(inner).encode("utf-8", errors="surrogateescape")


def _expand_tnef(part: Message, payload: bytes, out: Collected) -> None:
    try:
        files, complete = extract_tnef_attachments(payload)
    except TnefError as exc:
        out.defects.append(f"TnefError: {exc}")
        files, complete = [], False
    for item in files:
        guessed = mimetypes.guess_type(item.filename, strict=False)[0]
        content_type = item.content_type or guessed or "application/octet-stream"
        out.attachments.append(
            Attachment(
                filename=clean_filename(item.filename) or _default_filename(content_type, 0),
                content_type=content_type,
                size=len(item.payload),
                content_id=item.content_id,
                inline=False,
                payload=item.payload,
            )
        )
    if not files or not complete:  # keep what we could not unpack, nothing is lost
        out.attach(part, payload, filename=_filename(part) or "winmail.dat")


def collect(part: Message, out: Collected, depth: int = 0) -> None:
    """Sort ``part`` and its descendants into body texts and attachments, into ``out``.

    message/delivery-status is skipped (loops.bounce_report reads it); a message/rfc822 part
    becomes one .eml attachment rather than being merged into this message's body. A part
    that cannot be read is recorded as a defect and skipped; its siblings still count.
    """
    out.parts_seen += 1
    if depth > _MAX_DEPTH or out.parts_seen > _MAX_PARTS:
        out.defects.append("TooDeepOrTooManyParts")
        return
    if part.is_multipart() and part.get_content_maintype() == "multipart":
        for sub in part.get_payload():
            if isinstance(sub, Message):
                collect(sub, out, depth + 1)
        return
    try:
        _collect_leaf(part, out)
    except Exception as exc:  # one broken part must not cost the customer the whole message
        out.defects.append(f"UnreadablePart: {type(exc).__name__}")


def _collect_leaf(part: Message, out: Collected) -> None:
    ctype = part.get_content_type()
    if part.is_multipart():  # message/rfc822 and friends: a parsed message inside
        if ctype != "message/delivery-status":
            out.attach(part, _serialised(part))
        return
    if ctype.startswith("multipart/"):
        # A multipart whose boundary never appears: keep its raw text rather than lose it.
        out.defects.append("MultipartWithoutParts")
        out.attach(part, decode_payload(part), filename=f"unparsed-part-{out.count()}.txt")
        return
    disposition = part.get_content_disposition()
    filename = _filename(part)
    if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        text, fallback = part_text(part)
        if fallback:
            out.defects.append(f"CharsetFallback: {part.get_content_charset()}")
        (out.plain if ctype == "text/plain" else out.html).append(text)
        return
    payload = decode_payload(part)
    # The base64 text is no longer needed; releasing it now keeps the peak to one encoded
    # and one decoded copy per attachment instead of all of them at once.
    part.set_payload("")
    if ctype == "application/ms-tnef" or (filename.lower() == "winmail.dat" and is_tnef(payload)):
        _expand_tnef(part, payload, out)
    else:
        out.attach(part, payload, filename=filename)
