"""Proposals without a Git host: writers propose changed article files, reviewers merge or close them.

A proposal is a branch ``proposals/<id>-<random>`` with one commit on top of its base, plus a row in the
database for its title, author and status. Merging goes through :mod:`versioning.proposals` (never an
overwrite) and then reindexes from the Git diff, exactly as a sync does.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col, select

from articles.model import ArticleError
from articles.parse import InvalidArticle, is_article_path, parse_article
from kb.core import failpoints
from kb.core.db import ProposalRecord
from kb.core.knowledge_base import KnowledgeBase
from kb.core.requests import InvalidRequest
from versioning import ContentRepo, InvalidPath, InvalidRef, validate_path
from versioning.diff import TextDiff, diff_texts
from versioning.proposals import (
    Identity,
    InvalidProposal,
    create_branch_with_commit,
    delete_branch,
    merge_branch,
    merged_by,
    proposal_branches,
    restore_working_copy,
    set_aside,
)

log = logging.getLogger(__name__)

MAX_FILES = 100
MAX_FILE_BYTES = 512 * 1024


class ProposalNotFound(LookupError):
    pass


class ProposalRefused(ValueError):
    """The proposal cannot change: it was already merged or closed, or this kb does not own its branches."""


@dataclass(frozen=True)
class ProposalDetail:
    record: ProposalRecord
    diffs: list[TextDiff]
    problems: list[ArticleError]
    """Validation of every proposed article file; a proposal with problems cannot be merged."""


def create_proposal(
    kb: KnowledgeBase, *, title: str, files: dict[str, str | None], author: str, base: str | None = None, message: str = ""
) -> ProposalRecord:
    """Validate the request, commit the files on a new branch, record it; a failure leaves neither row nor branch."""
    _check_files(files)
    if not title.strip():
        raise InvalidRequest("title", "a proposal needs a title")
    _refuse_when_following_a_remote(kb)
    with kb.writer_lock.held() as session, kb.open_repo() as repo:
        base_name = base or kb.served_ref or repo.default_branch()
        base_commit = _base_commit(repo, base_name)
        _check_changes(repo, base_commit, base_name, files)
        # The row and the branch land together: the row is inserted in the writer lock's transaction,
        # which commits only once the branch exists. A crash before that commit leaves at most a branch
        # without a row, which the next start sets aside (reconcile_proposals); a failed commit
        # removes the branch.
        record = ProposalRecord(title=title.strip(), author=author, base=base_name, base_commit=base_commit,
                                branch="", created_at=_now(), updated_at=_now())
        session.add(record)
        session.flush()  # the id, for the branch's name
        failpoints.reached("proposal-row")
        record.branch = f"proposals/{record.id}-{secrets.token_hex(3)}"  # unique even if an id is reused
        try:
            record.head_commit = create_branch_with_commit(
                repo, branch=record.branch, base=base_commit,
                files={path: None if text is None else text.encode() for path, text in files.items()},
                message=f"{title.strip()}\n\n{message.strip()}".strip(), author=_identity(author),
            )
        except InvalidProposal as invalid:
            raise InvalidRequest("files", str(invalid)) from None
        failpoints.reached("proposal-branch")
        try:
            session.commit()
        except BaseException:
            delete_branch(repo, record.branch, record.head_commit)
            raise
    return record


def list_proposals(kb: KnowledgeBase, *, status: str | None = None) -> list[ProposalRecord]:
    with Session(kb.engine) as session:
        query = select(ProposalRecord).order_by(col(ProposalRecord.id).desc())
        if status is not None:
            query = query.where(ProposalRecord.status == status)
        return list(session.exec(query).all())


def proposal_detail(kb: KnowledgeBase, proposal_id: int) -> ProposalDetail:
    """The proposal with the diff of each file against its base, and every proposed article validated."""
    record = _get(kb, proposal_id)
    diffs, problems = [], []
    with kb.open_repo() as repo:
        for change in repo.changes(record.base_commit, record.head_commit):
            old_path = change.old_path or (None if change.kind == "added" else change.path)
            new_path = None if change.kind == "deleted" else change.path
            old = _text(repo, record.base_commit, old_path)
            new = _text(repo, record.head_commit, new_path)
            diffs.append(diff_texts(old, new, old_path=old_path, new_path=new_path))
            if new_path is not None and is_article_path(new_path):
                try:
                    parse_article(new_path, repo.read_blob(record.head_commit, new_path))
                except InvalidArticle as invalid:
                    problems.append(invalid.error)
    return ProposalDetail(record, diffs, problems)


def merge_proposal(kb: KnowledgeBase, proposal_id: int, *, reviewer: str) -> ProposalRecord:
    """Merge into the base (fast-forward or merge commit; a conflict is refused), then reindex what changed.

    One merge at a time, across threads and processes (``kb.writer_lock``): the merge is computed
    on the base as it is once the lock is held, so merges of unrelated files made from the same
    base all land, and the row says "merged" in the transaction that releases the lock.
    """
    _refuse_when_following_a_remote(kb)
    detail = proposal_detail(kb, proposal_id)
    _open(detail.record)
    if not detail.diffs:
        raise InvalidRequest("files", f"proposal {proposal_id} changes nothing on {detail.record.base}; close it instead")
    if detail.problems:
        listed = "; ".join(str(problem) for problem in detail.problems)
        raise InvalidRequest("files", f"proposal {proposal_id} has invalid articles, fix them first: {listed}")
    with kb.writer_lock.held() as session, kb.open_repo() as repo:
        record = session.get(ProposalRecord, proposal_id)
        assert record is not None  # proposals are never deleted once made
        _open(record)  # merged or closed by someone else while this one waited
        record.merged_commit = merge_branch(repo, branch=record.branch, into=record.base,
                                            message=f"Merge proposal {proposal_id}: {record.title}",
                                            author=_identity(reviewer))
        failpoints.reached("merge")  # the branch moved, the row not yet: the next start records the merge
        record.status, record.updated_at = "merged", _now()
        session.add(record)
    try:
        kb.refresh()  # from the Git diff: only what the merge changed, if the base is the served branch
    except Exception:  # the merge is done and recorded; the next sync or restart reindexes
        log.exception("proposal %s merged as %s, but the reindex failed", proposal_id, (record.merged_commit or "")[:12])
    return record


def close_proposal(kb: KnowledgeBase, proposal_id: int) -> ProposalRecord:
    """Close without merging; the branch stays, as a closed pull request's does."""
    _get(kb, proposal_id)
    with Session(kb.engine) as session:
        # One conditional UPDATE: a merge landing meanwhile is never turned into "closed".
        closed = session.exec(
            update(ProposalRecord)
            .where(col(ProposalRecord.id) == proposal_id, col(ProposalRecord.status) == "open")
            .values(status="closed", updated_at=_now())
        ).rowcount
        session.commit()
    if not closed:
        _open(_get(kb, proposal_id))  # raises, naming what it became
    return _get(kb, proposal_id)


