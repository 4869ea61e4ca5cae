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
from kb.writing.figures import Figure, Value, agree, figures_of, same_value
from search.analyze import Analyzer, english_terms
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
class _Stated:
    """A figure in its sentence, with the words around it that say what it is a figure of."""

    figure: Figure
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

    def states(self, figure: Figure) -> bool:
        """Whether this section gives every value of ``figure`` somewhere: then it does not contradict it."""
        mine = self.values.get(figure.key, [])
        return all(any(same_value(figure.unit, value, other) for other in mine) for value in figure.values)


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
        figures = figures_of(normalised)
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


def _context_words(text: str, figures: list[Figure], analyzer: Analyzer) -> list[tuple[str, int, int]]:
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
            if mine.figure.key != theirs.figure.key or agree(mine.figure, theirs.figure):
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
