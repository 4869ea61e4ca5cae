"""Heading anchors: one slug function and one numbering, shared by the HTML and the sections."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from markdown_it.token import Token

from articles.syntax import heading_level, heading_text, inline_after

ANCHORED_LEVELS = range(2, 5)
"""h2–h4 get ids; h1 is the article title and h5+ are too small to link to."""

EMPTY_SLUG = "section"


def slugify(text: str) -> str:
    """A URL fragment for a heading that works in any script.

    Letters, digits and combining marks of every script are kept (so Japanese headings get real
    anchors instead of an empty string); everything else becomes "-". NFKC first, so full-width
    "ＡＢＣ" and half-width katakana give the same slug as their usual forms.
    """
    normalised = unicodedata.normalize("NFKC", text).lower()
    mapped = "".join(char if _is_word_char(char) else "-" for char in normalised)
    slug = "-".join(part for part in mapped.split("-") if part)
    return slug or EMPTY_SLUG


def _is_word_char(char: str) -> bool:
    return unicodedata.category(char)[0] in ("L", "N", "M")


def unique_slug(text: str, used: set[str]) -> str:
    """``slugify`` plus "-1", "-2"… until unused; records the result in ``used``.

    Counting until free (rather than counting repeats of the base) keeps "Step", "Step", "Step 1"
    distinct: step, step-1, step-1-1.
    """
    base = slugify(text)
    candidate, number = base, 0
    while candidate in used:
        number += 1
        candidate = f"{base}-{number}"
    used.add(candidate)
    return candidate


def heading_anchors(tokens: Sequence[Token]) -> dict[int, str]:
    """The anchor of every h2–h4 heading, keyed by the index of its ``heading_open`` token.

    Both ``render_html`` and ``split_sections`` call this on the same token stream, which is what
    guarantees a section's anchor is the id its heading has in the HTML.
    """
    used: set[str] = set()
    anchors: dict[int, str] = {}
    for index, token in enumerate(tokens):
        if heading_level(token) in ANCHORED_LEVELS:
            anchors[index] = unique_slug(heading_text(inline_after(tokens, index)), used)
    return anchors
