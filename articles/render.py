"""Article Markdown to safe HTML: raw HTML off, heading ids, link rewriting, then nh3 sanitising."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from urllib.parse import unquote, urlsplit

import nh3
from markdown_it.token import Token

from articles.anchors import heading_anchors
from articles.syntax import markdown_parser

LinkResolver = Callable[[str], str | None]

EXTERNAL_REL = "noopener noreferrer"
_CODE_CLASS = re.compile(r"^language-[\w.+#-]{1,40}$")
_ALIGN_CLASSES = frozenset({"align-left", "align-center", "align-right"})

_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "s", "del", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
_ATTRIBUTES = {
    "h2": {"id"}, "h3": {"id"}, "h4": {"id"},
    "a": {"href", "title"}, "img": {"src", "alt", "title"}, "code": {"class"}, "ol": {"start"},
    "th": {"class"}, "td": {"class"},
}  # fmt: skip


def render_html(body: str, *, resolve_link: LinkResolver | None = None) -> str:
    """Render an article body to HTML that is safe to put in a page as it is.

    Raw HTML is never interpreted (``js-default``), and the output is sanitised with nh3 anyway:
    the sanitiser is the guarantee, the preset only avoids mangled output. ``resolve_link`` gets the
    (percent-decoded) href of every relative link to a ``.md`` file and returns the URL to use
    instead, or None to leave the link as written.
    """
    parser = markdown_parser()
    tokens = parser.parse(body)
    for index, anchor in heading_anchors(tokens).items():
        tokens[index].attrSet("id", anchor)
    for link in _links(tokens):
        _rewrite_link(link, resolve_link)
    for cell in (t for t in tokens if t.type in ("th_open", "td_open")):
        _alignment_as_class(cell)
    return _sanitise(parser.renderer.render(tokens, parser.options, {}))


def _links(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        for child in token.children or ():
            if child.type == "link_open":
                yield child


def _rewrite_link(link: Token, resolve_link: LinkResolver | None) -> None:
    href = str(link.attrGet("href") or "")
    if _is_external(href):
        link.attrSet("rel", EXTERNAL_REL)
    elif resolve_link is not None and _is_markdown_file(href):
        resolved = resolve_link(unquote(href))
        if resolved is not None:
            link.attrSet("href", resolved)


def _alignment_as_class(cell: Token) -> None:
    """``style="text-align:right"`` becomes ``class="align-right"``: pages may forbid inline styles (CSP)."""
    style = str(cell.attrGet("style") or "")
    if style.startswith("text-align:"):
        cell.attrs.pop("style")
        cell.attrSet("class", f"align-{style.removeprefix('text-align:')}")


def _is_external(href: str) -> bool:
    return href.startswith("//") or urlsplit(href).scheme.lower() in ("http", "https")


def _is_markdown_file(href: str) -> bool:
    """A relative link to another article, e.g. ``../billing/refunds.md#limits``."""
    parts = urlsplit(href)
    return not parts.scheme and not parts.netloc and parts.path.lower().endswith(".md")


def _sanitise(html: str) -> str:
    """nh3 with an allow-list that fits article HTML and nothing more.

    ``rel`` is restricted to the one value we set (``link_rel=None`` so internal links do not get
    it); code classes are limited to ``language-*``, table cell classes to ``align-*``; no styles.
    """
    return nh3.clean(
        html,
        tags=_TAGS,
        clean_content_tags={"script", "style"},
        attributes=_ATTRIBUTES,
        tag_attribute_values={"a": {"rel": {EXTERNAL_REL}}},
        attribute_filter=_filter_attribute,
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
    )


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "code" and attribute == "class":
        return value if _CODE_CLASS.match(value) else None
    if tag in ("th", "td") and attribute == "class":
        return value if value in _ALIGN_CLASSES else None
    return value
