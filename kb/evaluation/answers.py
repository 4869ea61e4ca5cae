"""Evaluating bot answers: how often kb answers, how often its first citation is right, and when it holds back.

Every question of a set is asked through the server's own pipeline (`KnowledgeBase.search_many`, then
:func:`kb.assist.answers.judge`, as ``POST /v1/answers`` runs them), with the corpus's language and the
conversation before it. Three kinds of question are asked:

- the set's answerable questions: an answer is right when its first citation is a relevant article;
- its unanswerable ones (``answers.jsonl``: their page was removed): any answer is wrong;
- out-of-scope questions — another set's, asked against this set's articles — that kb must abstain on.
  Asked against itself (``--out-of-scope`` naming the same set), a quarter of the set's subjects (titles) is
  held out and their questions become the out-of-scope ones: the only way to get out-of-scope questions
  in a language with one set (jsquad).

For every threshold, the share of the set's questions answered and the precision of those answers
(risk–coverage), for kb's confidence and for the plain way — one fixed threshold on the top hit's fused
score, the single knob hosted help centers offer. Where a set gives answer spans, the share of answers
whose quote holds the gold span, beside the share for the whole best section.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from kb.assist.answers import Question, judge, question_request
from kb.assist.suggestions import Message
from kb.core.knowledge_base import KnowledgeBase
from kb.core.requests import InvalidRequest, SearchRequest
from kb.core.settings import Settings
from kb.evaluation.beir import AnswerKey, Dataset
from kb.evaluation.run import Progress, open_corpus, search_in_batches
from search.encoder import Encoder

OUT_OF_SCOPE_SAMPLE = 500
"""Out-of-scope questions asked per set: a fixed random sample of the other set's."""
HELD_OUT_SHARE = 4
"""Asked against itself, one subject (title) in this many is held out, with all its articles."""
TARGET_PRECISION = 0.9
"""Where the two ways of deciding are compared: the share each answers at this precision."""
THRESHOLDS = tuple(round(step / 20, 2) for step in range(21))


@dataclass(frozen=True)
class Judged:
    """One question as kb judged it."""

    kind: str
    """``answerable``, ``unanswerable`` (the set's own, nothing answers it) or ``out_of_scope`` (another set's)."""
    correct: bool
    """Whether the first citation would be a relevant article (never for the other kinds)."""
    confidence: float
    score: float
    """The top hit's fused score: what the plain way thresholds."""
    features: tuple[float, ...] = ()
    """What the confidence was computed from (`kb.assist.confidence`): what `bench/fit_confidence.py` fits."""
    lexical_only: bool = False
    quote_has_gold: bool | None = None
    """Whether the quote holds a gold answer span; None without spans."""
    section_has_gold: bool | None = None


@dataclass(frozen=True)
class Point:
    threshold: float
    answered: float
    """The share of the set's questions (answerable and unanswerable) answered."""
    precision: float
    """The share of those answers whose first citation is relevant (1 when nothing is answered)."""
    out_of_scope_abstained: float


@dataclass
class AnswerReport:
    dataset: str
    out_of_scope: str
    threshold: float
    """The deployment's default (``KB_ANSWER_MIN_CONFIDENCE``)."""
    questions: int
    unanswerable: int
    out_of_scope_questions: int
    at_default: Point
    unanswerable_abstained: float | None
    """At the default: the share of the set's own unanswerable questions abstained on (None without any)."""
    kb_curve: list[Point]
    plain_curve: list[Point]
    kb_answered_at_target: float
    plain_answered_at_target: float
    quote_has_gold: float | None = None
    """At the default: the share of answers whose quote holds the gold span."""
    section_has_gold: float | None = None
    """The same answers, quoting their whole best section (the plain way)."""


def evaluate_answers(
    dataset: Dataset,
    key: AnswerKey | None,
    out_of_scope: Dataset | None,
    *,
    settings: Settings,
    encoder: Encoder,
    progress: Progress | None = None,
) -> AnswerReport:
    """The risk–coverage report of one set, with ``out_of_scope``'s questions (or its own held-out quarter) to abstain on."""
    judged = judge_with_out_of_scope(dataset, key, out_of_scope, settings=settings, encoder=encoder, progress=progress)
    return report(dataset.name, out_of_scope.name if out_of_scope else "", judged, threshold=settings.answer_min_confidence)


