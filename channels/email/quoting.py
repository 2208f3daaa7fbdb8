"""Trimming quoted history and signatures from a reply's plain text.

Mail clients append (or, bottom-posting, prepend) the thread's history to every reply. A
ticket already holds that history as earlier messages, so a reply is stored with only what
the sender newly wrote. The rules are deliberately conservative: when in doubt, keep text.
Losing a customer's words is worse than showing an agent a quote twice.
"""

from __future__ import annotations

import re

_MAX_ATTRIBUTION_LINES = 3  # Gmail and Apple wrap long "On …, X <x@y> wrote:" lines.
_MAX_ATTRIBUTION_CHARS = 500

# "On <date>, <name> wrote:" in the languages our customers' clients most often speak.
_ATTRIBUTION = re.compile(
    r"^\s*(?:On|Am|Le|El|Op|Il|Em|Den|På|W\sdniu)\s.*"
    # German and Dutch put the verb before the name: "Am <date> schrieb <name>:".
    r"\b(?:wrote|schrieb|a\s[ée]crit|escribi[óo]|schreef|ha\sscritto|escreveu|skrev|napisa[łl])"
    r"\b.*:\s*$",
    re.IGNORECASE | re.DOTALL,
)
# "<anything> wrote:" directly above quoted lines (Thunderbird, mutt, many webmails).
_GENERIC_WROTE = re.compile(r"\b(?:wrote|schrieb|a\s[ée]crit)\s*:\s*$", re.IGNORECASE)
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(?:Original\sMessage|Urspr[üu]ngliche\sNachricht|Message\sd'origine|"
    r"Mensaje\soriginal|Oorspronkelijk\sbericht|Messaggio\soriginale|Mensagem\soriginal)"
    r"\s*-{2,}\s*$",
    re.IGNORECASE,
)
# Outlook's reply header: "From: … / Sent: … / To: … / Subject: …", in plain text sometimes
# with the labels in asterisks (bold converted from HTML), localised in some installations.
_HEADER_FROM = re.compile(r"^\s*\*?(?:From|Von|De|Van|Da|Från|Fra)\s*:\*?\s*\S", re.IGNORECASE)
_HEADER_SENT = re.compile(
    r"^\s*\*?(?:Sent|Date|Gesendet|Datum|Envoy[ée]|Enviado|Verzonden|Inviato|Skickat|Sendt)"
    r"\s*:",
    re.IGNORECASE,
)
_HEADER_TO_OR_SUBJECT = re.compile(
    r"^\s*\*?(?:To|An|À|Para|Aan|A|Till|Til|Subject|Betreff|Objet|Asunto|Onderwerp|Oggetto|"
    r"Assunto|Ämne|Emne|Cc)\s*:",
    re.IGNORECASE,
)
_UNDERSCORE_RULE = re.compile(r"^\s*_{10,}\s*$")
# Forwarded content is new information for the recipient, not history: never trim it.
_FORWARD_MARKER = re.compile(
    r"(?:-{2,}\s*Forwarded\smessage\s*-{2,}|^\s*Begin\sforwarded\smessage\s*:|"
    r"-{2,}\s*Weitergeleitete\sNachricht\s*-{2,}|-{2,}\s*Message\stransf[ée]r[ée]\s*-{2,})",
    re.IGNORECASE,
)
_SIGNATURE_DELIMITER = re.compile(r"^--[ \t]?$")
_MOBILE_FOOTER = re.compile(
    r"^\s*(?:Sent\sfrom\smy\s\S.*|Get\sOutlook\sfor\s(?:iOS|Android)\S*|"
    r"Von\smeinem\s\S+\sgesendet|Envoy[ée]\sde\smon\s\S.*)\s*$",
    re.IGNORECASE,
)


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _is_blank(line: str) -> bool:
    return not line.strip()


def _next_content_line(lines: list[str], start: int) -> str | None:
    """The first non-blank line among the few after ``start`` (indexing: no list copies)."""
    for k in range(start, min(start + 5, len(lines))):
        if not _is_blank(lines[k]):
            return lines[k]
    return None


