"""Figures read out of a sentence: durations, money, percentages, counts and limits, error codes and versions.

English and Japanese, from NFKC-normalised text (full-width ２０％ is 20%). Each figure is counted in a base unit
(durations in seconds, data sizes in bytes, a Japanese counter as its English noun) so that figures written
differently compare: "two weeks" is "14 days" and "2週間", and a translation's "5台" is "5 devices".
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from search.analyze import STOP_WORDS_EN, english_terms

Value = float | str

_MONTH = 365.25 / 12 * 86400
_TOLERANCE = {"second": 0.02, "byte": 0.05}
"""Relative difference still read as the same figure: a month is 28-31 days ("1 month" = "30 days"), and a
gigabyte is 1,000 or 1,024 megabytes depending on who writes. Every other unit must match exactly."""

# A unit after an amount, as written (matched whole, ignoring case) → kind, the unit it is counted in, and
# how many of that one is. Durations are counted in seconds so that "two weeks" is "14 days" and "14日".
_UNITS: tuple[tuple[str, str, str, float], ...] = (
    (r"(?i:business days?|working days?)|営業日", "duration", "business day", 1),
    (r"(?i:seconds?|secs?)|秒", "duration", "second", 1),
    (r"(?i:minutes?|mins?)|分(?!の)", "duration", "second", 60),
    (r"(?i:hours?|hrs?)|時間", "duration", "second", 3600),
    (r"(?i:days?)|日間?", "duration", "second", 86400),
    (r"(?i:weeks?)|週間?", "duration", "second", 7 * 86400),
    (r"(?i:months?)|[かヶカヵケ]月間?", "duration", "second", _MONTH),
    (r"(?i:years?)|年間?", "duration", "second", 12 * _MONTH),
    (r"%|(?i:percent|per cent)|パーセント", "percent", "%", 1),
    (r"USD|(?i:dollars?)|ドル", "money", "USD", 1),
    (r"EUR|(?i:euros?)|ユーロ", "money", "EUR", 1),
    (r"GBP", "money", "GBP", 1),
    (r"JPY|(?i:yen)|円", "money", "JPY", 1),
    (r"KB|KiB|(?i:kilobytes?)", "count/limit", "byte", 1e3),  # capitals only: Mb is a megabit
    (r"MB|MiB|(?i:megabytes?)", "count/limit", "byte", 1e6),
    (r"GB|GiB|(?i:gigabytes?)", "count/limit", "byte", 1e9),
    (r"TB|TiB|(?i:terabytes?)", "count/limit", "byte", 1e12),
    # Japanese counters, counted as the English noun is, so that a translation's "5台" is "5 devices".
    (r"人|名", "count/limit", "person", 1),
    (r"台|デバイス", "count/limit", "device", 1),
    (r"回", "count/limit", "time", 1),
    (r"件", "count/limit", "item", 1),
    (r"行", "count/limit", "row", 1),
    (r"文字", "count/limit", "character", 1),
    (r"席|シート", "count/limit", "seat", 1),
    (r"ユーザー", "count/limit", "user", 1),
    (r"メンバー", "count/limit", "member", 1),
    (r"プロジェクト", "count/limit", "project", 1),
    (r"ワークスペース", "count/limit", "workspace", 1),
)  # fmt: skip
"""Rows are tried in order, so a unit that begins with another's text comes first (business days before days)."""
_COUNT_ALIASES = {"people": "person", "persons": "person", "children": "child"}
_CURRENCY_SIGNS = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15, "twenty": 20, "thirty": 30, "sixty": 60, "ninety": 90,
}  # fmt: skip
"""Words for the amounts of durations ("two weeks"); a count's amount must be in digits ("one way" counts nothing)."""

# Not after a letter, a digit or a sign that makes the digits part of something else (v2.3, ORB-2026, 10:30, $5,
# #1, and dates and ordinals: 4月14日, 2026 年 6 月 30 日, 第1回).
_START = r"(?<![A-Za-z0-9_.,/:#+\-$€£¥月年第])(?<![月年第]\s)"
_NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s?[万億])?"
_AMOUNT = rf"(?:{_NUMBER}|\b(?i:{'|'.join(_NUMBER_WORDS)})\b)"
_SEPARATOR = r"\s*(?:,\s*(?:and\s|or\s)?|\band\b|\bor\b|\bto\b|[-–—〜~]|から)\s*"
_UNIT = re.compile("|".join(unit for unit, *_ in _UNITS))
_QUANTITY = re.compile(rf"{_START}(?P<amounts>{_AMOUNT}(?:{_SEPARATOR}{_AMOUNT})*)[\s-]?(?P<unit>{_UNIT.pattern})(?![A-Za-z0-9目])")
"""An amount, or a list or range of them ("1, 3 and 7 days", "5–10 business days"), then a unit of :data:`_UNITS`."""
_MONEY = re.compile(rf"(?<![A-Za-z0-9])(?P<sign>US\$|[$€£¥]|USD|EUR|GBP|JPY)\s?(?P<amounts>{_NUMBER})(?![\d,])")
_COUNT = re.compile(rf"{_START}(?P<amounts>{_NUMBER}(?:{_SEPARATOR}{_NUMBER})*)\s+(?P<first>[a-z]{{2,}})(?:\s+(?P<second>[a-z]{{3,}}))?\b")
"""An amount and the word after it, or the one after that ("10 active projects")."""
_COUNT_NOT_AFTER = re.compile(r"(?:\b(?i:step|version|level|tier|page|line|part|number|no\.)|(?<=\S\s)[A-Z]\w*)\s+$")
"""A number after a name is part of it ("Windows 10 users", "step 2 settings"), not a count."""
_ERROR_CODES = (
    re.compile(r"(?<![\w-])(?P<code>[A-Z]{1,4}-?\d{3,5}|[A-Z]+(?:_[A-Z0-9]+)+)(?![\w-])"),  # E1042, ERR_SYNC_42
    re.compile(r"(?i:error|HTTP|status(?:\s+code)?|エラー|ステータス(?:コード)?)\s?(?P<code>[1-5]\d\d)(?!\d)"),  # error 404
    re.compile(r"(?<!\d)(?P<code>[1-5]\d\d)\s?(?i:error|エラー)"),  # 404 error
)
_ERROR_CUE = re.compile(r"error|code|fail|エラー|コード|失敗", re.I)
"""Code-like words count as error codes only in a sentence about errors: SHA256 and AES256 are not."""
_VERSION = re.compile(r"(?<![\w.])(?:[vV]|(?i:version|ver\.?|バージョン)\s?)(?P<number>\d+(?:\.\d+){0,3})(?![\w.])")


