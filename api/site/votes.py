"""Was this article helpful? A reader's vote at the end of every article, recorded in the feedback ledger.

The vote is a plain form post, so it works without JavaScript (the article comes back thanking the
reader); ``static/vote.js`` posts the same form and asks for JSON, to thank them in place. "No" may
carry a reason and a comment. A vote counts once per reader and revision of the article: the browser
keeps a cookie of short hashes of what it voted on, never an identity, and a second vote on the same
revision is thanked and not recorded. The row lands in the ledger as a customer's ``helpful`` or
``not_helpful`` on the whole article (`kb/assist/feedback.py`), attributed to its revision and commit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from articles.model import Article
from kb.access import Principal
from kb.assist import Feedback, record_feedback
from kb.core import InvalidRequest, KnowledgeBase

VOTES_COOKIE = "kb_votes"
REMEMBERED = 200
"""Votes the cookie remembers, newest kept: 17 bytes each, well inside a cookie's 4 KB."""
COOKIE_DAYS = 365
OUTCOMES = ("helpful", "not_helpful")
REASONS = (
    ("outdated", "vote_reason_outdated"),
    ("unclear", "vote_reason_unclear"),
    ("related_but_did_not_answer", "vote_reason_did_not_answer"),
    ("other", "vote_reason_other"),
)
"""The reasons a reader can give for "no": the ledger's reason codes, each with its label's message key."""


@dataclass(frozen=True)
class Vote:
    outcome: str
    reason: str | None = None
    comment: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise InvalidRequest("vote", f"unknown vote {self.outcome!r}; use helpful or not_helpful")
        if self.reason is not None and self.reason not in dict(REASONS):
            raise InvalidRequest("reason", f"unknown reason {self.reason!r}; use one of {', '.join(dict(REASONS))}")
        if self.outcome == "helpful" and (self.reason is not None or self.comment.strip()):
            raise InvalidRequest("reason", "a reason and a comment go with a 'no' vote only")


def vote_key(article: Article) -> str:
    """What the cookie remembers of a vote: the article, its language and revision, hashed (nothing readable)."""
    return hashlib.sha256(f"{article.id}\n{article.locale}\n{article.revision}".encode()).hexdigest()[:16]


def remembered(cookie: str | None) -> list[str]:
    """The vote keys a reader's cookie holds; anything else in it is ignored."""
    return [key for key in (cookie or "").split(".") if len(key) == 16 and all(c in "0123456789abcdef" for c in key)]


def cast(kb: KnowledgeBase, article: Article, vote: Vote, *, principal: Principal, cookie: str | None) -> tuple[bool, str]:
    """Record the vote unless this reader already voted on this revision: (recorded, the cookie to set)."""
    keys, key = remembered(cookie), vote_key(article)
    if key in keys:
        return False, ".".join(keys)
    feedback = Feedback(
        outcome=vote.outcome, article_id=article.id, locale=article.locale, reason=vote.reason, comment=vote.comment.strip() or None
    )
    record_feedback(kb, feedback, principal=principal)
    return True, ".".join([*keys, key][-REMEMBERED:])
