"""Hybrid fusion: weighted reciprocal rank fusion of the lexical and semantic rankings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FusionWeights:
    """How much each side is trusted. RRF adds ``weight / (k + rank)`` per side a chunk appears in.

    ``semantic_floor`` is the cosine below which a chunk is not a semantic match at all. Without it
    the semantic side ranks every chunk, so no query could ever get "no results". With the packaged
    MiniLM on the sample help center, nonsense queries ("qwxzv plorkh", "banana bread recipe",
    "football scores") top out at 0.16–0.25 while real ones ("stop paying", "lost phone", "slack")
    start at 0.37. Provisional: the evaluation issue (#3) checks its cost in recall on real data.
    """

    lexical: float = 1.0
    semantic: float = 1.0
    k: int = 60
    semantic_floor: float = 0.3
    semantic_recall: bool = True
    """Whether, in hybrid mode, the semantic side may bring in chunks the lexical side did not find.
    Off where the model cannot be trusted: it then only re-orders lexical matches."""


def fusion_weights(locale: str | None) -> FusionWeights:
    """Per-language trust in each retriever.

    The packaged model (all-MiniLM-L6-v2) is English-only: on Japanese it is close to noise
    (~0.49 nDCG@10 when fused equally with BM25 on jsquad vs ~0.93 for BM25 alone, per DESIGN), so
    Japanese leans on BM25 and the semantic side only re-orders its matches. These are provisional
    values; the evaluation issue (#3) measures and tunes them per model.
    """
    if locale == "ja":
        # MiniLM's Japanese similarities are noise (a weather query scores 0.42 against a sync-error
        # article), above any floor that keeps English recall: let them break ties, never add hits.
        return FusionWeights(lexical=1.0, semantic=0.1, semantic_recall=False)
    return FusionWeights()


def reciprocal_rank_fusion(
    rankings: Sequence[tuple[np.ndarray, float]], *, k: int = 60
) -> tuple[np.ndarray, np.ndarray]:
    """Fuse ranked id lists, each with its weight, into (ids, fused scores), best first."""
    fused: dict[int, float] = {}
    for ids, weight in rankings:
        for rank, chunk_id in enumerate(ids.tolist(), start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (k + rank)
    if not fused:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    ordered = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
    ids, scores = zip(*ordered)
    return np.asarray(ids, dtype=np.int64), np.asarray(scores, dtype=np.float32)