def reconcile_proposals(kb: KnowledgeBase) -> None:
    """At start-up, finish or undo what a kb stopped mid-way left in the database and in Git.

    A merge done in Git but not recorded is recorded; a branch whose row never committed is set
    aside under ``refs/kb/set-aside/`` (its commit kept, no longer a branch); a row left without
    a branch by an earlier kb is removed; kb's own working copy is restored to its branch (edits
    stashed). Holds the writer lock, so a kb process merging meanwhile is waited for.
    """
    with kb.writer_lock.held() as session, kb.open_repo() as repo:
        if kb.settings.repo_path is None:  # kb's own copy (sample or clone): nobody edits it by hand
            found = restore_working_copy(repo, _identity("kb"))
            if found:
                log.warning("the working copy of %s differed from its branch (%s); stashed (git stash list)",
                            repo.path, ", ".join(found))
        records = session.exec(select(ProposalRecord)).all()
        for record in records:
            if not record.branch:
                log.warning("removing proposal %s: it was never given a branch", record.id)
                session.delete(record)
            elif record.status == "open" and repo.branch_exists(record.base):
                merged = merged_by(repo, record.head_commit, record.base)
                if merged is not None:
                    log.warning("proposal %s was merged as %s but not recorded; recording it", record.id, merged[:12])
                    record.status, record.merged_commit, record.updated_at = "merged", merged, _now()
                    session.add(record)
        owned = {record.branch for record in records}
        for branch, commit in proposal_branches(repo).items():
            if branch not in owned:
                kept = set_aside(repo, branch, commit)
                log.warning("branch %s has no proposal (kb stopped while creating it); moved to %s", branch, kept)


