"""Content gaps: the questions readers asked and did not get an answer to, grouped by meaning into topics.

A question failed when its search found nothing, when a bot's answer to it was escalated to a person, or
when it is a query whose results are seldom opened (`reports.py`'s low click-through). Failed queries
are embedded with the model search uses (the int8 query path, each distinct query once) and grouped
around the most failed ones: a query opens a topic unless it lies within :data:`GROUP_COSINE` of a
topic's first query (found among its nearest neighbours with faiss). Each topic says how often its
questions failed, how that moved between the period's halves, its most failed questions, and the
nearest article of its language, if one is near enough to be what the questions were after.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

import faiss
import numpy as np
from sqlalchemy import Engine, case, func, select

from kb.analytics.reports import CLICK_SURFACES, LOW_CLICK_THROUGH, MIN_SEARCHES, Period, filtered, query_rows, report_session
from search.analyze import query_language
from search.query import QueryVectors
from search.snapshot import IndexSnapshot

GROUP_COSINE = 0.7
"""Two failed queries this close ask the same thing. With the default model: "cancel my plan" and "how do i
cancel subscription" 0.74, "refund to paypal" and "refund to my card" 0.71, "export csv" and "delete account" 0.14."""
NEAR_ARTICLE_COSINE = 0.55
"""A topic's first query this close to an article's section: the article is about it and failed its questions."""
NEIGHBOURS = 32
"""Queries a topic's first query may take in at once; the others open topics of their own."""
EXACT_UP_TO = 20_000
"""Up to this many distinct queries, neighbours are found exactly; beyond, with an inverted file (faiss IVF)."""
EXAMPLES = 5


@dataclass(frozen=True)
class FailedQuery:
    query: str
    locale: str
    failed: int
    """Searches of it that found nothing, bot answers escalated, and (a low click-through query) results not opened."""
    earlier: int
    """Of those, in the first half of the period."""


@dataclass(frozen=True)
class NearArticle:
    article_id: str
    locale: str
    title: str
    cosine: float


@dataclass(frozen=True)
class Topic:
    id: str
    """Stable for the same first query and language: what a proposal or a report names."""
    label: str
    locale: str
    failed: int
    earlier: int
    later: int
    examples: list[tuple[str, int]]
    """The most failed questions, with how often."""
    queries: int
    """Distinct queries in it."""
    nearest: NearArticle | None

    @property
    def trend(self) -> float | None:
        """The second half of the period against the first: 1.0 twice as often, -0.5 half as often; None when new."""
        return (self.later - self.earlier) / self.earlier if self.earlier else None

    def as_dict(self) -> dict:
        """The topic as `GET /v1/gaps` and `kb gaps list --json` give it."""
        return dataclasses.asdict(self) | {"trend": None if self.trend is None else round(self.trend, 4)}


def failed_queries(engine: Engine, period: Period) -> list[FailedQuery]:
    """Every query that failed in the period at least once, with its language and how often in its first half."""
    rows = query_rows(engine, period)
    clickable = rows.c.surface.in_(CLICK_SURFACES)
    later = (rows.c.day > period.since + (period.until - period.since) / 2).label("later")
    statement = (
        select(
            rows.c.query, rows.c.locale, later, func.sum(rows.c.zero_results + rows.c.escalated).label("unanswered"),
            func.sum(case((clickable, rows.c.searches - rows.c.zero_results), else_=0)).label("answered"),
            func.sum(case((clickable, rows.c.clicked), else_=0)).label("clicked"),
        )
        .where(*filtered(rows, period))
        .group_by(rows.c.query, rows.c.locale, later)
    )  # fmt: skip
    halves: dict[tuple[str, str], list[tuple[bool, int, int, int]]] = {}
    with report_session(engine) as session:
        for row in session.execute(statement):
            if row.query:  # a search that named no locale (an API call's) is of the language its words are in
                key = (row.query, row.locale or query_language(row.query))
                halves.setdefault(key, []).append((bool(row.later), row.unanswered, row.answered, row.clicked))
    found = []
    for (query, locale), parts in halves.items():
        answered, clicked = sum(part[2] for part in parts), sum(part[3] for part in parts)
        seldom_opened = answered >= MIN_SEARCHES and clicked < LOW_CLICK_THROUGH * answered
        per_half: dict[bool, int] = {}  # a half can come twice: from a locale's searches and from those naming none
        for second_half, unanswered, answered_in_half, clicked_in_half in parts:
            unopened = answered_in_half - clicked_in_half if seldom_opened else 0
            per_half[second_half] = per_half.get(second_half, 0) + unanswered + unopened
        failed = sum(per_half.values())
        if failed > 0:
            found.append(FailedQuery(query, locale, failed, per_half.get(False, 0)))
    return found


