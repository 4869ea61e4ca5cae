"""The writers' workflow: proposals and their review, an article's history and diffs, checks for CI, search impact.

What the API and other callers use is named here; the modules beside it are its parts.
"""

from kb.core.db import ProposalRecord
from kb.writing.gap_work import MAX_TOPICS, UnknownTopic, find_topic, gap_proposal, gap_report, gap_topics
from kb.writing.history import MAX_HISTORY_PAGE, NotAtRef, article_diff, history_page, version_at
from kb.writing.impact import impact
from kb.writing.proposals import (
    ProposalDetail,
    ProposalNotFound,
    ProposalRefused,
    close_proposal,
    create_proposal,
    list_proposals,
    merge_proposal,
    proposal_detail,
)
from kb.writing.restore import restore_article
from kb.writing.staleness import BehindOriginal, ReviewDue, UnknownOrigin, is_behind, reviews_due, translations_behind

__all__ = [
    "MAX_HISTORY_PAGE",
    "MAX_TOPICS",
    "BehindOriginal",
    "NotAtRef",
    "ProposalDetail",
    "ProposalNotFound",
    "ProposalRecord",
    "ProposalRefused",
    "ReviewDue",
    "UnknownOrigin",
    "UnknownTopic",
    "article_diff",
    "close_proposal",
    "create_proposal",
    "find_topic",
    "gap_proposal",
    "gap_report",
    "gap_topics",
    "history_page",
    "impact",
    "is_behind",
    "list_proposals",
    "merge_proposal",
    "proposal_detail",
    "restore_article",
    "reviews_due",
    "translations_behind",
    "version_at",
]