def _check_files(files: dict[str, str | None]) -> None:
    if not files:
        raise InvalidRequest("files", "a proposal changes at least one file")
    if len(files) > MAX_FILES:
        raise InvalidRequest("files", f"at most {MAX_FILES} files per proposal")
    for path, text in files.items():
        try:
            validate_path(path)
        except InvalidPath as invalid:
            raise InvalidRequest("files", str(invalid)) from None
        if not is_article_path(path) or "" in path.split("/") or "." in path.split("/"):
            raise InvalidRequest("files", f"{path!r} is not an article path (a .md file outside hidden folders)")
        if text is not None and len(text.encode()) > MAX_FILE_BYTES:
            raise InvalidRequest("files", f"{path!r} is larger than {MAX_FILE_BYTES // 1024} KiB")


def _check_changes(repo: ContentRepo, base_commit: str, base: str, files: dict[str, str | None]) -> None:
    """Every file must change something on the base: a proposal of nothing would merge as an empty commit."""
    for path, text in files.items():
        try:
            current: bytes | None = repo.read_blob(base_commit, path)
        except FileNotFoundError:
            current = None
        if text is None and current is None:
            raise InvalidRequest("files", f"{path!r} does not exist on {base}, so there is nothing to delete")
        if text is not None and text.encode() == current:
            raise InvalidRequest("files", f"{path!r} is the same as on {base}; send only the files you change")


def _refuse_when_following_a_remote(kb: KnowledgeBase) -> None:
    """kb does not push: a proposal merged into a clone of KB_REPO_URL would make the branch diverge for good."""
    if kb.settings.repo_url:
        raise ProposalRefused(
            "this kb follows KB_REPO_URL and never pushes; propose and merge changes on the Git host instead"
        )


def _base_commit(repo: ContentRepo, base: str) -> str:
    """A proposal's base is a branch (not a tag or commit, and not another proposal): merging moves it."""
    try:
        if base.startswith("proposals/") or not repo.branch_exists(base):
            raise InvalidRequest("base", f"{base!r} is not a branch of the content repository")
        return repo.resolve(base)
    except InvalidRef as invalid:
        raise InvalidRequest("base", str(invalid)) from None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _get(kb: KnowledgeBase, proposal_id: int) -> ProposalRecord:
    with Session(kb.engine) as session:
        record = session.get(ProposalRecord, proposal_id)
    if record is None:
        raise ProposalNotFound(f"no proposal {proposal_id}")
    return record


def _open(record: ProposalRecord) -> ProposalRecord:
    if record.status != "open":
        raise ProposalRefused(f"proposal {record.id} is already {record.status}")
    return record


def _update(kb: KnowledgeBase, proposal_id: int | None, **values: object) -> ProposalRecord:
    with Session(kb.engine) as session:
        record = session.get(ProposalRecord, proposal_id)
        assert record is not None  # checked by the caller, and proposals are never deleted once made
        for name, value in values.items():
            setattr(record, name, value)
        record.updated_at = _now()
        session.add(record)
        session.commit()
        session.refresh(record)
        return record


def _text(repo: ContentRepo, commit: str, path: str | None) -> str | None:
    if path is None:
        return None
    try:
        return repo.read_blob(commit, path).decode("utf-8", "replace")
    except FileNotFoundError:
        return None


def _identity(name: str) -> Identity:
    """Commits name the API key that made them; the email says which kb made them, not a person's."""
    return Identity(name=name, email="kb@localhost")
