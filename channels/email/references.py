"""Threading hints found in an inbound message's text: ticket references and reply tokens.

Only extraction lives here. Whether a reference names a ticket of the receiving tenant, and
whether a reply token's signature verifies, is decided by the caller, which knows the tenant.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# A ticket reference as our outbound subjects carry it: "[OR-1042]". Square brackets are
# required so that product names such as "ISO-9001" or "COVID-19" in a subject are not read
# as references; the prefix is a tenant's ticket prefix (letters first, then letters/digits).
_TICKET_REFERENCE = re.compile(r"\[\s*([A-Za-z][A-Za-z0-9]{0,9}-[0-9]{1,10})\s*\]")

# A signed reply token as our outbound mail carries it: "[#hd-<token>]". The token alphabet
# covers URL-safe base64 and the ":" separator of django.core.signing, so both a compact
# signer and Django's TimestampSigner output fit. Case matters: a signature is case-sensitive.
_REPLY_TOKEN = re.compile(r"\[#hd-([A-Za-z0-9_.:~-]{6,256})\]")


def _unique(values: Iterable[str]) -> list[str]:
    """Values in first-seen order without repeats."""
    return list(dict.fromkeys(values))


def find_reference_candidates(subject: str, body: str = "") -> list[str]:
    """Ticket references such as ``OR-1042`` found as ``[OR-1042]`` in subject, then body.

    Returns upper-cased references without brackets, subject hits first (the subject is the
    stronger signal: clients keep it on reply), deduplicated in order of appearance. Nothing
    here checks that the prefix belongs to the receiving tenant.
    """
    found = [m.group(1).upper() for m in _TICKET_REFERENCE.finditer(subject or "")]
    found += [m.group(1).upper() for m in _TICKET_REFERENCE.finditer(body or "")]
    return _unique(found)


def find_reply_tokens(text: str) -> list[str]:
    """Signed reply tokens found as ``[#hd-<token>]`` in ``text``, without the wrapper.

    Returns tokens in order of appearance, deduplicated. The tokens are unverified: treat
    them as attacker-controlled until the signer has checked them.
    """
    return _unique(m.group(1) for m in _REPLY_TOKEN.finditer(text or ""))
