"""HTML bodies of inbound mail: a conservative sanitiser and a plain-text rendering.

Inbound HTML is hostile by default (anyone on the internet can write to a support address),
so the sanitiser keeps document structure and links and drops everything that can run code,
submit data, restyle the agent's page or load from unexpected places.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

# Structure and emphasis only. No style/class/id: inline CSS can overlay the agent UI or
# exfiltrate through url(); no forms, frames, media, SVG or MathML.
_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd",
    "del", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins",
    "kbd", "li", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strike", "strong", "sub",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "ol": {"start"},
}
# Removed together with their content: their text is never meant to be read as message text.
_DROP_WITH_CONTENT = {"script", "style", "title", "head", "noscript", "template", "iframe"}
_LINK_SCHEMES = ("http://", "https://", "mailto:")
_IMAGE_SCHEMES = ("http://", "https://", "cid:")


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Keep URLs only with the schemes a support agent may safely follow or load."""
    if attribute == "src":
        return value if value.strip().lower().startswith(_IMAGE_SCHEMES) else None
    if attribute == "href":
        return value if value.strip().lower().startswith(_LINK_SCHEMES) else None
    return value


_CLEANER = nh3.Cleaner(
    tags=_ALLOWED_TAGS,
    clean_content_tags=_DROP_WITH_CONTENT,
    attributes=_ALLOWED_ATTRIBUTES,
    attribute_filter=_filter_attribute,
    url_schemes={"http", "https", "mailto", "cid"},
    # Relative URLs mean nothing in a message that was never served from a site.
    url_relative="deny",
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
)


_IMG_WITHOUT_SRC = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")
# html5ever (inside nh3) takes time quadratic in element nesting depth: 20,000 nested <div>
# take a second, 200,000 take minutes. Real mail nests a few dozen levels deep.
MAX_HTML_NESTING = 1_000
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)")
# Void elements never nest; these close their predecessor implicitly, so they do not either.
_NON_NESTING = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
    "source", "track", "wbr", "p", "li", "td", "th", "tr", "dt", "dd", "option",
}  # fmt: skip
_MAX_QUOTE_PREFIX = 20


def html_too_deep(html: str) -> bool:
    """True when ``html`` nests elements deeper than MAX_HTML_NESTING (an upper estimate)."""
    depth = 0
    for match in _TAG.finditer(html):
        if match.group(2).lower() in _NON_NESTING:
            continue
        depth = max(0, depth - 1) if match.group(1) else depth + 1
        if depth > MAX_HTML_NESTING:
            return True
    return False


def sanitize_html(html: str) -> str:
    """Return ``html`` reduced to the allowlist above; "" when empty or nested too deeply.

    Removes script/style/iframe/forms/event handlers and javascript:/data: URLs; images keep
    only http(s) and cid: sources. Remote images remain remote: the page that shows this HTML
    should block them by default (they are tracking pixels as often as not).
    """
    if not html.strip() or html_too_deep(html):
        return ""
    # An <img> whose source was refused would only render a broken-image icon.
    return _IMG_WITHOUT_SRC.sub("", _CLEANER.clean(html)).strip()


_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "ul",
}  # fmt: skip
_SKIP_CONTENT = {
    "script", "style", "head", "title", "noscript", "template", "svg", "math", "iframe", "object",
}  # fmt: skip


class _TextRenderer(HTMLParser):
    """Collects readable text: blocks and <br> become line breaks, links keep their URL,
    <blockquote> content gets "> " prefixes so quoted history can be trimmed like plain text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._line: list[str] = []
        self._skip_depth = 0
        self._pre_depth = 0
        self._quote_depth = 0
        self._links: list[tuple[str, int]] = []  # (href, number of line chunks when opened)

    def _break(self) -> None:
        text = "".join(self._line)
        text = text if self._pre_depth else re.sub(r"[ \t\r\n\f\v\u00a0]+", " ", text).strip()
        self.lines.append(self._prefix() + text if text else "")
        self._line = []

    def _prefix(self) -> str:
        # Capped: a hostile message could nest blockquotes thousands deep.
        return "> " * min(self._quote_depth, _MAX_QUOTE_PREFIX)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._skip_depth = 0  # mailers often leave <head> unclosed; <body> ends it
            return
        if tag in _SKIP_CONTENT:
            self._skip_depth += 1
            return
        if tag == "br":
            self._break()
        elif tag in _BLOCK_TAGS:
            if self._line:
                self._break()
            if tag == "li":
                self._line.append("- ")
            elif tag == "pre":
                self._pre_depth += 1
            elif tag == "blockquote":
                self._quote_depth += 1
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self._links.append((href.strip(), len(self._line)))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_CONTENT:
            self._skip_depth = max(0, self._skip_depth - 1)
            return
        if tag == "a" and self._links:
            href, start = self._links.pop()
            label = "".join(self._line[start:]).strip()
            # A link's target is part of what the sender said; keep it unless the label
            # already is the URL (or the address, for mailto:).
            if href.lower().startswith(_LINK_SCHEMES) and href.removeprefix("mailto:") != label:
                self._line.append(f" ({href})" if label else href)
        elif tag in _BLOCK_TAGS:
            self._break()
            if tag == "pre":
                self._pre_depth = max(0, self._pre_depth - 1)
            elif tag == "blockquote":
                self._quote_depth = max(0, self._quote_depth - 1)
            elif tag in {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table"}:
                # The blank line keeps its quote markers so a quoted block stays one block.
                self.lines.append(self._prefix().rstrip())

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self._line.append(data)

    def close(self) -> None:
        super().close()
        if self._line:
            self._break()


def html_to_text(html: str) -> str:
    """Return a plain-text rendering of ``html`` for HTML-only messages.

    Paragraphs and <br> become newlines, list items "- ", links "label (url)", blockquotes
    "> " lines; script/style/head content is dropped. Runs of blank lines collapse to one.
    """
    renderer = _TextRenderer()
    try:
        renderer.feed(html)
        renderer.close()
    except (AssertionError, ValueError):  # pragma: no cover - html.parser is lenient in 3.11
        pass
    text = "\n".join(line.rstrip() for line in renderer.lines)
    # Blank lines carrying only quote markers collapse too, so quoted blocks stay compact.
    text = re.sub(r"\n(?:[ >]*\n){2,}", "\n\n", text)
    return text.strip("\n")
