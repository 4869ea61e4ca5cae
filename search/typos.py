"""Typo tolerance for lexical matching, as Meilisearch has it: one typo from five letters, two from nine.

A customer who types "pasword" or "subscripton" finds nothing by words: BM25 matches terms exactly, and
the mistyped word is in no article. kb reads such a word as the words of the help center within its
typo budget — insertions, deletions, substitutions and swaps of two neighbours (optimal string
alignment, rapidfuzz), the first letter kept — the closest first, and the most common of those.

Only words the help center does not hold are read this way: a word it holds is what the customer
meant often enough ("charge" is not a typo of "change") and is matched exactly, as before. Nor is a
word of everyday English the help center lacks (wordfreq's list of the 29,000 words seen once per
million words or more): "stuck" is not a typo of "stock", nor "physician" of "physical". On
feedbackqa-australia's clean queries those two readings cost nDCG@10 0.0011 without that list; common
misspellings are rarer than that in text ("recieve", "seperate", "adress" are not on it). Identifiers
are never fuzzed: a word with a digit (E1042, 2FA), one in capitals (SAML) or one joined to the next by
``_``, ``.`` or ``/`` (``api_key``, ``config.yml``) names one thing and its neighbours name others.
Japanese is not fuzzed either: its words are matched by their character pairs, which already tolerate a
wrong character in a long word.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA
from wordfreq import get_frequency_dict

ONE_TYPO_FROM = 5
"""Letters a word needs before one typo is tolerated (Meilisearch's default, ``minWordSizeForTypos.oneTypo``)."""
TWO_TYPOS_FROM = 9
"""Letters a word needs before two typos are (``minWordSizeForTypos.twoTypos``)."""
MAX_READINGS = 3
"""Words of the help center one mistyped word is read as, at most: the closest, most common first."""
MAX_FUZZED_WORDS = 8
"""Unknown words of one query looked up, at most: a pasted log line must not cost a search its speed."""

# Lexicon words: letters only, no digits (identifiers never become a correction either), at least as long
# as the shortest word one deletion from a five-letter word.
_LEXICON_WORD = re.compile(rf"[^\W\d_]{{{ONE_TYPO_FROM - 1},}}")
_NOT_LATIN = re.compile(r"[^\u0000-\u024f]")
_JOINED = "_./"


@functools.cache
def everyday_words() -> frozenset[str]:
    """English words seen once per million words of text or more (wordfreq's "small" list, lowercased)."""
    return frozenset(get_frequency_dict("en", wordlist="small"))


def typo_budget(word: str) -> int:
    """How many typos ``word`` (as typed) may hold: 0 below :data:`ONE_TYPO_FROM` letters, 1, or 2 from :data:`TWO_TYPOS_FROM`."""
    if len(word) >= TWO_TYPOS_FROM:
        return 2
    return 1 if len(word) >= ONE_TYPO_FROM else 0


def is_identifier(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` names a thing rather than says a word: a digit in it, all capitals, or joined by ``_./``."""
    word = text[start:end]
    if any(character.isdigit() for character in word) or (len(word) > 1 and word.isupper()):
        return True
    before, after = text[start - 1 : start], text[end : end + 1]
    return bool(before and before in _JOINED and start > 1 and text[start - 2].isalnum()) or bool(
        after and after in _JOINED and text[end + 1 : end + 2].isalnum()
    )


@dataclass(frozen=True)
class Reading:
    """A word of the help center that a mistyped word of the query is read as."""

    word: str
    """As the help center writes it (lowercased): what the model reads in the query's place."""
    term: str
    """Its index term (stem): what BM25 scores."""
    typos: int


Frequency = Callable[[str], int]
"""In how many chunks the reader may see an index term stands: words of articles hidden from them are no readings."""


class Lexicon:
    """The words of a snapshot's text as written (lowercased, Latin script), by first letter, with their index terms.

    Built once per snapshot from what it indexes, every article's words; a reading is offered only when the
    reader may see a chunk that holds it (:data:`Frequency`), so no hidden article lends a word.
    """

    def __init__(self, words: dict[str, str]) -> None:
        """``words``: each word and its index term."""
        self._terms = words
        self._by_letter: dict[str, list[str]] = {}
        for word in sorted(words):
            self._by_letter.setdefault(word[0], []).append(word)

    @classmethod
    def of(cls, texts: Iterable[str], *, stem: Callable[[list[str]], list[str]]) -> Lexicon:
        """The lexicon of ``texts``: every Latin word of four letters or more, with the term ``stem`` gives it."""
        found: dict[str, None] = {}
        for text in texts:
            found.update(dict.fromkeys(match.group().lower() for match in _LEXICON_WORD.finditer(text)))
        words = [word for word in found if not _NOT_LATIN.search(word)]
        everyday_words()  # loaded with the snapshot, not by the first query with a typo
        return cls(dict(zip(words, stem(words), strict=True)))

    def readings(self, word: str, frequency: Frequency) -> list[Reading]:
        """What ``word`` (lowercased, as typed) may have meant: words within its typo budget, same first letter,
        that the reader may find (``frequency`` above 0).

        Only those at the smallest distance found, one per index term, the most frequent first, at most
        :data:`MAX_READINGS`. None for a word too short to fuzz.
        """
        budget = typo_budget(word)
        if not budget:
            return []
        bucket = self._by_letter.get(word[0], [])
        found = process.extract(word, bucket, scorer=OSA.distance, score_cutoff=budget, limit=None)
        counted = [(candidate, int(distance), frequency(self._terms[candidate])) for candidate, distance, _ in found]
        counted = [item for item in counted if item[2] > 0 and item[0] != word]
        if not counted:
            return []
        closest = min(distance for _, distance, _ in counted)
        best: dict[str, tuple[Reading, int]] = {}
        for candidate, distance, count in counted:
            term = self._terms[candidate]
            if distance == closest and term not in best:
                best[term] = (Reading(candidate, term, distance), count)
        ranked = sorted(best.values(), key=lambda item: (-item[1], item[0].word))
        return [reading for reading, _ in ranked[:MAX_READINGS]]


@dataclass(frozen=True)
class Correction:
    """One mistyped word of a query and what it is read as."""

    start: int
    end: int
    typed: str
    readings: tuple[Reading, ...]


def corrections(text: str, words: Sequence[tuple[int, int, str]], lexicon: Lexicon, frequency: Frequency) -> list[Correction]:
    """The words of ``text`` (``(start, end, index term)``, its English words) that neither the reader's help center
    (``frequency``) nor everyday English holds, with their readings; a word typed twice is looked up once.

    A word counts as held when its index term is (``passwords`` where articles say ``password``).
    """
    found: list[Correction] = []
    readings_of: dict[str, list[Reading]] = {}
    for start, end, term in words:
        typed = text[start:end].lower()
        if typed not in readings_of:
            if len(readings_of) >= MAX_FUZZED_WORDS:
                break
            if not typo_budget(typed) or typed in everyday_words() or _NOT_LATIN.search(typed) or is_identifier(text, start, end):
                continue
            if frequency(term) > 0:
                continue
            readings_of[typed] = lexicon.readings(typed, frequency)
        if readings_of[typed]:
            found.append(Correction(start, end, typed, tuple(readings_of[typed])))
    return found


def corrected_text(text: str, found: Sequence[Correction]) -> str:
    """``text`` with each mistyped word replaced by its first reading: what the model reads."""
    parts, position = [], 0
    for correction in sorted(found, key=lambda c: c.start):
        parts += [text[position : correction.start], correction.readings[0].word]
        position = correction.end
    return "".join(parts) + text[position:]
