"""Restore: an article put back as it was at an earlier revision, as a proposal reviewed like any other change.

Never a rewrite of history and never straight onto the served branch: the old text becomes a new commit
on a proposal's branch, at the article's current path (a move since then is kept), so a reviewer sees
the diff from today's text and merges, or closes it.
"""

from __future__ import annotations

from articles.model import Article
from kb.access.rules import STAFF
from kb.core.db import ProposalRecord
from kb.core.knowledge_base import KnowledgeBase
from kb.core.requests import InvalidRequest
from kb.writing.history import NotAtRef, version_at
from kb.writing.proposals import create_proposal
from versioning import UnknownRef


def restore_article(kb: KnowledgeBase, article: Article, revision: str, *, at: str, author: str) -> ProposalRecord:
    """A proposal restoring ``article`` (as it is at commit ``at``, the served one) to its text at ``revision``
    (a commit, branch or tag).

    An unknown revision, one where the article did not exist, or one whose text is today's is an
    ``InvalidRequest`` naming ``revision``.
    """
    commit = at
    with kb.open_repo() as repo:
        try:
            version = version_at(repo, article, revision, at=commit, view=STAFF, field="revision")
        except (NotAtRef, UnknownRef) as absent:  # staff are told of an unknown ref: as a bad value of the field
            raise InvalidRequest("revision", str(absent)) from None
        info = repo.commit_info(version.commit)
        current = repo.read_blob(commit, article.path).decode("utf-8")
    if version.text == current:
        raise InvalidRequest("revision", f"{article.path} is already as it was at {revision} ({version.commit[:12]})")
    title = f"Restore {article.title} ({article.locale}) to {version.commit[:12]}"
    made = f"{info.committed_at:%Y-%m-%d}, {info.author_name}: {info.summary}"
    message = f"Puts {article.path} back as it was in {version.commit[:12]} ({made})."
    return create_proposal(kb, title=title[:200], files={article.path: version.text}, author=author, message=message)
