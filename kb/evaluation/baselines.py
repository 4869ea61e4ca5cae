"""Baselines for `kb eval --baselines`: plain BM25, plain dense retrieval and txtai's hybrid index.

They run in kb's process, on the same BEIR data and the same model, so kb's figures are read beside
what a user would get from the libraries set up the obvious way.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import bm25s
import faiss
import numpy as np
import Stemmer

from search.analyze import Analyzer
from search.encoder import CachedEncoder, Encoder, VectorStore, resolve_model_path

TXTAI_VERSION = "9.14.0"
"""The txtai release the figures were taken with; the install hint names it."""

# Texts per encode/retrieve call: bounds memory on large corpora; the model batches inside each call.
_BATCH = 1024


@dataclass(frozen=True)
class Document:
    """One BEIR corpus entry."""

    id: str
    title: str
    text: str


Ranking = dict[str, dict[str, float]]
"""Query id -> {document id: score}, at most ``depth`` documents per query (the ranx / pytrec_eval run shape)."""


class Baseline(Protocol):
    """A retrieval system evaluated beside kb: index a corpus once, then rank every query."""

    name: str

    def index(self, documents: Sequence[Document]) -> None: ...

    def rank(self, queries: dict[str, str], *, depth: int = 100) -> Ranking: ...


def document_text(document: Document) -> str:
    """Title and text as one string, as BEIR's own baselines embed and index them."""
    return f"{document.title} {document.text}".strip()


def _batches(items: Sequence, size: int = _BATCH) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class PlainBM25:
    """bm25s with its default parameters and the tokenisation its README shows.

    English: bm25s's regex tokenizer, English stop words, PyStemmer's English stemmer. Japanese: kb's
    :class:`Analyzer`, because bm25s's tokenizer keeps a whole run of Japanese text as one token and
    would measure nothing; with it, this baseline isolates what kb adds on top of BM25.
    """

    name = "bm25"

    def __init__(self, language: str) -> None:
        if language not in ("en", "ja"):
            raise ValueError(f"PlainBM25 supports 'en' and 'ja', not {language!r}")
        self.language = language
        self._stemmer = Stemmer.Stemmer("english")
        self._analyzer = Analyzer() if language == "ja" else None
        self._ids: list[str] = []
        self._bm25: bm25s.BM25 | None = None

    def index(self, documents: Sequence[Document]) -> None:
        self._ids = [document.id for document in documents]
        self._bm25 = bm25s.BM25()
        if documents:
            self._bm25.index(self._tokenize([document_text(d) for d in documents]), show_progress=False)

    def rank(self, queries: dict[str, str], *, depth: int = 100) -> Ranking:
        ranking: Ranking = {query_id: {} for query_id in queries}
        k = min(depth, len(self._ids))
        if self._bm25 is None or k <= 0:
            return ranking
        for batch in _batches(list(queries.items())):
            tokens = self._tokenize([text for _, text in batch])
            hits, scores = self._bm25.retrieve(tokens, k=k, show_progress=False)
            for (query_id, _), row_hits, row_scores in zip(batch, hits, scores, strict=True):
                # bm25s pads the top k with zero-score documents; they matched no term, so they are no hit.
                ranking[query_id] = {self._ids[i]: float(s) for i, s in zip(row_hits, row_scores, strict=True) if s > 0}
        return ranking

    def _tokenize(self, texts: list[str]) -> bm25s.tokenization.Tokenized | list[list[str]]:
        if self._analyzer is not None:
            return [self._analyzer.analyze(text) for text in texts]
        return bm25s.tokenize(texts, stopwords="en", stemmer=self._stemmer, show_progress=False)