def _attribution_end(lines: list[str], i: int) -> int | None:
    """If an attribution starts at line ``i``, return the index of its last line."""
    for j in range(i, min(i + _MAX_ATTRIBUTION_LINES, len(lines))):
        joined = " ".join(line.strip() for line in lines[i : j + 1])
        if len(joined) > _MAX_ATTRIBUTION_CHARS:
            return None
        # A date is part of every client's attribution; requiring a digit keeps a sentence
        # such as "On the portal you wrote:" from being taken for one.
        if _ATTRIBUTION.match(joined) and any(ch.isdigit() for ch in joined):
            return j
    if _GENERIC_WROTE.search(lines[i]):
        following = _next_content_line(lines, i + 1)
        if following is not None and _is_quoted(following):
            return i
    return None


def _is_outlook_header(lines: list[str], i: int) -> bool:
    if not _HEADER_FROM.match(lines[i]):
        return False
    window = [line for line in lines[i + 1 : i + 7] if not _is_blank(line)][:5]
    has_sent = any(_HEADER_SENT.match(line) for line in window)
    has_other = any(_HEADER_TO_OR_SUBJECT.match(line) for line in window)
    return has_sent and has_other


def _follows_forward_marker(lines: list[str], i: int) -> bool:
    previous = [line for line in lines[max(0, i - 3) : i] if not _is_blank(line)]
    return any(_FORWARD_MARKER.search(line) for line in previous)


def _history_start(lines: list[str]) -> tuple[int, int, bool] | None:
    """First line span that introduces quoted history: (start, end, is_attribution), or None.

    ``end`` is the last line of the introducing marker itself (an attribution may span lines).
    Only an attribution is followed by "> " quoting; after the other markers the history is
    unquoted, so nothing below them can be told apart from history.
    """
    for i, line in enumerate(lines):
        if _is_quoted(line) or _is_blank(line):
            continue
        end = _attribution_end(lines, i)
        if end is not None:
            return i, end, True
        if _ORIGINAL_MESSAGE.match(line):
            return i, i, False
        if _is_outlook_header(lines, i) and not _follows_forward_marker(lines, i):
            start = i
            # Outlook on the web draws a rule of underscores above the header block.
            k = i - 1
            while k >= 0 and _is_blank(lines[k]):
                k -= 1
            if k >= 0 and _UNDERSCORE_RULE.match(lines[k]):
                start = k
            return start, i, False
    return None


def _strip_trailing_quote(lines: list[str]) -> list[str]:
    end = len(lines)
    saw_quote = False
    while end > 0 and (_is_blank(lines[end - 1]) or _is_quoted(lines[end - 1])):
        saw_quote = saw_quote or _is_quoted(lines[end - 1])
        end -= 1
    return lines[:end] if saw_quote else lines


def _strip_signature(lines: list[str]) -> list[str]:
    seen_content = False
    for i, line in enumerate(lines):
        if seen_content and _SIGNATURE_DELIMITER.match(line):
            lines = lines[:i]
            break
        seen_content = seen_content or not _is_blank(line)
    end = len(lines)
    while end > 0 and _is_blank(lines[end - 1]):
        end -= 1
    if end > 0 and _MOBILE_FOOTER.match(lines[end - 1]):
        end -= 1
    return lines[:end]


def trim_reply(text: str) -> str:
    """Return the part of a reply that the sender newly wrote.

    Cuts at the first history marker ("On … wrote:", "-----Original Message-----", an Outlook
    "From:/Sent:/To:/Subject:" block), drops a trailing block of "> " lines, and a signature
    after a "-- " delimiter or a "Sent from my …" footer. Bottom-posted replies (history first)
    keep the unquoted text after the history. Interleaved replies are kept whole: the quotes
    are the context of the answers. Forwarded content under a "Forwarded message" marker is
    kept; an Outlook forward looks exactly like an Outlook reply and is trimmed, so callers
    should prefer the full text for messages whose subject marks a forward.

    If trimming would leave nothing, the whole text is returned (stripped) instead.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    history = _history_start(lines)
    if history is not None:
        start, end, is_attribution = history
        if any(not _is_blank(line) for line in lines[:start]) or not is_attribution:
            lines = lines[:start]
        else:
            # History first, then the answer below it: keep what is not history.
            lines = [line for line in lines[end + 1 :] if not _is_quoted(line)]
    lines = _strip_trailing_quote(lines)
    lines = _strip_signature(lines)
    trimmed = "\n".join(line.rstrip() for line in lines).strip("\n")
    return trimmed if trimmed.strip() else text.strip()
