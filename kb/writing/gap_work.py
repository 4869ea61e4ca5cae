"""A content gap turned into work in Git: a draft article proposed from a template, with the topic's questions in
its front matter, or, where an article is near, a Markdown report of the questions it failed (for a pull
request or an issue). The topics come from `kb/analytics/gaps.py`."""

from __future__ import annotations

import re
import unicodedata

from articles.parse import InvalidArticle
from articles.templates import TEMPLATES_DIR, new_article, parse_templates, template_for
from kb.access.rules import STAFF
from kb.analytics.gaps import Topic, content_gaps, failed_queries
from kb.analytics.reports import Period
from kb.core.db import ProposalRecord
from kb.core.knowledge_base import KnowledgeBase
from kb.core.requests import InvalidRequest
from kb.writing.proposals import create_proposal

MAX_TOPICS = 200
"""The most topics one reading lists; a proposal or report names one of them."""


def gap_topics(kb: KnowledgeBase, period: Period, *, limit: int = MAX_TOPICS, most_failed: int | None = None) -> list[Topic]:
    """The period's content gaps, each with its nearest article among every article (staff read the gaps).

    ``most_failed``: group only that many of the most failed queries, for a reading that must stay quick
    (the dashboard's) however long the tail of failed queries a busy help center gathers."""
    failed = failed_queries(kb.engine, period)
    if most_failed is not None:
        failed = sorted(failed, key=lambda query: (-query.failed, query.query))[:most_failed]
    snapshot = kb.snapshot
    return content_gaps(failed, kb.gap_vectors, snapshot, allowed=snapshot.visible_articles(STAFF), limit=limit)


def find_topic(kb: KnowledgeBase, topic_id: str, period: Period, *, most_failed: int | None = None) -> Topic:
    """The topic ``topic_id`` among the period's gaps, grouped as the reading that listed it was (``most_failed``);
    an ``UnknownTopic`` naming the period when it is not one."""
    chosen = next((topic for topic in gap_topics(kb, period, most_failed=most_failed) if topic.id == topic_id), None)
    if chosen is None:
        raise UnknownTopic(f"no topic {topic_id!r} among the gaps of {period.since} … {period.until}")
    return chosen


class UnknownTopic(LookupError):
    """A topic id that is not among the period's gaps (they move as readers search: an old id may be gone)."""


def gap_proposal(
    kb: KnowledgeBase, topic: Topic, *, at: str, author: str, template: str | None = None, article_id: str | None = None
) -> ProposalRecord:
    """A proposal adding a draft article for ``topic``: from ``template`` (of ``.kb/templates/`` at commit ``at``) or a
    blank page, its questions in the front matter's ``questions``. A bad template or id is an ``InvalidRequest`` naming it."""
    ids = {article.id for article in kb.articles(view=STAFF)}
    title = topic.label[:1].upper() + topic.label[1:]
    extra = {"status": "draft", "questions": [question for question, _ in topic.examples]}
    with kb.open_repo() as repo:
        chosen = None
        if template is not None:
            templates = parse_templates((file.path, file.data) for file in repo.files_at(at, under=TEMPLATES_DIR))[0]
            chosen = template_for(templates, template, topic.locale)
            if chosen is None:
                raise InvalidRequest("template", f"no template {template!r} in {TEMPLATES_DIR}/")
        if article_id is None:  # from the topic's words, made unique: the writer chose none
            article_id = _slug(topic)
            if article_id in ids or repo.files_at(at, paths=[f"{topic.locale}/{article_id}.md"]):
                article_id = f"{article_id}-{topic.id[:6]}"
        elif article_id in ids:  # another article's id would make the draft its translation
            raise InvalidRequest("id", f"an article {article_id!r} exists already; give another id")
        try:  # the id checked here, before it names a path
            text = new_article(chosen, article_id=article_id, title=title, locale=topic.locale, extra=extra)
        except InvalidArticle as invalid:
            raise InvalidRequest(invalid.error.field, invalid.error.reason) from None
        path = f"{topic.locale}/{article_id}.md"
        if repo.files_at(at, paths=[path]):  # a file there that is no article (it failed to parse) is not overwritten
            raise InvalidRequest("id", f"{path} exists already; give another id")
    return create_proposal(kb, title=f"New article: {title}"[:200], files={path: text}, author=author, message=gap_report(topic))


def gap_report(topic: Topic) -> str:
    """The topic as Markdown: how often its questions failed and how that moved, the questions, the article nearest."""
    trend = "new in the second half" if topic.trend is None else f"{topic.trend:+.0%} from the first half of the period to the second"
    lines = [
        f"## Readers asked “{topic.label}” and did not find an answer",
        "",
        f"{topic.failed} failed searches or escalated questions ({trend}), {topic.queries} distinct question(s) in {topic.locale}.",
        "",
        "| question | failed |",
        "|---|---|",
        *(f"| {_cell(question)} | {count} |" for question, count in topic.examples),
    ]
    if topic.nearest is not None:
        near = topic.nearest
        where = f"**{near.title}** (`{near.article_id}`, {near.locale}, cosine {near.cosine:.2f})"
        lines += ["", f"The nearest article, {where}, did not answer them: it may need a section for these questions, or their words."]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _slug(topic: Topic) -> str:
    """An article id from the topic's label (its ASCII words), or from the topic's id where it has none (Japanese)."""
    ascii_words = re.findall(r"[a-z0-9]+", unicodedata.normalize("NFKD", topic.label.lower()).encode("ascii", "ignore").decode())
    slug = "-".join(ascii_words)[:60].strip("-")
    return slug or f"gap-{topic.id}"