class PlainDense:
    """The same model as kb, one vector per document (no chunking), exact inner-product search.

    The encoder's vectors are L2-normalised (the :class:`Encoder` contract), so inner product is
    cosine. Text beyond the model's window is truncated by the model, which is what chunking in kb
    is measured against. With a ``store``, document vectors go through kb's content-hash cache, so
    a rerun on the same corpus embeds nothing; queries are few and always embedded.
    """

    name = "dense"

    def __init__(self, encoder: Encoder, *, store: VectorStore | None = None) -> None:
        self.encoder = encoder
        self._embed_documents: Callable[[Sequence[str]], np.ndarray] = (
            CachedEncoder(encoder, store).encode if store is not None else encoder.encode
        )
        self._ids: list[str] = []
        self._index = faiss.IndexFlatIP(encoder.dimension)

    def index(self, documents: Sequence[Document]) -> None:
        self._ids = [document.id for document in documents]
        self._index = faiss.IndexFlatIP(self.encoder.dimension)
        for batch in _batches([document_text(d) for d in documents]):
            self._index.add(np.ascontiguousarray(self._embed_documents(batch), dtype=np.float32))

    def rank(self, queries: dict[str, str], *, depth: int = 100) -> Ranking:
        ranking: Ranking = {query_id: {} for query_id in queries}
        k = min(depth, len(self._ids))
        if k <= 0:
            return ranking
        for batch in _batches(list(queries.items())):
            vectors = self.encoder.encode([text for _, text in batch])
            scores, hits = self._index.search(np.ascontiguousarray(vectors, dtype=np.float32), k)
            for (query_id, _), row_hits, row_scores in zip(batch, hits, scores, strict=True):
                ranking[query_id] = {self._ids[i]: float(s) for i, s in zip(row_hits, row_scores, strict=True) if i >= 0}
        return ranking


class TxtaiHybrid:
    """txtai's hybrid index, the peer a user would pick instead of kb, on the same model.

    ``method="sentence-transformers"`` is set on purpose: left out, txtai loads a local folder with its
    own mean pooling, which reads 512 tokens where sentence-transformers (and kb) stop at the model's
    256, so long documents would get other vectors than kb's. Everything else is txtai's default:
    BM25 over its Unicode word segmentation (no stemming, no stop words), scores normalised and
    combined convexly with the dense ones, weight 0.5; a flat faiss index up to 5,000 documents and
    IVF (approximate) above.
    """

    name = "txtai-hybrid"

    def __init__(self, model_path: str) -> None:
        embeddings_class = _txtai_embeddings()
        path = resolve_model_path(model_path)
        if Path(path).exists():
            # As kb's encoder does: with the weights on disk, nothing should reach for the hub.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        _quiet_transformers()
        self.embeddings = embeddings_class(
            path=path, method="sentence-transformers", backend="faiss", hybrid=True, content=False
        )
        self._size = 0

    def index(self, documents: Sequence[Document]) -> None:
        self._size = len(documents)
        if documents:
            self.embeddings.index((d.id, document_text(d), None) for d in documents)

    def rank(self, queries: dict[str, str], *, depth: int = 100) -> Ranking:
        ranking: Ranking = {query_id: {} for query_id in queries}
        if self._size == 0 or depth <= 0:
            return ranking
        for batch in _batches(list(queries.items())):
            results = self.embeddings.batchsearch([text for _, text in batch], depth)
            for (query_id, _), hits in zip(batch, results, strict=True):
                ranking[query_id] = {str(uid): float(score) for uid, score in hits}
        return ranking


def _txtai_embeddings() -> type:
    """txtai's ``Embeddings`` class; txtai is optional (only the baselines use it), hence the hint."""
    try:
        from txtai import Embeddings
    except ImportError as error:
        raise ImportError(
            f"the txtai baseline needs txtai: pip install txtai=={TXTAI_VERSION}"
        ) from error
    return Embeddings


def _quiet_transformers() -> None:
    """No "Loading weights" bars in `kb eval` output, as kb's own encoder does."""
    try:
        from transformers.utils import logging as transformers_logging
    except ImportError:
        return
    transformers_logging.disable_progress_bar()
