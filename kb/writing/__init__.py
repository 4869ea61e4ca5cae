"""The writers' workflow: proposals and their review, an article's history and diffs, checks for CI, search impact.

What the API and other callers use is named here; the modules beside it are its parts.
"""

from kb.core.db import ProposalRecord
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

__all__ = [
    "MAX_HISTORY_PAGE",
    "NotAtRef",
    "ProposalDetail",
    "ProposalNotFound",
    "ProposalRecord",
    "ProposalRefused",
    "article_diff",
    "close_proposal",
    "create_proposal",
    "history_page",
    "impact",
    "list_proposals",
    "merge_proposal",
    "proposal_detail",
    "version_at",
]
