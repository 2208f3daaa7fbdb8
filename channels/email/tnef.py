"""Attachments out of Outlook's winmail.dat (application/ms-tnef), with hard bounds.

Why our own reader rather than ``tnefparse`` (1.4.0 of January 2021; the other PyPI entry,
pytnef, is a wrapper last released in 2006): tnefparse loops to counts read from
the file without checking them against the bytes present, so a winmail.dat of a few dozen
bytes that declares four billion properties holds a worker for hours (measured: a declared
count of 20 million takes 40 s). Inbound mail is written by strangers, so this reader checks
every count and length against what is left and gives up on anything inconsistent; the
caller then keeps winmail.dat as a plain attachment.

Only what a helpdesk needs is read: each attachment's bytes, its name (the long file name
from the MAPI properties when present, else the 8.3 title), MIME type and content id. The
RTF/HTML body inside the TNEF is ignored: Outlook sends a text/plain body beside it.
Format: [MS-OXTNEF] (attribute stream) and its MAPI property encoding.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

TNEF_SIGNATURE = 0x223E9F78

_LVL_ATTACHMENT = 0x02
_ATT_ATTACH_DATA = 0x800F
_ATT_ATTACH_TITLE = 0x8010
_ATT_ATTACH_REND_DATA = 0x9002  # starts a new attachment
_ATT_ATTACHMENT = 0x9005  # the attachment's MAPI properties
_ATT_OEM_CODEPAGE = 0x9007

_PR_ATTACH_FILENAME = 0x3704
_PR_ATTACH_LONG_FILENAME = 0x3707
_PR_ATTACH_MIME_TAG = 0x370E
_PR_ATTACH_CONTENT_ID = 0x3712
_PR_ATTACH_METHOD = 0x3705
_ATTACH_EMBEDDED_MSG = 5

_MAX_ATTACHMENTS = 500
_MAX_PROPERTIES = 2_000
_MAX_VALUES = 10_000

# MAPI property types: fixed sizes as stored in TNEF (16-bit values are padded to 4 bytes).
_FIXED_SIZES = {
    0x0002: 4, 0x0003: 4, 0x0004: 4, 0x0005: 8, 0x0006: 8, 0x0007: 8, 0x000A: 4, 0x000B: 4,
    0x0014: 8, 0x0040: 8, 0x0048: 16, 0x0001: 0,
}  # fmt: skip
_PT_STRING8 = 0x001E
_PT_UNICODE = 0x001F
_VARIABLE_TYPES = {_PT_STRING8, _PT_UNICODE, 0x0102, 0x000D, 0x0000}
_MV_FLAG = 0x1000


class TnefError(ValueError):
    """The TNEF stream is inconsistent or exceeds our bounds."""


@dataclass(frozen=True, slots=True)
class TnefAttachment:
    """One file carried inside a winmail.dat."""

    filename: str
    content_type: str  # "" when the TNEF does not say
    content_id: str
    payload: bytes


@dataclass
class _Pending:
    title: str = ""
    long_name: str = ""
    short_name: str = ""
    mime: str = ""
    content_id: str = ""
    embedded: bool = False
    data: bytes | None = None


class _Reader:
    """A cursor over a memoryview that refuses to read past the end."""

    def __init__(self, data: memoryview) -> None:
        self.data = data
        self.pos = 0

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int) -> memoryview:
        if n < 0 or n > self.remaining():
            raise TnefError("truncated")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u8(self) -> int:
        return int(self.take(1)[0])

    def u16(self) -> int:
        return int(struct.unpack("<H", self.take(2))[0])

    def u32(self) -> int:
        return int(struct.unpack("<I", self.take(4))[0])


def _decode_string(raw: bytes | memoryview, codepage: str) -> str:
    try:
        text = bytes(raw).decode(codepage, errors="replace")
    except LookupError:
        text = bytes(raw).decode("cp1252", errors="replace")
    return text.split("\x00", 1)[0].strip()


def _mapi_properties(blob: memoryview, codepage: str) -> dict[int, list[object]]:
    """Decode a MAPI property list into {property id: [values]}, strings decoded."""
    reader = _Reader(blob)
    count = reader.u32()
    # Every property needs at least 4 bytes (type + id): a larger count cannot be honest.
    if count > min(_MAX_PROPERTIES, reader.remaining() // 4):
        raise TnefError("implausible property count")
    props: dict[int, list[object]] = {}
    for _ in range(count):
        prop_type = reader.u16()
        prop_id = reader.u16()
        if prop_id >= 0x8000:  # named property: GUID, then a numeric id or a UTF-16 name
            reader.take(16)
            if reader.u32() == 0:
                reader.take(4)
            else:
                name_length = reader.u32()
                reader.take(name_length + (-name_length % 4))
        multi = bool(prop_type & _MV_FLAG)
        base_type = prop_type & ~_MV_FLAG
        values: list[object] = []
        if base_type in _FIXED_SIZES:
            n = reader.u32() if multi else 1
            if n > _MAX_VALUES or n * _FIXED_SIZES[base_type] > reader.remaining():
                raise TnefError("implausible value count")
            for _ in range(n):
                values.append(bytes(reader.take(_FIXED_SIZES[base_type])))
        elif base_type in _VARIABLE_TYPES:
            n = reader.u32()  # value count, present for single-valued ones too
            if n > min(_MAX_VALUES, reader.remaining() // 4):
                raise TnefError("implausible value count")
            for _ in range(n):
                length = reader.u32()
                raw = reader.take(length)
                reader.take(min(-length % 4, reader.remaining()))
                if base_type == _PT_UNICODE:
                    values.append(_decode_string(raw, "utf-16-le"))
                elif base_type == _PT_STRING8:
                    values.append(_decode_string(raw, codepage))
                else:
                    values.append(raw)  # a view: copied only if it is the payload we keep
        else:
            raise TnefError(f"unknown MAPI type {prop_type:#06x}")
        props[prop_id] = values
    return props


def _apply_mapi(pending: _Pending, blob: memoryview, codepage: str) -> None:
    try:
        props = _mapi_properties(blob, codepage)
    except (TnefError, struct.error):
        return  # the attribute-level title and data still describe the file
    for prop_id, field in (
        (_PR_ATTACH_LONG_FILENAME, "long_name"),
        (_PR_ATTACH_FILENAME, "short_name"),
        (_PR_ATTACH_MIME_TAG, "mime"),
        (_PR_ATTACH_CONTENT_ID, "content_id"),
    ):
        values = props.get(prop_id)
        if values and isinstance(values[0], str):
            setattr(pending, field, values[0])
    method = props.get(_PR_ATTACH_METHOD)
    if method and isinstance(method[0], bytes) and len(method[0]) >= 4:
        pending.embedded = struct.unpack("<I", method[0][:4])[0] == _ATTACH_EMBEDDED_MSG


def is_tnef(payload: bytes) -> bool:
    """True when ``payload`` starts with the TNEF signature."""
    return len(payload) >= 6 and struct.unpack("<I", payload[:4])[0] == TNEF_SIGNATURE


def extract_tnef_attachments(payload: bytes) -> tuple[list[TnefAttachment], bool]:
    """Read the files out of a TNEF stream.

    Returns ``(attachments, complete)``: ``complete`` is False when some attachment could
    not be extracted (an embedded Outlook item, one without data), so the caller should keep
    winmail.dat beside the files. Raises :class:`TnefError` when the stream itself is
    inconsistent; nothing is extracted then. Each extracted payload is one copy of its bytes;
    no other copy of the stream is made.
    """
    if not is_tnef(payload):
        raise TnefError("not a TNEF stream")
    reader = _Reader(memoryview(payload))
    reader.take(6)  # signature, legacy key
    codepage = "cp1252"
    pending: list[_Pending] = []
    try:
        while reader.remaining() > 0:
            level = reader.u8()
            attribute = reader.u32() & 0xFFFF  # high 16 bits: the attribute's type
            length = reader.u32()
            data = reader.take(length)
            reader.u16()  # checksum: not verified, a wrong one does not make the file useless
            if attribute == _ATT_OEM_CODEPAGE and length >= 4:
                number = struct.unpack("<I", data[:4])[0]
                codepage = "utf-8" if number == 65001 else f"cp{number}"
            elif level != _LVL_ATTACHMENT:
                continue
            elif attribute == _ATT_ATTACH_REND_DATA:
                if len(pending) >= _MAX_ATTACHMENTS:
                    raise TnefError("too many attachments")
                pending.append(_Pending())
            elif not pending:
                raise TnefError("attachment attribute before its rendering data")
            elif attribute == _ATT_ATTACH_TITLE:
                pending[-1].title = _decode_string(data, codepage)
            elif attribute == _ATT_ATTACH_DATA:
                pending[-1].data = bytes(data)
            elif attribute == _ATT_ATTACHMENT:
                _apply_mapi(pending[-1], data, codepage)
    except struct.error as exc:  # pragma: no cover - _Reader checks lengths before unpacking
        raise TnefError(str(exc)) from exc

    extracted: list[TnefAttachment] = []
    for index, item in enumerate(pending, start=1):
        if item.embedded or item.data is None:
            continue
        name = item.long_name or item.title or item.short_name or f"attachment-{index}"
        extracted.append(TnefAttachment(name, item.mime.lower(), item.content_id, item.data))
    return extracted, len(extracted) == len(pending)
