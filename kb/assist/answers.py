"""Answers for chatbots: the sentences of the best section that answer a question, cited, or a hand-off to a person.

A question is searched like any customer's, with the customer's view, and read with the conversation
before it (a follow-up such as "and on mobile?" borrows its subject from the earlier turns,
`search/query.py`). The answer is the whole sentences of the best article's best section that hold the
most of the question (`search/passages.py`), quoted verbatim so a bot can show them and a reader can
find them again (`GET /v1/citations/resolve`). Whether to answer at all is decided by a confidence
read off the retrieval (:mod:`kb.assist.confidence`) against the deployment's threshold
(``KB_ANSWER_MIN_CONFIDENCE``): below it, or when nothing matches, kb abstains and asks for a person.
An active announcement among the question's first hits (an outage the customer is asking about) is
given first, answered or not (:mod:`kb.core.announcements`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kb.access.rules import View
from kb.assist.confidence import AnswerFeatures, calibration
from kb.assist.ledger import Shown, record_interactions
from kb.assist.suggestions import Message
from kb.core import announcements
from kb.core.knowledge_base import KnowledgeBase
from kb.core.requests import InvalidRequest, SearchRequest
from search.analyze import query_language
from search.passages import Passage, best_passage, weight_within
from search.snapshot import Hit, IndexSnapshot, Results

CANDIDATES = 2
"""Articles the answer is judged on: the best, and the next for the margin between them."""
ANNOUNCEMENT_DEPTH = 5
"""Articles retrieved per question: an active announcement among them matches the question and is given
first. The confidence reads the first :data:`CANDIDATES` only, so the depth does not change it."""
ANSWER_CHARS = 500
"""An answer's quote: three or four sentences. Longer than an agent's passage (360): a bot's reader cannot
open the ticket's article beside it. On doc2dial-dev's questions whose first citation was right, the quote
held the agent's gold passage 0.311 of the time at 360 characters, 0.370 at 500 (the whole section, 0.531;
240 characters, 0.224); scoring sentences by the whole conversation's words instead of the question's
found less (0.225 at 360)."""
QUESTION_FIELDS = {"q": "question", "context": "conversation"}
"""A search request's field names as an answer request calls them, for errors that point at the right field."""


@dataclass(frozen=True)
class Question:
    question: str
    conversation: tuple[Message, ...] = ()
    """The turns before the question, oldest first."""
    locale: str | None = None


@dataclass(frozen=True)
class Citation:
    """Where a quote comes from, with enough to find it again after edits (`kb.assist.citations`)."""

    article_id: str
    title: str
    locale: str
    anchor: str
    section: tuple[str, ...]
    commit: str
    """The index snapshot that answered."""
    revision: str
    """The commit that last changed the article: the quote is verbatim in the section there."""
    quote: str

    @classmethod
    def of(cls, hit: Hit, commit: str, quote: str) -> Citation:
        """``quote``, from ``hit``'s section, cited as the snapshot at ``commit`` served it."""
        article, chunk = hit.article, hit.chunk
        return cls(article.id, article.title, article.locale, chunk.anchor, chunk.heading_path, commit, article.revision, quote)


@dataclass(frozen=True)
class Announced:
    """An active announcement a question matches, cited where it answers, with its window."""

    citation: Citation
    severity: str
    starts: dt.datetime | None
    ends: dt.datetime | None

    @classmethod
    def of(cls, hit: Hit, commit: str, quote: str) -> Announced:
        front = hit.article.front
        return cls(Citation.of(hit, commit, quote), front.announced_severity, front.starts, front.ends)


@dataclass(frozen=True)
class Answer:
    interaction_id: str
    commit: str
    abstained: bool
    handoff: bool
    """Whether a person should take over: always when kb abstains."""
    reason: str | None
    """Why kb abstained: ``no_match`` (nothing in the help center matches) or ``low_confidence``."""
    confidence: float
    """The calibrated probability that the best article answers the question (0 when nothing matched)."""
    text: str
    citations: list[Citation]
    announcements: list[Announced]
    """Active announcements the question matches, most severe first, each quoted where it answers."""


def question_request(question: Question, *, limit: int = ANNOUNCEMENT_DEPTH) -> SearchRequest:
    """The search a question asks for; bad input is refused with the answer request's own field names.

    Without a locale, the articles in the question's own language (by its script): a bot answers a
    customer in their language, and a translation of the best article is not a second opinion.
    """
    context = tuple(message.text for message in question.conversation)
    try:
        return SearchRequest(
            query=question.question,
            context=context,
            locale=question.locale or query_language(" ".join((*context, question.question))),
            limit=limit,
            snippets=False,
            facets=False,
        )
    except InvalidRequest as invalid:
        raise InvalidRequest(QUESTION_FIELDS.get(invalid.field, invalid.field), invalid.message) from None


