"""What text kb accepts from outside: decided here once, for every request field, parameter and header.

Text is a sequence of Unicode scalar values: a lone surrogate (JSON lets ``"\\ud800"`` through) cannot
be written as UTF-8, so it would fail later, in a tokenizer, a git call or the JSON of the answer.
Control characters mean nothing in a query, an id or a title, and NUL ends strings in C (git, the
tokenizers, PostgreSQL). So kb accepts two kinds of text:

- a **line** (ids, locales, refs, titles, paths, header values): no control characters at all;
- **prose** (queries, commit messages, file contents): also tab, line feed and carriage return.

Everything else of Unicode is accepted, combining marks included; lengths are limited field by field.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

# C0 controls, DEL, C1 controls and the surrogate range. A str from JSON or from Python code can hold
# a lone surrogate; one decoded from UTF-8 bytes cannot.
_NOT_IN_A_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_NOT_IN_PROSE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def is_email_address(value: str) -> bool:
    """An address a person can be written to: one ``@``, a dotted domain, no spaces or brackets; at most 254
    characters (RFC 5321). Whether it exists is the mail server's to say."""
    return len(value) <= 254 and _EMAIL_ADDRESS.match(value) is not None


_EMAIL_ADDRESS = re.compile(r"^[^\s@<>\"]+@[^\s@<>\"]+\.[^\s@<>\"]+$")


def refusal(value: str, *, prose: bool = False) -> str | None:
    """Why ``value`` is not text kb accepts (naming the character and where it is), or None."""
    found = (_NOT_IN_PROSE if prose else _NOT_IN_A_LINE).search(value)
    if found is None:
        return None
    char, position = found.group(), found.start()
    if "\ud800" <= char <= "\udfff":
        return f"holds a lone surrogate (U+{ord(char):04X}) at character {position}, which is not Unicode text; send UTF-8"
    allowed = "; only tab and line breaks are allowed" if prose else ""
    return f"holds the control character {_name(char)} at character {position}{allowed}"


def _name(char: str) -> str:
    names = {"\x00": "NUL", "\t": "tab", "\n": "line feed", "\r": "carriage return", "\x7f": "DEL"}
    return f"U+{ord(char):04X}" + (f" ({names[char]})" if char in names else "")


def _line(value: str) -> str:
    if (reason := refusal(value)) is not None:
        raise PydanticCustomError("text", reason)
    return value


def _prose(value: str) -> str:
    if (reason := refusal(value, prose=True)) is not None:
        raise PydanticCustomError("text", reason)
    return value


Line = Annotated[str, AfterValidator(_line)]
"""A request string on one line: ids, locales, refs, names, titles, paths."""

Prose = Annotated[str, AfterValidator(_prose)]
"""A request string that may span lines: queries, messages, file contents."""

TEXT_VALIDATORS = (_line, _prose)
"""The checks above, for tests that prove every string a request carries goes through one of them."""

