"""Retrieval metrics from ranx, never hand-written: nDCG@10, Recall@10, Recall@100, MRR@10."""

from __future__ import annotations

import warnings
from typing import Any

from ranx import Qrels, Run, evaluate

METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10")


def score(
    qrels: dict[str, dict[str, int]], ranking: dict[str, dict[str, float]], *, metrics: tuple[str, ...] = METRICS
) -> dict[str, float]:
    """Mean of each metric over every judged query; a query with no results counts as zero."""
    results = _evaluate(qrels, ranking, list(metrics), mean=True)
    return {metric: float(results[metric]) for metric in metrics}


def per_query(qrels: dict[str, dict[str, int]], ranking: dict[str, dict[str, float]], metric: str) -> dict[str, float]:
    """One metric for each judged query (a query with no results scores zero)."""
    judged = Qrels(qrels)
    values = _evaluate(judged, ranking, metric, mean=False)
    return dict(zip(judged.get_query_ids(), map(float, values), strict=True))


def _evaluate(
    qrels: Qrels | dict[str, dict[str, int]], ranking: dict[str, dict[str, float]], metrics: list[str] | str, *, mean: bool
) -> Any:  # ranx returns a dict of means, or one array of per-query values
    judged = qrels if isinstance(qrels, Qrels) else Qrels(qrels)
    complete = {query: ranking.get(query) or {} for query in judged.get_query_ids()}
    with warnings.catch_warnings():
        # ranx's numba kernels warn about a uint64 → int64 cast of relevance grades, which are 0–3 here.
        warnings.filterwarnings("ignore", message="unsafe cast from uint64 to int64")
        return evaluate(judged, Run(complete), metrics, return_mean=mean, make_comparable=True)
