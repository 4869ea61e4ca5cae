"""Retrieval metrics from ranx, never hand-written: nDCG@10, Recall@10, Recall@100, MRR@10."""

from __future__ import annotations

import warnings

from ranx import Qrels, Run, evaluate

METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10")


def score(qrels: dict[str, dict[str, int]], ranking: dict[str, dict[str, float]]) -> dict[str, float]:
    """Mean of each metric over every judged query; a query with no results counts as zero."""
    complete = {query: ranking.get(query) or {} for query in qrels}
    with warnings.catch_warnings():
        # ranx's numba kernels warn about a uint64 → int64 cast of relevance grades, which are 0–3 here.
        warnings.filterwarnings("ignore", message="unsafe cast from uint64 to int64")
        results = evaluate(Qrels(qrels), Run(complete), list(METRICS), make_comparable=True)
    return {metric: float(results[metric]) for metric in METRICS}
