"""An article body as plain-text heading sections (lead, H2s, H3s) for indexing and snippets."""

from __future__ import annotations

from dataclasses import dataclass, field

from markdown_it.token import Token

from articles.anchors import heading_anchors
from articles.model import Section
from articles.syntax import heading_level, heading_text, inline_after, inline_text, parse_tokens

SECTION_LEVELS = (2, 3)
"""Headings that start a section; deeper ones stay in their parent's text."""

_CONTAINERS = {"bullet_list", "ordered_list", "table"}
"""Blocks whose items (list items, table cells) become lines of one paragraph."""


@dataclass
class _Draft:
    anchor: str
    heading_path: tuple[str, ...]
    blocks: list[str] = field(default_factory=list)

    def section(self) -> Section:
        return Section(anchor=self.anchor, heading_path=self.heading_path, text="\n\n".join(self.blocks))


@dataclass
class _Walker:
    """Walks the token stream once, starting a new draft at every top-level H2 / H3."""

    anchors: dict[int, str]
    drafts: list[_Draft] = field(default_factory=lambda: [_Draft("", ())])
    current_h2: str | None = None
    container_depth: int = 0
    lines: list[str] = field(default_factory=list)

    def start_section(self, index: int, level: int, title: str) -> None:
        if level == 2:
            self.current_h2 = title
            path: tuple[str, ...] = (title,)
        else:
            path = (self.current_h2, title) if self.current_h2 is not None else (title,)
        self.drafts.append(_Draft(self.anchors[index], path))

    def add_text(self, text: str) -> None:
        if not text.strip():
            return
        text = text.strip("\n")  # only newlines: a code block's first-line indentation is content
        if self.container_depth:
            self.lines.append(text)
        else:
            self.drafts[-1].blocks.append(text)

    def open_container(self) -> None:
        self.container_depth += 1

    def close_container(self) -> None:
        self.container_depth -= 1
        if not self.container_depth and self.lines:
            self.drafts[-1].blocks.append("\n".join(self.lines))
            self.lines = []


def split_sections(body: str) -> tuple[Section, ...]:
    """The lead (always first, anchor "") then one section per top-level H2 and H3, in order.

    Anchors come from ``heading_anchors`` on the same token stream ``render_html`` uses, so they are
    exactly the heading ids in the HTML. Sections with no text are kept: a heading alone still says
    where something is, and chunking decides what to do with it.
    """
    tokens = parse_tokens(body)
    walker = _Walker(anchors=heading_anchors(tokens))
    skip: int | None = None
    for index, token in enumerate(tokens):
        if index == skip:
            continue
        level = heading_level(token)
        if level in SECTION_LEVELS and token.level == 0:
            walker.start_section(index, level, heading_text(inline_after(tokens, index)))
            skip = index + 1
        else:
            _visit(walker, token)
    return tuple(draft.section() for draft in walker.drafts)


def _visit(walker: _Walker, token: Token) -> None:
    kind = token.type.removesuffix("_open").removesuffix("_close")
    if kind in _CONTAINERS:
        if token.nesting == 1:
            walker.open_container()
        else:
            walker.close_container()
    elif token.type == "inline":
        walker.add_text(inline_text(token))
    elif token.type in ("fence", "code_block"):
        walker.add_text(token.content)