def answer(kb: KnowledgeBase, requests: Sequence[SearchRequest], *, view: View, principal_kind: str) -> list[Answer]:
    """Each question's search (:func:`question_request`) answered or abstained on, in one pass with the reader's ``view``.

    Every answer, abstentions included, is recorded in the ledger, so the bot's feedback (resolved,
    escalated…) points back at what it was given.
    """
    snapshot, moment = kb.snapshot, announcements.now()
    responses = kb.search_many(requests, view=view, snapshot=snapshot)
    threshold = kb.settings.answer_min_confidence
    judged = [judge(snapshot, response.results) for response in responses]
    announced = [_announced(snapshot, response.results, moment) for response in responses]
    given = [
        [*news, *([best.hit] if best is not None and confidence >= threshold and best.hit not in news else [])]
        for (confidence, best), news in zip(judged, announced, strict=True)
    ]
    shown = [[Shown.of(hit) for hit in hits] for hits in given]
    ids = record_interactions(kb.writer, "answer", principal_kind=principal_kind, commit=snapshot.commit, shown=shown)
    return [
        _answer(interaction, snapshot.commit, confidence, best, threshold, _quoted(snapshot, results, news))
        for interaction, (confidence, best), news, results in zip(
            ids, judged, announced, (response.results for response in responses), strict=True
        )
    ]


def _announced(snapshot: IndexSnapshot, results: Results, moment: dt.datetime) -> list[Hit]:
    """The hits that are announcements open at ``moment``, most severe first."""
    active = [hit for hit in results.hits if hit.article.front.active_at(moment)]
    return sorted(active, key=lambda hit: announcements.rank(hit.article))


def _quoted(snapshot: IndexSnapshot, results: Results, hits: list[Hit]) -> list[Announced]:
    """Each announcement cited with the sentences of its matching section that hold most of the question."""
    wanted = snapshot.lexical_index.term_mask(results.content_terms)
    quotes = [best_passage(hit.chunk.text, snapshot.matches(hit.chunk_id, wanted), max_chars=ANSWER_CHARS).text for hit in hits]
    return [Announced.of(hit, snapshot.commit, quote) for hit, quote in zip(hits, quotes, strict=True)]


@dataclass(frozen=True)
class Best:
    """The best article's best section and the sentences of it that answer, with what they were judged by."""

    hit: Hit
    passage: Passage
    features: AnswerFeatures


def judge(snapshot: IndexSnapshot, results: Results) -> tuple[float, Best | None]:
    """The confidence that the best hit answers, and that hit with its passage; (0, None) when nothing matched."""
    if not results.hits:
        return 0.0, None
    top = results.hits[0]
    content = results.content_terms
    standing_in = results.terms.standing_in if results.terms else []  # a reading, a one-word synonym
    matches = snapshot.matches(top.chunk_id, snapshot.lexical_index.term_mask([*content, *standing_in]))
    passage = best_passage(top.chunk.text, matches, max_chars=ANSWER_CHARS)
    features = answer_features(snapshot, results, passage_weight=weight_within(matches, passage.start, passage.end))
    return calibration(lexical_only=results.lexical_only).confidence(features), Best(top, passage, features)


def answer_features(snapshot: IndexSnapshot, results: Results, *, passage_weight: float) -> AnswerFeatures:
    """What retrieval said about the best hit (:class:`AnswerFeatures`); ``passage_weight``: the quote's content-word IDF."""
    top, evidence = results.hits[0], snapshot.evidence(results)
    following = results.hits[1].score if len(results.hits) > 1 else 0.0
    article = int(snapshot.chunk_article[top.chunk_id])
    content = results.content_terms
    total = snapshot.lexical_index.total_idf(content) if content else 0.0
    alternatives = results.terms.alternatives if results.terms else None
    section = float(snapshot.lexical_index.coverage(content, np.array([top.chunk_id]), alternatives=alternatives)[0]) if content else 0.0
    return AnswerFeatures(
        score=top.score,
        margin=(top.score - following) / top.score if top.score > 0 else 0.0,
        semantic_top=evidence.semantic_top,
        semantic_margin=evidence.semantic_margin,
        lexical_margin=evidence.lexical_margin,
        lexical_agrees=float(evidence.lexical_first == article),
        semantic_agrees=float(evidence.semantic_first == article),
        section_coverage=section,
        quote_coverage=passage_weight / total if total else 0.0,
    )


def _answer(
    interaction: str, commit: str, confidence: float, best: Best | None, threshold: float, news: list[Announced]
) -> Answer:
    if best is None:
        return Answer(interaction, commit, True, True, "no_match", 0.0, "", [], news)
    if confidence < threshold:
        return Answer(interaction, commit, True, True, "low_confidence", confidence, "", [], news)
    quote = best.passage.text
    return Answer(interaction, commit, False, False, None, confidence, quote, [Citation.of(best.hit, commit, quote)], news)
