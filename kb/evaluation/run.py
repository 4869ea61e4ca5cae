"""Evaluating kb's search modes (and, beside them, the baselines) on one data set."""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from kb.access.rules import PUBLIC
from kb.core.db import DatabaseVectorStore, make_engine
from kb.core.knowledge_base import KnowledgeBase
from kb.core.requests import InvalidRequest, SearchRequest
from kb.core.settings import Settings
from kb.evaluation.baselines import Baseline
from kb.evaluation.beir import Dataset
from kb.evaluation.corpus import article_ids, corpus_language, write_repository
from kb.evaluation.metrics import score
from search.encoder import Encoder
from search.snapshot import Results

if TYPE_CHECKING:
    from kb.evaluation.answers import AnswerReport

DEPTH = 100
"""Results per query: enough for Recall@100."""
BATCH = 64
"""Queries per search_many call: one model call encodes them all."""
LATENCY_SAMPLE = 200
"""Queries timed one at a time per mode (a fixed random sample, so runs compare)."""
PAGE = 10
"""Results per timed query: a help-center page, as users ask for it (snippets cost per hit)."""

Progress = Callable[[str, int, int], None]


@dataclass
class ModeResult:
    name: str
    metrics: dict[str, float]
    latency_ms: dict[str, float] = field(default_factory=dict)


@dataclass
class EvalReport:
    dataset: str
    language: str
    documents: int
    queries: int
    chunks: int
    results: list[ModeResult]
    suggestions: list[ModeResult] = field(default_factory=list)
    """Suggestions from the set's conversations (`kb.evaluation.suggestions`), when it has any."""
    answers: AnswerReport | None = None
    """Bot answers on the set (`kb.evaluation.answers`), when asked for."""


def open_corpus(
    dataset: Dataset, *, settings: Settings, encoder: Encoder, progress: Progress | None
) -> tuple[KnowledgeBase, dict[str, str], str]:
    """A knowledge base over the data set, in its own folder keyed by the corpus's content (reused across runs)."""
    language = corpus_language(dataset.documents)
    digest = hashlib.sha256("\x00".join(f"{d.id}\x01{d.title}\x01{d.text}" for d in dataset.documents).encode()).hexdigest()[:12]
    root = settings.data_dir / "eval" / f"{dataset.name}-{digest}"
    content = root / "content"
    if not content.exists():
        write_repository(dataset.documents, content, locale=language)
    corpus_settings = settings.model_copy(update={"data_dir": root, "repo_path": content, "query_cache_size": 0})
    kb = KnowledgeBase(settings=corpus_settings, encoder=encoder, engine=make_engine(settings.database))
    kb.load(progress=progress)
    return kb, {article: document for document, article in article_ids(dataset.documents).items()}, language


def rank_with_kb(
    kb: KnowledgeBase, ids: dict[str, str], queries: dict[str, str], *, mode: str, locale: str, progress: Progress | None
) -> dict[str, dict[str, float]]:
    """Every query through KnowledgeBase.search_many, as the API runs it; article ids mapped back to document ids."""
    requests = {qid: _request(text, mode=mode, locale=locale, limit=DEPTH) for qid, text in queries.items()}
    valid = {qid: request for qid, request in requests.items() if request is not None}
    return rank_requests(kb, ids, valid, label=f"kb {mode}", progress=progress)


def rank_requests(
    kb: KnowledgeBase, ids: dict[str, str], requests: dict[str, SearchRequest], *, label: str, progress: Progress | None
) -> dict[str, dict[str, float]]:
    """Each query's ranking through ``search_many``, article ids mapped back to document ids.

    A query without a request (one the API would refuse) is left out, so it scores zero, as it would for a user.
    """
    found = search_in_batches(kb, requests, label=label, progress=progress)
    return {qid: {ids[hit.article.id]: hit.score for hit in results.hits} for qid, results in found}


def search_in_batches(
    kb: KnowledgeBase, requests: dict[str, SearchRequest], *, label: str, progress: Progress | None
) -> Iterator[tuple[str, Results]]:
    """Each request's results through ``search_many`` (as an anonymous reader), in batches of :data:`BATCH`: one model call each."""
    items = list(requests.items())
    for start in range(0, len(items), BATCH):
        batch = items[start : start + BATCH]
        responses = kb.search_many([request for _, request in batch], view=PUBLIC)
        yield from ((qid, response.results) for (qid, _), response in zip(batch, responses, strict=True))
        if progress:
            progress(label, min(start + BATCH, len(items)), len(items))


def _request(text: str, *, mode: str, locale: str, limit: int) -> SearchRequest | None:
    """None for a query the API would refuse (empty, too long): it then scores zero, as it would for a user."""
    try:
        return SearchRequest(query=text, mode=mode, locale=locale, limit=limit)
    except InvalidRequest:
        return None


def latency(kb: KnowledgeBase, queries: dict[str, str], *, mode: str, locale: str) -> dict[str, float]:
    """p50 / p95 of single searches for one page of results (query encoding included: the query cache is off)."""
    texts = list(queries.values())
    sample = random.Random(0).sample(texts, min(LATENCY_SAMPLE, len(texts)))
    samples = []
    for text in sample:
        request = _request(text, mode=mode, locale=locale, limit=PAGE)
        if request is None:
            continue
        started = time.perf_counter()
        kb.search(request, view=PUBLIC)
        samples.append(time.perf_counter() - started)
    values = np.asarray(samples) * 1000
    return {"p50": float(np.percentile(values, 50)), "p95": float(np.percentile(values, 95))}


def evaluate(
    dataset: Dataset,
    *,
    settings: Settings,
    encoder: Encoder,
    modes: Sequence[str],
    baselines: Sequence[Baseline] = (),
    progress: Progress | None = None,
) -> EvalReport:
    kb, ids, language = open_corpus(dataset, settings=settings, encoder=encoder, progress=progress)
    results = []
    for mode in modes:
        ranking = rank_with_kb(kb, ids, dataset.queries, mode=mode, locale=language, progress=progress)
        results.append(ModeResult(f"kb {mode}", score(dataset.qrels, ranking), latency(kb, dataset.queries, mode=mode, locale=language)))
    for baseline in baselines:
        if progress:
            progress(baseline.name, 0, 1)
        baseline.index(dataset.documents)
        results.append(ModeResult(baseline.name, score(dataset.qrels, baseline.rank(dataset.queries, depth=DEPTH))))
        if progress:
            progress(baseline.name, 1, 1)
    report = EvalReport(dataset.name, language, len(dataset.documents), len(dataset.queries), len(kb.snapshot.chunks), results)
    kb.close()
    return report


def baselines_for(language: str, *, settings: Settings, reference: Encoder | None = None) -> list[Baseline]:
    """Plain BM25, plain dense retrieval with the same model, and txtai's hybrid index as the peer.

    Dense retrieval runs the model as sentence-transformers does (``reference``, loaded here when not
    given), whatever kb's own backend: a baseline on kb's int8 export would be handicapped by it.
    """
    from kb.evaluation.baselines import PlainBM25, PlainDense, TxtaiHybrid
    from search.encoder import SentenceTransformerEncoder, resolve_model_path

    store = DatabaseVectorStore(make_engine(settings.database))
    if reference is None:
        reference = SentenceTransformerEncoder(settings.embedding_model, batch_size=settings.embedding_batch_size)
    return [PlainBM25(language), PlainDense(reference, store=store), TxtaiHybrid(resolve_model_path(settings.embedding_model))]