def judge_with_out_of_scope(
    dataset: Dataset,
    key: AnswerKey | None,
    out_of_scope: Dataset | None,
    *,
    settings: Settings,
    encoder: Encoder,
    progress: Progress | None = None,
) -> list[Judged]:
    """Every question of the set, and of ``out_of_scope`` (a sample; the set's held-out quarter when it is the set itself), judged."""
    key = key or AnswerKey({}, {})
    outside: dict[str, Question] = {}
    if out_of_scope is not None and out_of_scope.name == dataset.name:
        dataset, key, outside = hold_out(dataset, key)
    elif out_of_scope is not None:
        outside = _sample(_questions(out_of_scope, language=None), OUT_OF_SCOPE_SAMPLE)
    return judge_set(dataset, key, outside, settings=settings, encoder=encoder, progress=progress)


def judge_set(
    dataset: Dataset,
    key: AnswerKey,
    outside: dict[str, Question],
    *,
    settings: Settings,
    encoder: Encoder,
    progress: Progress | None = None,
) -> list[Judged]:
    """Every question of the three kinds judged against the set's knowledge base."""
    kb, ids, language = open_corpus(dataset, settings=settings, encoder=encoder, progress=progress)
    asked = _questions(dataset, language=language)
    unanswerable = {qid: Question(text, _messages(key.conversations.get(qid, ())), language) for qid, text in key.unanswerable.items()}
    outside = {qid: replace(question, locale=language) for qid, question in outside.items()}

    def answerable(qid: str, found: Found) -> Judged:
        relevant = dataset.qrels.get(qid, {})
        correct = found.document is not None and relevant.get(found.document, 0) > 0
        spans = key.spans.get(qid) or ()
        quote_gold = _holds(found.quote, spans) if spans and found.quote else None
        section_gold = _holds(found.section, spans) if spans and found.quote else None
        return found.judged("answerable", correct, quote_gold, section_gold)

    judged = [answerable(qid, found) for qid, found in _ask(kb, ids, asked, "answers: the set's questions", progress).items()]
    for kind, questions in (("unanswerable", unanswerable), ("out_of_scope", outside)):
        judged += [found.judged(kind, False) for found in _ask(kb, ids, questions, f"answers: {kind}", progress).values()]
    kb.close()
    return judged


@dataclass(frozen=True)
class Found:
    """What kb would answer one question with, before any threshold."""

    document: str | None
    confidence: float
    score: float
    features: tuple[float, ...]
    lexical_only: bool
    quote: str
    section: str

    def judged(self, kind: str, correct: bool, quote_gold: bool | None = None, section_gold: bool | None = None) -> Judged:
        return Judged(kind, correct, self.confidence, self.score, self.features, self.lexical_only, quote_gold, section_gold)


NOTHING = Found(None, 0.0, 0.0, (), False, "", "")


def _ask(kb: KnowledgeBase, ids: dict[str, str], questions: dict[str, Question], label: str, progress: Progress | None) -> dict[str, Found]:
    """Each question through the server's pipeline in batches; a question the API would refuse finds nothing."""
    requests: dict[str, SearchRequest] = {}
    for qid, question in questions.items():
        try:
            requests[qid] = question_request(question)
        except InvalidRequest:
            continue
    found = dict.fromkeys(questions, NOTHING)
    snapshot = kb.snapshot  # an evaluation's knowledge base never reindexes
    for qid, results in search_in_batches(kb, requests, label=label, progress=progress):
        confidence, best = judge(snapshot, results)
        if best is not None:
            found[qid] = Found(
                ids[best.hit.article.id], confidence, best.hit.score, best.features.values(),
                results.lexical_only, best.passage.text, best.hit.chunk.text,
            )  # fmt: skip
    return found


def report(name: str, out_of_scope: str, judged: Sequence[Judged], *, threshold: float) -> AnswerReport:
    """Risk–coverage for kb's confidence and for the top score alone, and the figures at the default threshold."""
    own = [item for item in judged if item.kind != "out_of_scope"]
    unanswerable = [item for item in own if item.kind == "unanswerable"]
    kb_curve = [point(judged, t, by=_confidence) for t in THRESHOLDS]
    scores = [item.score for item in own if item.score > 0]
    cuts = sorted({round(float(q), 4) for q in np.quantile(scores, np.linspace(0, 1, len(THRESHOLDS)))}) if scores else []
    plain_curve = [point(judged, t, by=_score) for t in cuts]
    answered = [item for item in own if item.confidence >= threshold and item.confidence > 0]
    with_spans = [item for item in answered if item.quote_has_gold is not None]
    return AnswerReport(
        dataset=name,
        out_of_scope=out_of_scope,
        threshold=threshold,
        questions=len(own),
        unanswerable=len(unanswerable),
        out_of_scope_questions=len(judged) - len(own),
        at_default=point(judged, threshold, by=_confidence),
        unanswerable_abstained=_share([item.confidence < threshold for item in unanswerable]) if unanswerable else None,
        kb_curve=kb_curve,
        plain_curve=plain_curve,
        kb_answered_at_target=answered_at(judged, TARGET_PRECISION, by=_confidence),
        plain_answered_at_target=answered_at(judged, TARGET_PRECISION, by=_score),
        quote_has_gold=_share([bool(item.quote_has_gold) for item in with_spans]) if with_spans else None,
        section_has_gold=_share([bool(item.section_has_gold) for item in with_spans]) if with_spans else None,
    )


