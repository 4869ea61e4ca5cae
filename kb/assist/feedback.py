"""Feedback: what became of what kb gave, recorded against the articles, sections and revisions concerned.

Agents say whether a suggestion was used, linked, not relevant, or is outdated; bots whether an answer
resolved the question, was rejected, or was escalated to a person (with reasons like Zendesk's: not
related, related but did not answer); customers whether an article helped. Feedback on an interaction
concerns what that interaction showed (:mod:`kb.assist.ledger`); feedback on an article alone concerns
the revision served now. Each outcome is recorded once per article of an interaction, and a row names
the kind of principal, never the key or the customer.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from articles.model import LOCALES
from kb.access.rules import STAFF_ROLES, Principal
from kb.assist.ledger import Shown
from kb.assist.ledger import interaction as recorded_interaction
from kb.core.db import FeedbackRecord
from kb.core.knowledge_base import KnowledgeBase
from kb.core.requests import InvalidRequest

AGENT_OUTCOMES = ("used", "linked", "not_relevant", "flagged_outdated")
BOT_OUTCOMES = ("resolved", "rejected", "escalated")
CUSTOMER_OUTCOMES = ("helpful", "not_helpful")
OUTCOMES = AGENT_OUTCOMES + BOT_OUTCOMES + CUSTOMER_OUTCOMES
REASONS = ("not_related", "related_but_did_not_answer", "outdated", "unclear", "incorrect", "missing_information", "other")
NEGATIVE = frozenset({"not_relevant", "flagged_outdated", "rejected", "escalated", "not_helpful"})
"""Outcomes that may carry a reason."""
MAX_COMMENT_CHARS = 2000
RECENT_COMMENTS = 20


class InteractionNotFound(LookupError):
    """Feedback names an interaction kb never gave (or one from another database)."""


class UnknownArticle(LookupError):
    """Feedback on an article the caller cannot see, or that does not exist: the same answer for both."""


class FeedbackConflict(ValueError):
    """This outcome is already recorded for this interaction's article: feedback is counted once."""


@dataclass(frozen=True)
class Feedback:
    outcome: str
    interaction_id: str | None = None
    article_id: str | None = None
    locale: str | None = None
    anchor: str | None = None
    """The section concerned; the whole article (or what the interaction showed) when absent."""
    reason: str | None = None
    comment: str | None = None


def outcomes_for(principal: Principal) -> tuple[str, ...]:
    """What a principal may report: staff anything; a bot its answers' outcomes and customers' votes; readers their votes."""
    if principal.kind in STAFF_ROLES:
        return OUTCOMES
    if principal.kind == "bot":
        return BOT_OUTCOMES + CUSTOMER_OUTCOMES
    return CUSTOMER_OUTCOMES


def record_feedback(kb: KnowledgeBase, feedback: Feedback, *, principal: Principal) -> list[FeedbackRecord]:
    """One row per article concerned, written in one transaction; a refusal writes nothing."""
    _check(feedback, principal)
    commit, concerned = _concerned(kb, feedback, principal)
    now = dt.datetime.now(dt.UTC)
    rows = [
        FeedbackRecord(
            interaction_id=feedback.interaction_id,
            article_id=item.article_id,
            locale=item.locale,
            anchor=item.anchor,
            revision=item.revision,
            commit=commit,
            principal_kind=principal.kind,
            outcome=feedback.outcome,
            reason=feedback.reason,
            comment=feedback.comment or None,
            created_at=now,
        )
        for item in concerned
    ]
    with Session(kb.engine, expire_on_commit=False) as session:
        session.add_all(rows)
        try:
            session.commit()
        except IntegrityError:
            raise FeedbackConflict(f"{feedback.outcome!r} is already recorded for this interaction") from None
    return rows


def _check(feedback: Feedback, principal: Principal) -> None:
    allowed = outcomes_for(principal)
    if feedback.outcome not in allowed:
        known = "unknown" if feedback.outcome not in OUTCOMES else f"not for a {principal.kind}"
        raise InvalidRequest("outcome", f"{feedback.outcome!r} is {known}; use one of {', '.join(allowed)}")
    if feedback.reason is not None and feedback.reason not in REASONS:
        raise InvalidRequest("reason", f"unknown reason {feedback.reason!r}; use one of {', '.join(REASONS)}")
    if feedback.reason is not None and feedback.outcome not in NEGATIVE:
        raise InvalidRequest("reason", f"a reason goes with {', '.join(sorted(NEGATIVE))}, not {feedback.outcome!r}")
    if feedback.comment is not None and len(feedback.comment) > MAX_COMMENT_CHARS:
        raise InvalidRequest("comment", f"the comment is {len(feedback.comment)} characters; the limit is {MAX_COMMENT_CHARS}")
    if feedback.interaction_id is None and feedback.article_id is None:
        raise InvalidRequest("interaction_id", "name the interaction (interaction_id) or the article (article_id) the feedback is about")


