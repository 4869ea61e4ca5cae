"""Possible contradictions: sections of two articles (or an article and its translation) giving different figures for one thing.

A help center drifts: the refund window changes on the policy page and stays 14 days in the cancellation
guide. `kb check` and the dashboard list such pairs, with both passages, for a writer to settle.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from articles.model import Article, Chunk, Section
from search.analyze import STOP_WORDS_EN, Analyzer, english_terms
from search.encoder import CachedEncoder, Encoder

SIMILAR_SECTION_COSINE = 0.5
"""Sections of one locale this close may be about the same thing; only they have their figures compared.

Measured on the sample help center with the default model (196 sections with figures): the 37 pairs of
sections of two articles stating one fact (an agreeing figure, same-thing words: the 14-day trial, the retry
schedule after a failed payment, the E4290 rate limit) score 0.10-0.88, quartiles 0.45 / 0.60 / 0.68; the
other 9,719 pairs median 0.24, 95th percentile 0.55, and 8% reach 0.5. With the word rule below the
unchanged sample gives nothing at 0.5 or above; its false contradictions score 0.49 at most (30-second TOTP
codes against a 2-minute QR code; an email-change link valid for 24 hours against a reset link valid for 60
minutes). Of 21 drifts simulated on it (one article's figure changed where two state the same fact), 13 are
found at any cosine, 10 at 0.5 or above, the rest at 0.17, 0.38 and 0.41."""

CONTEXT_WORDS = 3
"""Content words read on each side of a figure, within its sentence, to tell what it is a figure of.

On the same sample and drifts, at 0.5: 2 words let one false contradiction through (0.70) and find 9 drifts,
4 words one (0.85) and 9; 3 none and 10."""

SAME_THING_OVERLAP = 0.5
"""The share of the shorter context (each word weighted by its rarity) two figures' contexts must have in common.

At 0.5 section cosine: 0.4 lets four false contradictions through (0.52-0.63) for one more drift found;
0.6 none, but finds 8 drifts instead of 10."""

PASSAGE_CHARS = 300
"""A passage shows the sentences holding the differing figures, cut to about this length."""

_ROWS_PER_PRODUCT = 1024
"""Rows of the similarity matrix computed at once: memory stays ~4 MB per 1,000 sections of a locale."""

KINDS = ("duration", "money", "percent", "count/limit", "error code", "version")
"""What a contradiction can be about; data sizes are limits ("10 GB"), like counts of things ("5 users")."""

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
_SENTENCE_END = re.compile(r"\n+|(?<=[.!?])\s+|(?<=[。！？])")
_CONTEXT_FUNCTION_WORDS = frozenset(english_terms(
    ["within", "per", "every", "least", "less", "than", "max", "maximum", "minimum", "total", "about", "around", "only"]
)) | {"以内", "以上", "以下", "未満", "後", "前", "毎", "最大", "最長", "最低", "約", "御", "場合"}  # fmt: skip
"""Words around a figure that say how it bounds something, not what: "within" is in refunds and invoices alike."""


@dataclass(frozen=True)
class Passage:
    """One side of a possible contradiction: where it is and the sentences that give the figure."""

    article: Article
    anchor: str
    heading: str
    text: str
    figures: tuple[str, ...]


@dataclass(frozen=True)
class Contradiction:
    """Two passages giving different figures of one kind (one of :data:`KINDS`) for what reads as one thing.

    ``similarity`` is the cosine of the two sections' embeddings; across languages (an article and its
    translation) it is low whatever they say, as the model reads English only.
    """

    first: Passage
    second: Passage
    kind: str
    similarity: float


@dataclass(frozen=True)
class _Figure:
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


@dataclass(frozen=True)
class _Stated:
    """A figure in its sentence, with the words around it that say what it is a figure of."""

    figure: _Figure
    sentence: str
    context: frozenset[str]


@dataclass(frozen=True)
class _Figured:
    """A section with the figures it states."""

    article: Article
    section: Section
    position: int
    stated: tuple[_Stated, ...]

    @property
    def embed_text(self) -> str:
        """The section as the index embeds it (a section that fits the model's window is one chunk), so a cached
        encoder already holds its vector."""
        article, section = self.article, self.section
        chunk = Chunk(article.id, article.locale, section.anchor, section.heading_path, section.text.strip(), article.title)
        return chunk.embed_text

    @cached_property
    def values(self) -> dict[tuple[str, str], list[Value]]:
        found: dict[tuple[str, str], list[Value]] = defaultdict(list)
        for stated in self.stated:
            found[stated.figure.key].extend(stated.figure.values)
        return found

    def states(self, figure: _Figure) -> bool:
        """Whether this section gives every value of ``figure`` somewhere: then it does not contradict it."""
        mine = self.values.get(figure.key, [])
        return all(any(_same(figure.unit, value, other) for other in mine) for value in figure.values)


def contradictions(
    articles: Sequence[Article], encoder: Encoder | CachedEncoder, *, threshold: float = SIMILAR_SECTION_COSINE
) -> list[Contradiction]:
    """Pairs of sections giving different figures of one kind and unit for what reads as the same thing.

    Within a locale, sections are paired by their embeddings (at least ``threshold`` alike) and a figure is
    about the same thing when the words around it overlap. An article and its translation are paired
    section by section instead (the model reads English only, so its cosine across languages says little),
    and the alignment already says the figures are about the same thing. A section that also gives the
    other's value does not contradict it: it lists both (a yearly and a monthly plan's windows). The server
    passes its cached encoder: the sections are embedded as the index embedded them, so their vectors are cached.
    """
    sections = _figured_sections(articles, Analyzer())
    if not sections:
        return []
    vectors = encoder.encode([section.embed_text for section in sections])
    rarity = _rarity(sections)
    pairs: list[tuple[int, int, Mapping[str, float] | None]] = [(i, j, rarity) for i, j in _similar_pairs(sections, vectors, threshold)]
    pairs += [(i, j, None) for i, j in _translation_pairs(sections)]
    found = [
        contradiction
        for i, j, words in pairs
        for contradiction in _compare(sections[i], sections[j], float(vectors[i] @ vectors[j]), rarity=words)
    ]
    return sorted(found, key=lambda c: (-c.similarity, c.first.article.path, c.second.article.path, c.first.anchor, c.kind))


def _figured_sections(articles: Sequence[Article], analyzer: Analyzer) -> list[_Figured]:
    """Sections stating at least one figure: only they can contradict, so only they are embedded."""
    figured = []
    for article in articles:
        for position, section in enumerate(article.sections):
            stated = tuple(_stated(section.text, " ".join(section.heading_path) or article.title, analyzer))
            if stated:
                figured.append(_Figured(article, section, position, stated))
    return figured


def _stated(text: str, heading: str, analyzer: Analyzer) -> Iterator[_Stated]:
    for sentence in _SENTENCE_END.split(text):
        normalised = unicodedata.normalize("NFKC", sentence)  # full-width digits and signs: ２０％ is 20%
        figures = _figures(normalised)
        if not figures:
            continue
        words = _context_words(normalised, figures, analyzer)
        for figure in figures:
            before = [term for term, start, _ in words if start < figure.start][-CONTEXT_WORDS:]
            after = [term for term, start, _ in words if start >= figure.end][:CONTEXT_WORDS]
            context = set(before + after)
            if len(context) < 2:  # a table cell or list item ("90 days"): its heading says what it is about
                context |= {term for term, *_ in _context_words(heading, [], analyzer)}
            yield _Stated(figure, sentence.strip(), frozenset(context))


def _context_words(text: str, figures: list[_Figure], analyzer: Analyzer) -> list[tuple[str, int, int]]:
    """Content words outside the figures, each as (term, start, end); Japanese words side by side are one compound.

    Sudachi's short units cut compounds (ワークスペース into ワークス, ペース; 有効期限 into 有効, 期限),
    which would let one compound look like two shared words.
    """
    words: list[tuple[str, int, int]] = []
    for token in analyzer.tokens(text):
        if not token.content or token.pair or token.term.isdigit() or token.term in _CONTEXT_FUNCTION_WORDS:
            continue
        if any(figure.start < token.end and token.start < figure.end for figure in figures):
            continue
        if words and words[-1][2] == token.start and not token.term.isascii() and not words[-1][0].isascii():
            words[-1] = (words[-1][0] + token.term, words[-1][1], token.end)
        else:
            words.append((token.term, token.start, token.end))
    return words


def _figures(sentence: str) -> list[_Figure]:
    """The figures of one NFKC-normalised sentence; where two readings overlap, the earlier and longer wins."""
    candidates = [*_quantities(sentence), *_money(sentence), *_counts(sentence), *_codes(sentence), *_versions(sentence)]
    kept: list[_Figure] = []
    for figure in sorted(candidates, key=lambda f: (f.start, f.start - f.end)):
        if not kept or figure.start >= kept[-1].end:
            kept.append(figure)
    return kept


def _quantities(sentence: str) -> Iterator[_Figure]:
    for match in _QUANTITY.finditer(sentence):
        kind, unit, factor = next((kind, unit, factor) for text, kind, unit, factor in _UNITS if re.fullmatch(text, match["unit"]))
        values = tuple(amount * factor for amount in _amounts(match["amounts"]))
        if kind == "duration" and max(values) >= 1000 * 12 * _MONTH:
            continue  # 2026年 is a calendar year, not a duration
        if kind == "count/limit" and unit != "byte":
            unit = english_terms([unit])[0]
        yield _Figure(kind, unit, values, match.group(), match.start(), match.end())


def _money(sentence: str) -> Iterator[_Figure]:
    for match in _MONEY.finditer(sentence):
        currency = _CURRENCY_SIGNS.get(match["sign"], match["sign"])
        yield _Figure("money", currency, tuple(_amounts(match["amounts"])), match.group(), match.start(), match.end())


def _counts(sentence: str) -> Iterator[_Figure]:
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
        yield _Figure("count/limit", unit, values, sentence[match.start() : end], match.start(), end)


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


def _codes(sentence: str) -> Iterator[_Figure]:
    if not _ERROR_CUE.search(sentence):
        return
    for pattern in _ERROR_CODES:
        for match in pattern.finditer(sentence):
            yield _Figure("error code", "code", (match["code"],), match.group(), match.start(), match.end())


def _versions(sentence: str) -> Iterator[_Figure]:
    for match in _VERSION.finditer(sentence):
        number = re.sub(r"(?:\.0)+$", "", match["number"])  # 2.0 is 2
        yield _Figure("version", "version", (number,), match.group(), match.start(), match.end())


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


def _same(unit: str, first: Value, second: Value) -> bool:
    if isinstance(first, str) or isinstance(second, str):
        return first == second
    return math.isclose(first, second, rel_tol=_TOLERANCE.get(unit, 1e-9))


def _agree(first: _Figure, second: _Figure) -> bool:
    """Whether two figures give the same values ("two weeks" and "14日" do)."""
    return all(any(_same(first.unit, a, b) for b in second.values) for a in first.values) and all(
        any(_same(first.unit, a, b) for a in first.values) for b in second.values
    )


def _similar_pairs(sections: list[_Figured], vectors: np.ndarray, threshold: float) -> Iterator[tuple[int, int]]:
    """Pairs (i < j) of one locale and different articles, at least ``threshold`` alike, sharing a kind and unit.

    Matrix products over blocks of rows: no Python loop over pairs of sections, and memory bounded per block.
    """
    keys = {key: n for n, key in enumerate(sorted({key for section in sections for key in section.values}))}
    holds = np.zeros((len(sections), len(keys)), dtype=np.float32)
    for i, section in enumerate(sections):
        holds[i, [keys[key] for key in section.values]] = 1
    locale = _codes_of([section.article.locale for section in sections])
    article = _codes_of([section.article.path for section in sections])
    index = np.arange(len(sections))
    for start in range(0, len(sections), _ROWS_PER_PRODUCT):
        rows = slice(start, start + _ROWS_PER_PRODUCT)
        candidate = (vectors[rows] @ vectors.T >= threshold) & (holds[rows] @ holds.T > 0)
        candidate &= (locale[rows, None] == locale[None, :]) & (article[rows, None] != article[None, :])
        candidate &= index[rows, None] < index[None, :]
        for i, j in zip(*np.nonzero(candidate), strict=True):
            yield start + int(i), int(j)


def _codes_of(names: list[str]) -> np.ndarray:
    """Names as small integers, so that comparing every row with every column is an integer comparison."""
    numbered: dict[str, int] = {}
    return np.array([numbered.setdefault(name, len(numbered)) for name in names])


def _translation_pairs(sections: list[_Figured]) -> Iterator[tuple[int, int]]:
    """Sections in the same place of an article and its translation, when both have as many sections."""
    by_place: dict[tuple[str, int], list[int]] = defaultdict(list)
    for index, section in enumerate(sections):
        by_place[(section.article.id, section.position)].append(index)
    for indices in by_place.values():
        for n, i in enumerate(indices):
            for j in indices[n + 1 :]:
                first, second = sections[i].article, sections[j].article
                if first.locale != second.locale and len(first.sections) == len(second.sections):
                    yield i, j


def _compare(first: _Figured, second: _Figured, similarity: float, *, rarity: Mapping[str, float] | None) -> list[Contradiction]:
    """One contradiction per kind where the two sections give different figures, neither giving the other's.

    ``rarity`` weighs the words around figures; None pairs a translation's aligned sections, where the
    alignment says the figures are about the same thing and words of two languages cannot be compared.
    """
    differing: dict[str, tuple[list[_Stated], list[_Stated]]] = defaultdict(lambda: ([], []))
    for mine in first.stated:
        for theirs in second.stated:
            if mine.figure.key != theirs.figure.key or _agree(mine.figure, theirs.figure):
                continue
            if second.states(mine.figure) or first.states(theirs.figure):
                continue
            if rarity is None or _same_thing(mine.context, theirs.context, rarity):
                ours, others = differing[mine.figure.kind]
                ours.append(mine)
                others.append(theirs)
    return [Contradiction(_passage(first, ours), _passage(second, others), kind, similarity) for kind, (ours, others) in differing.items()]


def _rarity(sections: list[_Figured]) -> dict[str, float]:
    """Each context word's inverse document frequency among all figures' contexts.

    Words around many figures ("error", "plan", the product's name) say little about which thing a figure is of.
    """
    contexts = [stated.context for section in sections for stated in section.stated]
    frequency = Counter(word for context in contexts for word in context)
    return {word: math.log(1 + len(contexts) / count) for word, count in frequency.items()}


def _same_thing(first: frozenset[str], second: frozenset[str], rarity: Mapping[str, float]) -> bool:
    """Whether the words around two figures say they are of one thing: the shorter context mostly shared, by weight."""
    shared = sum(rarity[word] for word in first & second)
    shorter = min(sum(rarity[word] for word in first), sum(rarity[word] for word in second))
    return shared > 0 and shared >= SAME_THING_OVERLAP * shorter


def _passage(side: _Figured, stated: list[_Stated]) -> Passage:
    text = " … ".join(dict.fromkeys(s.sentence for s in stated))
    if len(text) > PASSAGE_CHARS:
        text = text[:PASSAGE_CHARS].rsplit(" ", 1)[0] + " …"
    heading = " › ".join(side.section.heading_path) or side.article.title
    figures = tuple(dict.fromkeys(s.figure.written for s in stated))
    return Passage(side.article, side.section.anchor, heading, text, figures)
