"""The vector index: faiss inner product over normalised embeddings, exact or HNSW, filtered inside the search."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import faiss
import numpy as np

IndexKind = Literal["flat", "hnsw"]
KINDS: tuple[str, ...] = ("flat", "hnsw")


@dataclass(frozen=True)
class HNSWParameters:
    """The graph's shape, fixed when it is built (``m``, ``ef_construction``), and how widely a search explores it."""

    m: int
    ef_construction: int
    ef_search: int


# From `make bench` (bench/vector_scale.py: clustered synthetic 384-d vectors, one query at a time on one
# faiss thread, faiss-cpu 1.15.1, 2-core x86_64; the table is in docs/benchmarks.md):
# - flat p50 at k=100 is 0.34 ms at 10,000 chunks, 1.9 ms at 30,000, 6.7 ms at 100,000, 19.7 ms at 300,000
#   and 64.5 ms at 1,000,000; on the line through 100,000 and 300,000 it reaches 10 ms at ~148,000: five
#   times the query's own encode (~2 ms with the int8 model), where the lookup would dominate a search.
# - HNSW M=32, efConstruction 80, efSearch 128: p50 0.2-0.7 ms at k=100 from 10,000 to 1,000,000 chunks,
#   recall@100 against flat 1.000 at 100,000, 0.984 at 300,000, 0.950 at 1,000,000; 1,808 bytes per
#   vector against flat's 1,536; the build takes 10 s at 100,000, 47 s at 300,000, 179 s at 1,000,000
#   (2 threads) and is redone at every start and reindex, hence the modest efConstruction (80, 128 and
#   200 gave the same recall within 0.001 at 100,000 and took 1×, 1.5× and 3× as long).
HNSW_MIN_CHUNKS = 150_000
HNSW = HNSWParameters(m=32, ef_construction=80, ef_search=128)

EXACT_BELOW_SHARE = 0.05
"""An HNSW search whose allow-list admits less than this share of chunks scans the allowed ones exactly.

Disallowed chunks still fill HNSW's candidate list, so a narrow allow-list starves it: at 100,000
chunks, k=100, efSearch 128 found 71% of the exact hits with a random 10% allow-list and 15% with a 2%
one. Above this share efSearch grows as k / share (10%: 0.97 recall, 3.1 ms); below it, an exact scan
of the graph's own stored vectors is both cheaper and exact (2%: 0.48 ms)."""


def index_kind(size: int) -> IndexKind:
    """Exact search while a scan of every chunk is fast enough, HNSW from ``HNSW_MIN_CHUNKS`` on.

    Flat search costs one dot product per chunk and is exact; HNSW's cost grows roughly with the log of
    the size, but it is approximate, takes far longer to build and needs more memory per chunk.
    """
    return "hnsw" if size >= HNSW_MIN_CHUNKS else "flat"


class VectorIndex:
    """Inner-product search; an allow-list reaches faiss as an ``IDSelectorBitmap``, whatever the kind.

    Filtering inside the search, rather than dropping hits afterwards, is what keeps a restricted
    chunk from taking a place in the top k that a visible one should have had. ``kind`` overrides
    :func:`index_kind` (tests and benchmarks build both kinds at any size).
    """

    def __init__(self, vectors: np.ndarray, *, kind: IndexKind | None = None, hnsw: HNSWParameters = HNSW) -> None:
        self.size, self.dimension = vectors.shape
        self.kind: IndexKind = index_kind(self.size) if kind is None else kind
        self.hnsw = hnsw
        self._graph: faiss.IndexHNSWFlat | None = None  # the index itself, when it is HNSW
        if self.kind == "flat":
            self._index: faiss.Index = faiss.IndexFlatIP(self.dimension)
        elif self.kind == "hnsw":
            graph = faiss.IndexHNSWFlat(self.dimension, hnsw.m, faiss.METRIC_INNER_PRODUCT)
            graph.hnsw.efConstruction = hnsw.ef_construction
            self._index = self._graph = graph
        else:
            raise ValueError(f"unknown vector index kind {kind!r}; expected one of {', '.join(KINDS)}")
        if self.size:
            self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, query: np.ndarray, *, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest chunks among ``allowed`` (a boolean mask), best first, as (ids, scores)."""
        return self.search_many(query.reshape(1, -1), k=k, allowed=allowed)[0]

    def search_many(self, queries: np.ndarray, *, k: int, allowed: np.ndarray | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
        """:meth:`search` for each row of ``queries``, in one faiss call: they share the allow-list.

        On HNSW a narrow allow-list widens the search or turns it exact (see ``EXACT_BELOW_SHARE``).
        """
        allowed_count = self.size if allowed is None else int(np.count_nonzero(allowed))
        if self.size == 0 or k <= 0 or allowed_count == 0:
            return [(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)) for _ in range(len(queries))]
        k = min(k, self.size)
        selector = None
        if allowed is not None:
            bitmap = np.packbits(allowed.astype(np.uint8), bitorder="little")  # must outlive the search
            selector = faiss.IDSelectorBitmap(self.size, faiss.swig_ptr(bitmap))
        index, params = self._searcher(selector, k, allowed_count / self.size)
        scores, ids = index.search(np.ascontiguousarray(queries, dtype=np.float32), k, params=params)
        keep = ids >= 0
        return [(row_ids[row_keep], row_scores[row_keep]) for row_ids, row_scores, row_keep in zip(ids, scores, keep, strict=True)]

    def serialized_size(self) -> int:
        """Bytes of the index as faiss writes it: close to what it holds in memory."""
        return int(faiss.serialize_index(self._index).nbytes)

    def _searcher(
        self, selector: faiss.IDSelector | None, k: int, share: float
    ) -> tuple[faiss.Index, faiss.SearchParameters | None]:
        """Which index answers, with per-call parameters: never the index's own fields, as searches run concurrently."""
        if self._graph is not None and share >= EXACT_BELOW_SHARE:
            # The candidate list is the result list: shorter than k, it would cap the hits at efSearch;
            # and disallowed chunks take places in it, hence the division by the share.
            ef_search = max(self.hnsw.ef_search, math.ceil(k / share))
            wider = faiss.SearchParametersHNSW(sel=selector, efSearch=ef_search)  # type: ignore[attr-defined]  # not in faiss' stubs
            return self._graph, wider
        index = faiss.downcast_index(self._graph.storage) if self._graph is not None else self._index
        if selector is None:
            return index, None
        return index, faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]  # faiss' wrapper takes keywords; its stubs do not
