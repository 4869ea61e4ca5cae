"""The embedding backends side by side: one query's encode time, and indexing throughput, in one run."""

from __future__ import annotations

import time

import numpy as np

from bench.queries import SAMPLE_QUERIES
from kb.core.bootstrap import load_encoder
from kb.core.settings import Settings

BACKENDS = ("torch", "onnx", "onnx-int8", "onnx-int8-queries")


def compare_backends(settings: Settings, chunk_texts: list[str], *, rounds: int) -> dict[str, dict[str, float]]:
    """p50 / p95 of single-query encodes (ms) and chunks/s at the configured batch size, per backend."""
    results = {}
    for backend in BACKENDS:
        encoder = load_encoder(settings.model_copy(update={"embedding_backend": backend}))
        queries = [query for query, _ in SAMPLE_QUERIES]
        encoder.encode_queries(queries[:8])  # first calls pay for lazy initialisation
        samples = []
        for _ in range(rounds):
            for query in queries:
                started = time.perf_counter()
                encoder.encode_queries([query])
                samples.append(time.perf_counter() - started)
        started = time.perf_counter()
        encoder.encode(chunk_texts)
        throughput = len(chunk_texts) / (time.perf_counter() - started)
        values = np.asarray(samples) * 1000
        results[backend] = {
            "query_p50_ms": float(np.percentile(values, 50)),
            "query_p95_ms": float(np.percentile(values, 95)),
            "chunks_per_s": throughput,
        }
    return results
