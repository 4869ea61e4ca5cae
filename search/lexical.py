"""The lexical index: BM25 (bm25s) over analysed chunk text, restricted by an allow-list inside scoring."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import bm25s
import numpy as np

from search.analyze import Need, Word
from search.pairs import Holders, Postings, held_scores


class LexicalIndex:
    """BM25 over one token list per chunk.

    Field weighting (title above headings above text) is done by the caller repeating the title and
    heading terms in a chunk's token list: a cheap BM25F approximation that keeps one index.
    """

    def __init__(self, documents: Sequence[list[str]], *, k1: float = 1.5, b: float = 0.75) -> None:
        # k1=1.5, b=0.75 with the title counted twice was the best of (1.5, .75), (1.2, .75), (.9, .4) on
        # the three English sets in ../shared/data, and within 0.003 nDCG@10 of the best on jsquad.
        self.size = len(documents)
        self._bm25 = bm25s.BM25(k1=k1, b=b, method="lucene")
        if documents:
            self._bm25.index([list(doc) for doc in documents], show_progress=False)
        self._holders: Holders | None = None

    def scores(
        self,
        terms: Sequence[str],
        *,
        weights: Sequence[float] | None = None,
        needs: Sequence[Need | None] = (),
        holders: Holders | None = None,
        allowed: np.ndarray | None = None,
    ) -> np.ndarray:
        """BM25 score of every document, each term counted with its weight (1 by default); documents
        outside ``allowed`` (a boolean mask) score 0.

        A term the query repeats counts again, as in plain BM25 (bm25s, Lucene): in Japanese a word
        and the bigrams inside it repeat what matters (jsquad, nDCG@10: 0.9409 against 0.9350 once each).
        A Japanese character pair (a term whose ``needs`` entry is not None) counts only in the documents
        that hold a word it lies across (`search/pairs.py`): elsewhere it is a piece of another word.
        ``holders`` says where those words are when the caller knows (an article holds what its chunks
        hold), else they are read from this index.
        """
        scores = np.zeros(self.size, dtype=np.float32)
        if self.size == 0:
            return scores
        weights = [1.0] * len(terms) if weights is None else weights
        mask = None if allowed is None else allowed.astype(np.float32)
        if any(need is not None for need in needs):
            holders = holders or self.holders([word for need in needs if need for word in need])
            scores = held_scores(self._postings_of, terms, weights, needs, holders)
            return scores if mask is None else scores * mask
        for weight in dict.fromkeys(weights):
            ids = self._bm25.get_tokens_ids([term for term, w in zip(terms, weights, strict=True) if w == weight])
            if ids and weight:
                scores += weight * self._bm25.get_scores_from_ids(ids, weight_mask=mask)
        return scores

    def search(
        self,
        terms: Sequence[str],
        *,
        k: int,
        weights: Sequence[float] | None = None,
        needs: Sequence[Need | None] = (),
        allowed: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best documents with a positive score, best first, as (ids, scores)."""
        return top_k(self.scores(terms, weights=weights, needs=needs, allowed=allowed), k)

    def holders(self, words: Sequence[Word]) -> Holders:
        """Which documents hold each of ``words`` (`search/pairs.py`), in any order.

        Kept for the last query's words: its scores, its articles' and its coverage (the answer gate) read
        the same ones. Threads share them safely: the last words and their holders are read and replaced whole.
        """
        last = self._holders
        if last is not None and last.row.keys() >= set(words):
            return last
        self._holders = holders = Holders.read(self._postings_of, list(dict.fromkeys(words)))
        return holders

    @property
    def _postings_of(self) -> Postings:
        postings = self._bm25.scores
        return Postings(postings["data"], postings["indices"], postings["indptr"], self._bm25.vocab_dict, self.size)

    def term_mask(self, terms: Sequence[str]) -> np.ndarray:
        """Which of the index's term ids are among ``terms``, as a boolean array over its vocabulary."""
        if self.size == 0:
            return np.zeros(0, dtype=bool)
        mask = np.zeros(len(self._bm25.vocab_dict), dtype=bool)
        mask[self._bm25.get_tokens_ids(list(terms))] = True
        return mask

    def term_id(self, term: str) -> int | None:
        """The id of ``term``, None when the index never saw it."""
        return self._bm25.vocab_dict.get(term) if self.size else None

    def term_ids(self, terms: Sequence[str]) -> np.ndarray:
        """The ids of ``terms``, every one of which the index holds (terms of an indexed chunk)."""
        vocabulary = self._bm25.vocab_dict
        return np.fromiter((vocabulary[term] for term in terms), dtype=np.int32, count=len(terms))

    def idf(self, term_ids: np.ndarray) -> np.ndarray:
        """Each term's BM25 IDF: how rare, so how telling, a word is in this index."""
        if not len(term_ids):
            return np.zeros(0)
        indptr = self._bm25.scores["indptr"]
        return np.array([_idf(int(indptr[i + 1] - indptr[i]), self.size) for i in term_ids.tolist()])

    def total_idf(self, terms: Sequence[str]) -> float:
        """The IDF of ``terms``, each counted once, a term the index never saw with the highest there is (as :meth:`coverage` counts)."""
        return sum(self._postings(term)[0] for term in dict.fromkeys(terms))

    def coverage(
        self,
        terms: Sequence[str],
        chunk_ids: np.ndarray,
        *,
        pairs: Mapping[str, Sequence[Need]] | None = None,
        alternatives: Mapping[str, Sequence[Sequence[str]]] | None = None,
    ) -> np.ndarray:
        """For each of ``chunk_ids``, the share of the terms' inverse document frequency that it holds.

        A term the index never saw counts with the highest IDF there is: a query about what the help
        center never mentions ("weather in Paris tomorrow") is mostly not covered by a chunk that
        happens to say "tomorrow". A term of ``pairs`` (one the query holds only as a Japanese character
        pair) is held only with a word of one of its needs (:meth:`scores`). A term is held too where every
        term of one of its ``alternatives`` groups is (another reading of a mistyped word, a synonym's words).
        """
        held = np.zeros(len(chunk_ids))
        total = 0.0
        holds = np.zeros(self.size, dtype=bool)  # reused per term; np.isin here cost 0.3 ms a search
        pairs = {term: pairs[term] for term in terms if term in pairs} if pairs else {}
        words = self.holders([word for needs in pairs.values() for need in needs for word in need]) if pairs else None
        for term in dict.fromkeys(terms):
            weight, holders = self._postings(term)
            total += weight
            if len(holders):
                holds[holders] = True
                found = holds[chunk_ids]
                if words is not None and term in pairs:
                    found &= words.meeting(pairs[term])[chunk_ids]
                holds[holders] = False
            else:
                found = np.zeros(len(chunk_ids), dtype=bool)
            for group in alternatives.get(term, ()) if alternatives else ():
                found |= self._holding_all(group, chunk_ids, holds)
            held += weight * found
        return held / total if total else held

    def _holding_all(self, terms: Sequence[str], chunk_ids: np.ndarray, holds: np.ndarray) -> np.ndarray:
        """Which of ``chunk_ids`` hold every one of ``terms`` (``holds``: a cleared scratch mask over the documents)."""
        found = np.ones(len(chunk_ids), dtype=bool)
        for term in terms:
            postings = self._postings(term)[1]
            holds[postings] = True
            found &= holds[chunk_ids]
            holds[postings] = False
        return found

    def frequency(self, term: str, allowed: np.ndarray | None = None) -> int:
        """In how many documents ``term`` stands, of the ``allowed`` ones (a boolean mask) when given; 0: none."""
        postings = self._postings(term)[1]
        return len(postings) if allowed is None else int(np.count_nonzero(allowed[postings]))

    def _postings(self, term: str) -> tuple[float, np.ndarray]:
        """A term's IDF and the chunks that hold it; a term the index never saw: the highest IDF, and none."""
        number = self._bm25.vocab_dict.get(term) if self.size else None
        if number is None:
            return _idf(0, self.size), np.zeros(0, dtype=np.int64)
        postings = self._bm25.scores
        start, end = int(postings["indptr"][number]), int(postings["indptr"][number + 1])
        return _idf(end - start, self.size), postings["indices"][start:end]


def _idf(frequency: int, size: int) -> float:
    """Lucene's BM25 IDF, as bm25s scores with it."""
    return math.log(1 + (size - frequency + 0.5) / (frequency + 0.5))


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``k`` largest positive scores, best first."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) > k:
        positive = positive[np.argpartition(-scores[positive], k - 1)[:k]]
    order = positive[np.argsort(-scores[positive], kind="stable")]
    return order, scores[order]
