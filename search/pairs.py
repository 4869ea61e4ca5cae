"""Japanese character pairs held to their words: which documents hold a query's words, and what its pairs score there.

kb indexes Japanese as Sudachi words plus character pairs, the pairs for compounds that the text's words
split otherwise. A pair also lies inside unrelated words: ワー of パスワード inside ワークスペース, ード
inside コード. So a pair of the query counts only in a document that holds a word it lies across in the
query (:data:`search.analyze.Need`), and all of it is read from the postings: no document text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from search.analyze import Need, Word

COUNT_CELLS = 1 << 20
"""How many (word, document) pair counts are made at once: 8 MB of counts, however long the query and large the index."""


@dataclass(frozen=True)
class Postings:
    """An index's postings as bm25s keeps them (compressed columns): per term, its documents and its BM25 in each."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    vocabulary: Mapping[str, int]
    size: int
    """How many documents the index holds."""

    def gather(self, numbers: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Where the postings of the terms ``numbers`` lie in ``data`` and ``indices``, all at once, and which of them each is of."""
        ids = np.array(numbers, dtype=np.int64)
        starts = self.indptr[ids].astype(np.int64)
        lengths = self.indptr[ids + 1].astype(np.int64) - starts
        owner = np.repeat(np.arange(len(ids)), lengths)
        return np.arange(int(lengths.sum())) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths), owner


@dataclass(frozen=True)
class Holders:
    """Which documents hold each of a query's words: a row of flags per word (``row``), read from the postings.

    A document holds a word when it has the word's term, or every character pair of its spelling (a
    compound its own words split otherwise, in any order: the postings keep no positions, and a document
    holding every pair of a longer word without the word is rare).
    """

    row: Mapping[Word, int]
    matrix: np.ndarray

    @classmethod
    def read(cls, postings: Postings, words: Sequence[Word]) -> Holders:
        """Every word's row, from the postings of its term and of its pairs, many words at once: a question of
        thirty terms costs a few array operations, not a few per term. Pairs are counted per word and
        document by ``bincount``, not sorted: numpy sorts slowly on the CPUs measured (70 µs for 3,000 ids)."""
        size = max(postings.size, 1)
        matrix = np.zeros((len(words), postings.size), dtype=bool)
        step = max(1, COUNT_CELLS // size)  # words counted together: their counts stay within COUNT_CELLS
        for first in range(0, len(words), step):
            _hold(postings, words[first : first + step], matrix[first : first + step].reshape(-1))
        return cls({word: row for row, word in enumerate(words)}, matrix)

    def grouped(self, owner: np.ndarray, count: int) -> Holders:
        """The same words held by ``count`` groups of these documents (articles of chunks; ``owner``: each
        document's group), where any document of the group holds them."""
        matrix = np.zeros((len(self.matrix), count), dtype=bool)
        flags = np.flatnonzero(self.matrix)  # flat, not per axis: five times faster here
        matrix[flags // self.matrix.shape[1], owner[flags % self.matrix.shape[1]]] = True
        return Holders(self.row, matrix)

    def meeting(self, needs: Sequence[Need]) -> np.ndarray:
        """The documents that hold a word of one of ``needs``, as a mask (not to be written to)."""
        words = list(dict.fromkeys(word for need in needs for word in need))
        if len(words) == 1:  # most often: one word's own row
            return self.matrix[self.row[words[0]]]
        if not words:
            return np.zeros(self.matrix.shape[1], dtype=bool)
        return np.logical_or.reduce(self.matrix[[self.row[word] for word in words]], axis=0)


def _hold(postings: Postings, words: Sequence[Word], flags: np.ndarray) -> None:
    """Set ``flags`` (``row * size + document``) where a document holds a word: its term, or every distinct pair of it."""
    vocabulary, size = postings.vocabulary, postings.size
    spellings = [tuple(dict.fromkeys(word.pairs)) for word in words]
    rows, numbers = [], []
    for row, word in enumerate(words):
        if (number := vocabulary.get(word.term)) is not None:
            rows.append(row)
            numbers.append(number)
    terms = len(rows)
    for row, spelling in enumerate(spellings):
        for pair in spelling:
            if (number := vocabulary.get(pair)) is not None:
                rows.append(row)
                numbers.append(number)
    at, owner = postings.gather(numbers)
    places = np.array(rows, dtype=np.int64)[owner] * size + postings.indices[at]
    flags[places[owner < terms]] = True
    counts = np.bincount(places[owner >= terms], minlength=len(flags)).reshape(len(words), size)
    flags |= (counts == np.array([len(spelling) or -1 for spelling in spellings])[:, None]).reshape(-1)


def held_scores(
    postings: Postings, terms: Sequence[str], weights: Sequence[float], needs: Sequence[Need | None], holders: Holders
) -> np.ndarray:
    """BM25 of every document, each term with its weight (repeats counting again): a word wherever it stands, a
    character pair where a word of its need (one, or either of two for a pair across words) is held.

    The words' postings are read in one pass and the pairs' in another: a few array operations for the
    whole query rather than a few per term (bm25s adds term by term), so a long question costs about what
    plain BM25 did.
    """
    vocabulary, row = postings.vocabulary, holders.row
    free: list[tuple[int, float]] = []
    paired: list[tuple[int, float, int, int]] = []
    for term, weight, need in zip(terms, weights, needs, strict=True):
        if weight and need != () and (number := vocabulary.get(term)) is not None:
            if need is None:
                free.append((number, weight))
            else:
                paired.append((number, weight, row[need[0]], row[need[-1]]))
    scores = np.zeros(postings.size)
    if free:
        numbers, scale = zip(*free, strict=True)
        at, owner = postings.gather(numbers)
        scores += np.bincount(postings.indices[at], weights=_weighted(postings.data[at], scale, owner), minlength=postings.size)
    if paired:
        numbers, scale, first, last = zip(*paired, strict=True)
        at, owner = postings.gather(numbers)
        documents, firsts = postings.indices[at], np.array(first)[owner]
        held = holders.matrix[firsts, documents]
        if first != last:  # a pair across two words: or the second one
            lasts = np.array(last)[owner]
            across = np.flatnonzero(lasts != firsts)
            held[across] |= holders.matrix[lasts[across], documents[across]]
        values = _weighted(postings.data[at[held]], scale, owner[held])
        scores += np.bincount(documents[held], weights=values, minlength=postings.size)
    return scores.astype(np.float32)


def _weighted(values: np.ndarray, scale: Sequence[float], owner: np.ndarray) -> np.ndarray:
    """Each posting's BM25 times its term's weight (an English function word's 0.25 in a mixed query), skipped when all are 1."""
    return values if all(weight == 1.0 for weight in scale) else values * np.array(scale, dtype=np.float32)[owner]