@dataclass(frozen=True)
class Figure:
    """A figure as written, with what it is counted in; a list or range ("1, 3 and 7 days", "5–10") has several values."""

    kind: str
    unit: str
    values: tuple[Value, ...]
    written: str
    start: int
    end: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.unit)


def figures_of(sentence: str) -> list[Figure]:
    """The figures of one NFKC-normalised sentence; where two readings overlap, the earlier and longer wins."""
    candidates = [*_quantities(sentence), *_money(sentence), *_counts(sentence), *_codes(sentence), *_versions(sentence)]
    kept: list[Figure] = []
    for figure in sorted(candidates, key=lambda f: (f.start, f.start - f.end)):
        if not kept or figure.start >= kept[-1].end:
            kept.append(figure)
    return kept


def _quantities(sentence: str) -> Iterator[Figure]:
    for match in _QUANTITY.finditer(sentence):
        kind, unit, factor = next((kind, unit, factor) for text, kind, unit, factor in _UNITS if re.fullmatch(text, match["unit"]))
        values = tuple(amount * factor for amount in _amounts(match["amounts"]))
        if kind == "duration" and max(values) >= 1000 * 12 * _MONTH:
            continue  # 2026年 is a calendar year, not a duration
        if kind == "count/limit" and unit != "byte":
            unit = english_terms([unit])[0]
        yield Figure(kind, unit, values, match.group(), match.start(), match.end())


def _money(sentence: str) -> Iterator[Figure]:
    for match in _MONEY.finditer(sentence):
        currency = _CURRENCY_SIGNS.get(match["sign"], match["sign"])
        yield Figure("money", currency, tuple(_amounts(match["amounts"])), match.group(), match.start(), match.end())


def _counts(sentence: str) -> Iterator[Figure]:
    """An amount and the plural noun after it ("5 users", "10 active projects"), counted in the noun's stem.

    A plural says the word counts things; any word after an amount would take verbs too ("the first 10
    become read-only"). A singular noun counts after 1 only ("1 user").
    """
    for match in _COUNT.finditer(sentence):
        values = tuple(_amounts(match["amounts"]))
        noun, end = _count_noun(match, single=values == (1.0,))
        if noun is None or _COUNT_NOT_AFTER.search(sentence, 0, match.start()):
            continue
        if len(values) == 1 and 1900 <= values[0] < 2100 and "," not in match["amounts"]:
            continue  # a year ("2026 prices")
        unit = _COUNT_ALIASES.get(noun) or english_terms([noun])[0]
        yield Figure("count/limit", unit, values, sentence[match.start() : end], match.start(), end)


def _count_noun(match: re.Match[str], *, single: bool) -> tuple[str | None, int]:
    for group in ("first", "second"):
        word = match[group]
        if word is None or word in STOP_WORDS_EN or _UNIT.fullmatch(word):
            break
        if _plural(word) or (single and group == "first"):
            return word, match.end(group)
    return None, match.end()


def _plural(word: str) -> bool:
    return word in _COUNT_ALIASES or (word.endswith("s") and not word.endswith(("ss", "us", "is")))


def _codes(sentence: str) -> Iterator[Figure]:
    if not _ERROR_CUE.search(sentence):
        return
    for pattern in _ERROR_CODES:
        for match in pattern.finditer(sentence):
            yield Figure("error code", "code", (match["code"],), match.group(), match.start(), match.end())


def _versions(sentence: str) -> Iterator[Figure]:
    for match in _VERSION.finditer(sentence):
        number = re.sub(r"(?:\.0)+$", "", match["number"])  # 2.0 is 2
        yield Figure("version", "version", (number,), match.group(), match.start(), match.end())


def _amounts(text: str) -> list[float]:
    """The numbers of "1, 3 and 7", "5–10", "two" or "1万" (10,000)."""
    amounts = []
    for part in re.findall(rf"{_NUMBER}|[A-Za-z]+", text):
        if part.lower() in _NUMBER_WORDS:
            amounts.append(float(_NUMBER_WORDS[part.lower()]))
        elif part[:1].isdigit():
            multiplier = 1e4 if part.endswith("万") else 1e8 if part.endswith("億") else 1
            amounts.append(float(part.rstrip("万億 ").replace(",", "")) * multiplier)
    return amounts


def same_value(unit: str, first: Value, second: Value) -> bool:
    if isinstance(first, str) or isinstance(second, str):
        return first == second
    return math.isclose(first, second, rel_tol=_TOLERANCE.get(unit, 1e-9))


def agree(first: Figure, second: Figure) -> bool:
    """Whether two figures give the same values ("two weeks" and "14日" do)."""
    return all(any(same_value(first.unit, a, b) for b in second.values) for a in first.values) and all(
        any(same_value(first.unit, a, b) for a in first.values) for b in second.values
    )