def _concerned(kb: KnowledgeBase, feedback: Feedback, principal: Principal) -> tuple[str, list[Shown]]:
    """(commit, the articles the feedback concerns), as the interaction showed them or as served now."""
    if feedback.interaction_id is not None:
        interaction = recorded_interaction(kb.writer, feedback.interaction_id)
        # An agent's suggestions may show internal articles: for anyone else they are as unknown as a
        # made-up id, so a forwarded interaction id tells a customer or a bot nothing.
        if interaction is None or (interaction.kind == "suggestion" and principal.kind not in STAFF_ROLES):
            raise InteractionNotFound(f"no interaction {feedback.interaction_id!r}: quote the interaction_id kb returned")
        shown = [Shown(**item) for item in json.loads(interaction.items)]
        if principal.kind not in STAFF_ROLES:  # and of what it showed, only what the caller may see now
            shown = [item for item in shown if kb.article(item.article_id, locale=item.locale, view=principal.view) is not None]
        wanted = [
            item
            for item in shown
            if (feedback.article_id in (None, item.article_id))
            and (feedback.locale in (None, item.locale))
            and (feedback.anchor in (None, item.anchor))
        ]
        if not wanted:
            what = feedback.article_id if feedback.article_id is not None else "any article"
            raise InvalidRequest("article_id", f"interaction {feedback.interaction_id} did not show {what}")
        return interaction.commit, wanted
    assert feedback.article_id is not None  # _check asks for one or the other
    snapshot = kb.snapshot  # read once: the article, its sections and the commit all come from it
    locales = [feedback.locale] if feedback.locale else list(LOCALES)
    found = (snapshot.article(feedback.article_id, locale) for locale in locales)
    article = next((a for a in found if a is not None and principal.view.can_see(a)), None)
    if article is None:
        raise UnknownArticle(f"no article {feedback.article_id!r}" + (f" in {feedback.locale}" if feedback.locale else ""))
    if feedback.anchor is not None and feedback.anchor not in {section.anchor for section in article.sections}:
        raise InvalidRequest("anchor", f"article {article.id} has no section {feedback.anchor!r}")
    return snapshot.commit, [Shown(article.id, article.locale, feedback.anchor or "", article.revision)]


@dataclass
class FeedbackSummary:
    article_id: str
    outcomes: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    by_revision: dict[str, dict[str, int]] = field(default_factory=dict)
    """Outcome counts per revision of the article: whether an edit helped."""
    by_section: dict[str, dict[str, int]] = field(default_factory=dict)
    comments: list[FeedbackRecord] = field(default_factory=list)
    """The newest comments, newest first."""


def feedback_summary(engine: Engine, article_id: str, *, locale: str | None = None) -> FeedbackSummary:
    """Everything recorded about an article (one locale, or all), counted by outcome, reason, revision and section."""
    query = select(FeedbackRecord).where(FeedbackRecord.article_id == article_id)
    if locale is not None:
        query = query.where(FeedbackRecord.locale == locale)
    with Session(engine) as session:
        rows = list(session.exec(query.order_by(col(FeedbackRecord.created_at).desc(), col(FeedbackRecord.id).desc())))
    summary = FeedbackSummary(article_id)
    summary.outcomes = dict(Counter(row.outcome for row in rows))
    summary.reasons = dict(Counter(row.reason for row in rows if row.reason))
    for row in rows:
        summary.by_revision.setdefault(row.revision, {}).setdefault(row.outcome, 0)
        summary.by_revision[row.revision][row.outcome] += 1
        summary.by_section.setdefault(row.anchor, {}).setdefault(row.outcome, 0)
        summary.by_section[row.anchor][row.outcome] += 1
    summary.comments = [row for row in rows if row.comment][:RECENT_COMMENTS]
    return summary