def content_gaps(
    failed: list[FailedQuery], vectors: QueryVectors, snapshot: IndexSnapshot, *, allowed: np.ndarray, limit: int = 50
) -> list[Topic]:
    """The failed queries grouped into topics, the most failed first (at most ``limit``), each with its nearest
    article among ``allowed`` (a mask of ``snapshot``'s articles) in its language.

    ``vectors`` keeps the queries' vectors between calls: the same failed queries come back on every reading
    of the gaps (a list, then the proposal made from one of its topics), and embedding them is nearly all
    the cost."""
    grouped: list[tuple[list[FailedQuery], np.ndarray]] = []
    for locale in sorted({query.locale for query in failed}):
        queries = sorted((q for q in failed if q.locale == locale), key=lambda q: (-q.failed, q.query))
        # Asked for least failed first: the cache drops the longest unused, so the most failed, which every
        # reading needs (the dashboard's only those), are the last it would drop.
        found = vectors.get_many([(query.query, False) for query in reversed(queries)])
        embedded = np.stack([found[(query.query, False)] for query in queries]).astype(np.float32, copy=False)
        grouped += [([queries[i] for i in members], embedded[members[0]]) for members in group(embedded)]
    grouped.sort(key=lambda topic: (-sum(query.failed for query in topic[0]), topic[0][0].query))
    return [_topic(members, leader, snapshot, allowed) for members, leader in grouped[:limit]]


def group(vectors: np.ndarray, *, threshold: float = GROUP_COSINE) -> list[list[int]]:
    """Rows of ``vectors`` (normalised, the most failed first) grouped: each unassigned row in order opens a group
    and takes in its unassigned neighbours within ``threshold``. The first of each group is its leader."""
    count = len(vectors)
    if count == 0:
        return []
    index = _index(vectors)
    similarity, neighbours = index.search(vectors, min(NEIGHBOURS, count))
    taken = np.full(count, -1)
    groups: list[list[int]] = []
    for row in range(count):
        if taken[row] >= 0:
            continue
        members = [row]
        taken[row] = len(groups)
        for other, cosine in zip(neighbours[row], similarity[row], strict=True):
            if other >= 0 and cosine >= threshold and taken[other] < 0:
                taken[other] = len(groups)
                members.append(int(other))
        groups.append(members)
    return groups


def _index(vectors: np.ndarray) -> faiss.Index:
    """Exact inner products for a few thousand queries; an inverted file (8 of 4·√n lists, n/40 at most, searched) beyond."""
    dimension = vectors.shape[1]
    if len(vectors) <= EXACT_UP_TO:
        exact = faiss.IndexFlatIP(dimension)
        exact.add(vectors)
        return exact
    lists = min(int(4 * np.sqrt(len(vectors))), len(vectors) // 40)  # faiss wants 39 training points a list at least
    inverted = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, lists, faiss.METRIC_INNER_PRODUCT)
    inverted.train(vectors[:: max(1, len(vectors) // (lists * 40))])
    inverted.nprobe = 8
    inverted.add(vectors)
    return inverted


def _topic(members: list[FailedQuery], leader: np.ndarray, snapshot: IndexSnapshot, allowed: np.ndarray) -> Topic:
    """A group of failed queries as a topic, with the article nearest its leader (only for the topics listed: it reads
    every article's vectors)."""
    locale = members[0].locale
    failed = sum(query.failed for query in members)
    earlier = sum(query.earlier for query in members)
    label = members[0].query
    digest = hashlib.sha256(f"{locale}\n{label}".encode()).hexdigest()[:12]
    examples = [(query.query, query.failed) for query in members[:EXAMPLES]]
    nearest = nearest_article(leader, snapshot, allowed, locale)
    return Topic(digest, label, locale, failed, earlier, failed - earlier, examples, len(members), nearest)


def nearest_article(vector: np.ndarray, snapshot: IndexSnapshot, allowed: np.ndarray, locale: str) -> NearArticle | None:
    """The article of ``locale`` among ``allowed`` whose closest section is nearest to ``vector``, if near enough."""
    best: tuple[float, int] | None = None
    for number, entry in enumerate(snapshot.entries):
        if not allowed[number] or entry.article.locale != locale or not len(entry.vectors):
            continue
        cosine = float(np.max(entry.vectors @ vector))
        if best is None or cosine > best[0]:
            best = (cosine, number)
    if best is None or best[0] < NEAR_ARTICLE_COSINE:
        return None
    article = snapshot.entries[best[1]].article
    return NearArticle(article.id, article.locale, article.title, round(best[0], 4))