def _confidence(item: Judged) -> float:
    return item.confidence


def _score(item: Judged) -> float:
    return item.score


def point(judged: Sequence[Judged], threshold: float, *, by: Callable[[Judged], float]) -> Point:
    """Answered share, precision and out-of-scope abstention when questions scoring ``threshold`` or more are answered."""
    own = [item for item in judged if item.kind != "out_of_scope"]
    outside = [item for item in judged if item.kind == "out_of_scope"]
    answered = [item for item in own if _answers(item, threshold, by)]
    return Point(
        threshold=threshold,
        answered=len(answered) / len(own) if own else 0.0,
        precision=_share([item.correct for item in answered]) if answered else 1.0,
        out_of_scope_abstained=_share([not _answers(item, threshold, by) for item in outside]) if outside else 1.0,
    )


def answered_at(judged: Sequence[Judged], precision: float, *, by: Callable[[Judged], float]) -> float:
    """The largest share of the set's questions answered with at least ``precision``, over every threshold ``by`` allows."""
    own = sorted((item for item in judged if item.kind != "out_of_scope" and by(item) > 0), key=by, reverse=True)
    total = sum(item.kind != "out_of_scope" for item in judged)
    correct, best = 0, 0.0
    for count, item in enumerate(own, start=1):
        correct += item.correct
        last_of_tie = count == len(own) or by(own[count]) < by(item)  # a threshold answers every tie or none
        if last_of_tie and correct / count >= precision:
            best = count / total
    return best


def _answers(item: Judged, threshold: float, by: Callable[[Judged], float]) -> bool:
    return by(item) > 0 and by(item) >= threshold


def _share(flags: Sequence[bool]) -> float:
    return float(np.mean(flags)) if len(flags) else 0.0


def _holds(text: str, spans: Sequence[str]) -> bool:
    """Whether ``text`` holds one of the gold spans, whitespace aside (Markdown may re-flow a line)."""
    flat = "".join(text.split())
    return any("".join(span.split()) in flat for span in spans)


def _questions(dataset: Dataset, *, language: str | None) -> dict[str, Question]:
    return {
        qid: Question(text, _messages(dataset.conversations.get(qid, ())), language) for qid, text in dataset.queries.items()
    }


def _messages(turns: Sequence) -> tuple[Message, ...]:
    return tuple(Message(turn.role, turn.text) for turn in turns)


def _sample(questions: dict[str, Question], size: int) -> dict[str, Question]:
    chosen = sorted(random.Random(0).sample(sorted(questions), min(size, len(questions))))
    return {f"out-of-scope:{qid}": questions[qid] for qid in chosen}


def _bucket(subject: str) -> int:
    return int(hashlib.sha256(subject.encode()).hexdigest(), 16) % HELD_OUT_SHARE


def hold_out(dataset: Dataset, key: AnswerKey) -> tuple[Dataset, AnswerKey, dict[str, Question]]:
    """The set without one subject in :data:`HELD_OUT_SHARE`, and the questions only its articles answered.

    A subject is a title (jsquad's paragraphs share their Wikipedia page's), chosen by a hash: holding
    out paragraphs alone left their page's other paragraphs in, so a "held-out" question still had its
    subject in the knowledge base, often its answer too. A question with a relevant article left keeps
    it; one without any becomes out of scope (a sample of :data:`OUT_OF_SCOPE_SAMPLE`).
    """
    held = {d.id for d in dataset.documents if _bucket(d.title or d.id) == 0}
    qrels = {qid: {doc: grade for doc, grade in docs.items() if doc not in held} for qid, docs in dataset.qrels.items()}
    orphaned = {qid for qid, docs in qrels.items() if not docs}
    kept = Dataset(
        name=dataset.name,
        documents=[d for d in dataset.documents if d.id not in held],
        queries={qid: text for qid, text in dataset.queries.items() if qid not in orphaned},
        qrels={qid: docs for qid, docs in qrels.items() if docs},
        conversations={qid: turns for qid, turns in dataset.conversations.items() if qid not in orphaned},
    )
    outside = {
        qid: Question(text, _messages(dataset.conversations.get(qid, ()))) for qid, text in dataset.queries.items() if qid in orphaned
    }
    return kept, key, _sample(outside, OUT_OF_SCOPE_SAMPLE)
