"""Personal data taken out of what customers type before kb keeps it: e-mail addresses, phone numbers, card
numbers, and the order or ticket numbers a company describes.

Customers paste all of these into a search box ("refund order #77812", "my card 4111 1111 1111 1111 was
charged twice", "電話は090-1234-5678"). A search log is for finding what the help center lacks, not who
asked: each is replaced by a placeholder (``[email]``, ``[phone]``, ``[card]``, ``[number]``) before a
query reaches the database, so no report, export or backup holds it.

Phone numbers are found by Google's libphonenumber (the ``phonenumbers`` port), in the formats of the
regions the settings name, full-width digits included; card numbers are 13–19 digits written as cards
are (unbroken, or in groups of four, or Amex's 4-6-5) that pass the Luhn check (``python-stdnum``), so
a phone or order number that happens to pass it is not taken for one.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import phonenumbers
from stdnum import luhn

from kb.core.text import is_email_address

EMAIL = "[email]"
PHONE = "[phone]"
CARD = "[card]"
NUMBER = "[number]"

SCRUBBED_CACHE = 4096
_EMAIL_CANDIDATE = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+")
_DIGIT_RUN = re.compile(r"\d+(?:[ -]\d+)*")
_DIGIT_GROUP = re.compile(r"\d+")


@dataclass(frozen=True)
class Scrubber:
    """What to take out of a text, and how; one per deployment (from the settings)."""

    regions: tuple[str, ...] = ("US", "GB", "JP")
    """Where phone numbers written without a country code are read from (ISO 3166 codes)."""
    patterns: tuple[re.Pattern[str], ...] = field(default=())
    """The company's own identifiers (order, ticket, account numbers), each replaced by ``[number]``."""

    @functools.lru_cache(maxsize=SCRUBBED_CACHE)  # noqa: B019  # one Scrubber per deployment, kept for its life
    def scrub(self, text: str) -> str:
        """``text`` (NFKC-normalised, so full-width digits count) with every personal datum replaced by its placeholder.

        Kept for the most recent texts: head queries repeat, and finding phone numbers in three regions'
        formats is the writer thread's largest cost per event."""
        text = unicodedata.normalize("NFKC", text)
        text = _EMAIL_CANDIDATE.sub(lambda match: EMAIL if is_email_address(match.group()) else match.group(), text)
        for pattern in self.patterns:
            text = pattern.sub(NUMBER, text)
        text = _DIGIT_RUN.sub(lambda match: _without_cards(match.group()), text)
        return _without_phone_numbers(text, self.regions)


def scrubber(regions: Sequence[str], patterns: Sequence[str]) -> Scrubber:
    """A :class:`Scrubber` from settings' texts; a pattern that does not compile is a ``ValueError`` naming it."""
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as error:
            raise ValueError(f"scrub pattern {pattern!r} is not a regular expression: {error}") from None
    return Scrubber(tuple(region.upper() for region in regions), tuple(compiled))


CARD_GROUPS = (
    (4, 4, 4, 4), (4, 4, 4, 4, 1), (4, 4, 4, 4, 2), (4, 4, 4, 4, 3), (4, 6, 5), (4, 6, 4), (4, 4, 4, 1), (4, 4, 4, 2), (4, 4, 4, 3),
)
"""How people write card numbers in groups (Visa and Mastercard 4-4-4-4, up to 19 digits; Amex 4-6-5; Diners 4-6-4);
written without spaces, any 13–19 digits. Other groupings are phone or order numbers."""


def _without_cards(run: str) -> str:
    """A run of digit groups ("+1 415 555 0100 4111 1111 1111 1111") with each stretch that is written as a card
    number and passes the Luhn check replaced by ``[card]``."""
    groups = list(_DIGIT_GROUP.finditer(run))
    sizes = [len(group.group()) for group in groups]
    parts, position, start = [], 0, 0
    while start < len(groups):
        end = _card_end(groups, sizes, start)
        if end is None:
            start += 1
            continue
        parts += [run[position : groups[start].start()], CARD]
        position, start = groups[end].end(), end + 1
    return "".join(parts) + run[position:]


def _card_end(groups: list[re.Match[str]], sizes: list[int], start: int) -> int | None:
    """The last group of a card number starting at group ``start``, the longest way of writing one first; None if none does."""
    shapes: list[tuple[int, ...]] = [(sizes[start],)] if 13 <= sizes[start] <= 19 else []
    shapes += sorted((shape for shape in CARD_GROUPS if tuple(sizes[start : start + len(shape)]) == shape), key=len, reverse=True)
    for shape in shapes:
        end = start + len(shape) - 1
        if luhn.is_valid("".join(group.group() for group in groups[start : end + 1])):
            return end
    return None


def _without_phone_numbers(text: str, regions: Sequence[str]) -> str:
    spans: list[tuple[int, int]] = []
    for region in regions:
        spans += [(match.start, match.end) for match in phonenumbers.PhoneNumberMatcher(text, region)]
    for start, end in sorted(_merged(spans), reverse=True):
        text = text[:start] + PHONE + text[end:]
    return text


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping spans (the same number read in two regions) as one."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
