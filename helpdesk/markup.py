"""Markdown → sanitised HTML (nh3), and the plain text of sanitised HTML.

One renderer for every body a person writes: knowledge-base articles, ticket descriptions,
replies and internal notes. Whoever wrote it, the rendered HTML is reduced to an allowlist: no
script, style, forms, frames or event handlers, and links only with safe schemes (a customer's
reply is shown to agents, an article to every visitor of the public KB).
"""

from __future__ import annotations

import html
import re
import threading

import markdown
import nh3

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "span",
    "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align"},
    "ol": {"start"},
    "abbr": {"title"},
}
# Relative URLs stay: articles link to each other (/kb/other-article/), replies to the portal.
_CLEANER = nh3.Cleaner(
    tags=_ALLOWED_TAGS,
    clean_content_tags={"script", "style", "template", "iframe", "noscript"},
    attributes=_ALLOWED_ATTRIBUTES,
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
)
# Control characters are never text a reader meant; stripping them also keeps the search
# highlighter's sentinels (kb/search.py) out of stored content.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def strip_control(text: str) -> str:
    return _CONTROL.sub("", text)


def render_markdown(text: str) -> str:
    """Markdown (with tables, fenced code, footnotes …) rendered and sanitised to safe HTML."""
    if not text.strip():
        return ""
    # Raw HTML inside the Markdown is passed through to the sanitiser, which decides.
    rendered = _renderer().reset().convert(strip_control(text))
    return _CLEANER.clean(rendered).strip()


_local = threading.local()


def _renderer() -> markdown.Markdown:
    """One Markdown instance per thread, reset before each use: building one loads its extensions
    (about 1.5 ms, measured on a ticket create), and an instance is not safe across threads."""
    md = getattr(_local, "markdown", None)
    if md is None:
        md = _local.markdown = markdown.Markdown(
            extensions=["extra", "sane_lists"], output_format="html"
        )
    return md


def html_to_text(fragment: str) -> str:
    """The readable text of sanitised HTML: what search indexes and snippets are cut from."""
    text = _TAG.sub(" ", fragment.replace("</p>", "</p>\n\n").replace("<br>", "\n"))
    text = html.unescape(text)
    text = _SPACE.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return strip_control(_BLANK_LINES.sub("\n\n", text)).strip()
