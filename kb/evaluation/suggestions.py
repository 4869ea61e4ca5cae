"""Evaluating suggestions from a support conversation: kb's reading of the ticket beside two plain ways of asking.

For each query of a set with conversations (doc2dial), three systems search the same knowledge base
through the server's own pipeline:

- ``last customer message``: the customer's last turn alone, as a search box would take it;
- ``all messages concatenated``: every turn and the last one joined into one search;
- ``kb suggestions``: the conversation as a ticket (:func:`kb.assist.ticket_request`), as
  ``POST /v1/suggestions`` reads it.

Each system starts from a fresh traffic mix (`search/traffic.py`), so none is weighed by another's queries.
"""

from __future__ import annotations

from collections.abc import Callable

from kb.assist.suggestions import Message, Ticket, ticket_request
from kb.core.knowledge_base import KnowledgeBase
from kb.core.requests import InvalidRequest, SearchRequest
from kb.core.settings import Settings
from kb.evaluation.beir import Dataset
from kb.evaluation.metrics import score
from kb.evaluation.run import DEPTH, ModeResult, Progress, open_corpus, rank_requests
from search.encoder import Encoder
from search.traffic import TrafficMix

SUGGESTION_METRICS = ("ndcg@10", "recall@3")
MAX_CONVERSATION_CHARS = 100_000

Asker = Callable[[str, str], SearchRequest]


def evaluate_suggestions(dataset: Dataset, *, settings: Settings, encoder: Encoder, progress: Progress | None = None) -> list[ModeResult]:
    """nDCG@10 and Recall@3 of each system over the set's conversational queries (a set without conversations: none)."""
    if not dataset.conversations:
        return []
    kb, ids, language = open_corpus(dataset, settings=settings, encoder=encoder, progress=progress)
    queries = {qid: text for qid, text in dataset.queries.items() if qid in dataset.conversations}

    def last_message(qid: str, text: str) -> SearchRequest:
        return SearchRequest(query=text, locale=language, limit=DEPTH, max_query_chars=MAX_CONVERSATION_CHARS)

    def concatenated(qid: str, text: str) -> SearchRequest:
        whole = " ".join([*(turn.text for turn in dataset.conversations[qid]), text])
        return SearchRequest(query=whole, locale=language, limit=DEPTH, max_query_chars=MAX_CONVERSATION_CHARS)

    def as_ticket(qid: str, text: str) -> SearchRequest:
        messages = (*(Message(turn.role, turn.text) for turn in dataset.conversations[qid]), Message("customer", text))
        return ticket_request(Ticket(messages=messages, locale=language, limit=DEPTH))

    systems = {"last customer message": last_message, "all messages concatenated": concatenated, "kb suggestions": as_ticket}
    results = []
    for name, ask in systems.items():
        metrics = score_requests(kb, ids, dataset.qrels, asked(queries, ask), settings=settings, label=name, progress=progress)
        results.append(ModeResult(name, metrics))
    kb.close()
    return results


def asked(queries: dict[str, str], ask: Asker) -> dict[str, SearchRequest]:
    """Each query's request; a turn of nothing but pleasantries asks for nothing, so it is left out and scores zero."""
    requests = {}
    for qid, text in queries.items():
        try:
            requests[qid] = ask(qid, text)
        except InvalidRequest:
            continue
    return requests


def score_requests(
    kb: KnowledgeBase,
    ids: dict[str, str],
    qrels: dict[str, dict[str, int]],
    requests: dict[str, SearchRequest],
    *,
    settings: Settings,
    label: str,
    progress: Progress | None = None,
) -> dict[str, float]:
    """nDCG@10 and Recall@3 of one system, from a fresh traffic mix: no system is weighed by another's queries."""
    kb.queries.traffic = TrafficMix(window=settings.fusion_window) if settings.fusion_window else None
    return score(qrels, rank_requests(kb, ids, requests, label=label, progress=progress), metrics=SUGGESTION_METRICS)
