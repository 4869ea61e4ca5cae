"""The vector index: faiss inner product over normalised embeddings, filtered inside the search."""

from __future__ import annotations

import faiss
import numpy as np


class VectorIndex:
    """Exact (flat) inner-product search; an allow-list reaches faiss as an ``IDSelectorBitmap``.

    Filtering inside the search, rather than dropping hits afterwards, is what keeps a restricted
    chunk from taking a place in the top k that a visible one should have had.
    """

    def __init__(self, vectors: np.ndarray) -> None:
        self.size, self.dimension = vectors.shape
        self._index = faiss.IndexFlatIP(self.dimension)
        if self.size:
            self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(
        self, query: np.ndarray, *, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest chunks among ``allowed`` (a boolean mask), best first, as (ids, scores)."""
        if self.size == 0 or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        params = None
        if allowed is not None:
            if not allowed.any():
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            bitmap = np.packbits(allowed.astype(np.uint8), bitorder="little")
            params = faiss.SearchParameters(sel=faiss.IDSelectorBitmap(self.size, faiss.swig_ptr(bitmap)))
        k = min(k, self.size)
        scores, ids = self._index.search(query.reshape(1, -1).astype(np.float32), k, params=params)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]
