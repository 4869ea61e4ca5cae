"""Hybrid fusion of the lexical and semantic rankings: convex combination of scores, or weighted RRF."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Ranking = tuple[np.ndarray, np.ndarray, float]
"""(chunk ids best first, their scores, the weight of this side)."""


@dataclass(frozen=True)
class FusionWeights:
    """How much each side is trusted, and how the two are combined.

    ``convex``: each side's scores are min-max normalised over its candidates, then added with their
    weights. ``rrf``: each side adds ``weight / (k + rank)``.

    ``semantic_floor`` is the cosine below which a chunk is not a semantic match at all. Without it
    the semantic side ranks every chunk, so no query could ever get "no results". With the packaged
    MiniLM on the sample help center, nonsense queries ("qwxzv plorkh", "banana bread recipe",
    "football scores") top out at 0.16–0.25 while real ones ("stop paying", "lost phone", "slack")
    start at 0.37. Provisional: the evaluation issue (#3) checks its cost in recall on real data.
    """

    method: Literal["convex", "rrf"] = "convex"
    normalise: Literal["min-max", "max"] = "max"
    """How convex fusion puts scores on one scale. ``min-max`` stretches each side over [0, 1];
    ``max`` divides BM25 by the query's best score and keeps cosines as they are, so a near-tie on
    one side stays a near-tie instead of being stretched into a full point."""
    lexical: float = 0.15
    semantic: float = 0.85
    k: int = 60
    semantic_floor: float = 0.3
    semantic_recall: bool = True
    """Whether, in hybrid mode, the semantic side may bring in chunks the lexical side did not find.
    Off where the model cannot be trusted: it then only re-orders lexical matches."""
    answer_coverage: float | None = 0.3
    """When the semantic side finds nothing over its floor, the query has an answer only if some lexical
    match holds this share of the query's content-word IDF; otherwise there are no results at all.
    Matching "tomorrow" in "what is the weather in Paris tomorrow" (0.27) is a coincidence, not an
    answer. None turns the gate off (every candidate is an answer, as before the gate existed).

    `python -m bench.tune_gate` (hybrid; answerable queries newly left without results, and the
    largest change of nDCG@10, Recall@10, Recall@100 or MRR@10 against no gate):

    | threshold | doc2dial-dev | doc2dial-abstain | jsquad | australia | cdc, stackfaq | off-topic silenced (of 21) |
    | --------- | ------------ | ---------------- | ------ | --------- | ------------- | -------------------------- |
    | no gate   | 0            | 0                | 0      | 0         | 0             | 6                          |
    | 0.1       | 6 (-0.0044)  | 5 (-0.0051)      | 0      | 0         | 0             | 10                         |
    | 0.2       | 9 (-0.0055)  | 7 (-0.0077)      | 4 (-0.0002) | 1 (0) | 0             | 14                         |
    | **0.3**   | 14 (-0.0087) | 13 (-0.0141)     | 18 (-0.0012) | 1 (0) | 0            | 18                         |
    | 0.4       | 29 (-0.0229) | 25 (-0.0283)     | 60 (-0.0050) | 1 (0) | 0            | 20                         |

    The largest change on the doc2dial sets is Recall@100 (their nDCG@10 moves by 0.0005 and 0.0008 at
    0.3): turns such as "hello I have some questions" or "can i get more informarion on it?" carry no
    question, and their conversation's page had come up among 100 results of a 127-page corpus by chance.
    Of doc2dial-abstain's 139 unanswerable queries, 11 get no results at 0.3 against 5 without the gate.
    English queries the semantic side vouches for never reach the gate (cdc and stackfaq: none)."""


ENGLISH_ONLY_MODELS = frozenset({"sentence-transformers/all-MiniLM-L6-v2"})
"""Models whose similarities mean nothing outside English (MiniLM alone: 0.25 nDCG@10 on jsquad)."""


def fusion_weights(locale: str | None, *, model: str, identifier: bool = False) -> FusionWeights:
    """How to fuse for a query in ``locale`` with ``model`` (its configured name); every number measured by `make eval`.

    English and any language the model knows — convex, BM25 scaled by its best score, cosines as
    they are, semantic 0.85 / lexical 0.15, floor 0.3 (bench/tune_fusion.py, nDCG@10 on kb's own
    candidates):

    | fusion                     | feedbackqa-australia | feedbackqa-cdc | stackfaq   | mean       |
    | -------------------------- | -------------------- | -------------- | ---------- | ---------- |
    | BM25 only                  | 0.5455               | 0.6694         | 0.7591     | 0.6580     |
    | semantic only              | 0.5922               | 0.7094         | 0.9522     | 0.7513     |
    | RRF, k=60, equal weights   | 0.5990               | 0.7339         | 0.8910     | 0.7413     |
    | best RRF (k=20, sem ×2)    | 0.6035               | 0.7403         | 0.9342     | 0.7593     |
    | convex, min-max, α=0.8     | 0.6124               | 0.7449         | 0.9546     | 0.7706     |
    | convex, max, α=0.8         | 0.6205               | 0.7602         | 0.9471     | 0.7759     |
    | **convex, max, α=0.85**    | **0.6175**           | **0.7587**     | **0.9523** | **0.7762** |
    | convex, max, α=0.9         | 0.6148               | 0.7511         | 0.9546     | 0.7735     |

    A query holding an identifier (E2001, 2FA) weighs both sides equally: a model cannot embed a code,
    and at 0.85 a cosine near-tie (0.409 for the codes reference vs 0.362 for the E2001 article)
    outvotes BM25's exact match of the code.

    Min-max stretches a near-tie of cosines (0.409 vs 0.362 for "E2001") to a full point and lets
    it outvote an exact identifier match; scaling only BM25 keeps near-ties near.

    Japanese with an English-only model — BM25 alone: on jsquad BM25 scores 0.9383, MiniLM 0.2512,
    and every fusion loses (equal RRF 0.5040; the best, semantic re-ordering BM25's matches at
    α=0.1, 0.9362), so the semantic side gets no weight and the query is not even encoded.
    """
    if locale == "ja" and model in ENGLISH_ONLY_MODELS:
        return FusionWeights(lexical=1.0, semantic=0.0, semantic_recall=False)
    if identifier:
        return FusionWeights(lexical=0.5, semantic=0.5)
    return FusionWeights()


Scored = tuple[np.ndarray, np.ndarray]
"""(chunk ids best first, their scores) from one retriever."""


def hybrid(lexical: Scored, semantic: Scored, weights: FusionWeights) -> Scored:
    """Fuse a lexical and a semantic ranking (the latter already cut at the floor) as ``weights`` say."""
    semantic_ids, similarities = semantic
    if not weights.semantic_recall:
        keep = np.isin(semantic_ids, lexical[0])
        semantic_ids, similarities = semantic_ids[keep], similarities[keep]
    return fuse([(*lexical, weights.lexical), (semantic_ids, similarities, weights.semantic)], weights)


def fuse(rankings: Sequence[Ranking], weights: FusionWeights) -> Scored:
    """The rankings as one, by ``weights.method``, best first."""
    if weights.method == "rrf":
        return reciprocal_rank_fusion([(ids, weight) for ids, _, weight in rankings], k=weights.k)
    if weights.normalise == "max":
        (lexical_ids, bm25, lexical_weight), (semantic_ids, cosines, semantic_weight) = rankings
        scaled = bm25 / bm25.max() if len(bm25) else bm25
        return convex_combination([(lexical_ids, scaled, lexical_weight), (semantic_ids, cosines, semantic_weight)], rescale=False)
    return convex_combination(rankings)


def convex_combination(rankings: Sequence[Ranking], *, rescale: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Sum of each side's scores (min-max normalised unless ``rescale`` is off) times its weight.

    A side a chunk is missing from adds 0. Unlike RRF it keeps how far apart the candidates are,
    which is what lets a confident side win.
    """
    parts = [(ids, (_min_max(scores) if rescale else scores) * weight) for ids, scores, weight in rankings if len(ids)]
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    unique, inverse = np.unique(np.concatenate([ids for ids, _ in parts]), return_inverse=True)
    totals = np.bincount(inverse, weights=np.concatenate([values for _, values in parts]), minlength=len(unique))
    order = np.lexsort((unique, -totals))
    return unique[order], totals[order].astype(np.float32)


def _min_max(scores: np.ndarray) -> np.ndarray:
    low, high = float(scores.min()), float(scores.max())
    return (scores - low) / (high - low) if high > low else np.ones(len(scores))


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
    fused_ids, fused_scores = zip(*ordered, strict=True)
    return np.asarray(fused_ids, dtype=np.int64), np.asarray(fused_scores, dtype=np.float32)
