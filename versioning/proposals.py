"""Proposals in Git: a branch with one commit of changed files, made without a checkout, and merged safely.

Everything goes through plumbing (a private index file, ``commit-tree``, ``update-ref`` with the
old value, ``merge-tree``), so the repository may be bare, a working copy is never touched except by
a fast-forward ``git merge --ff-only`` of its checked-out branch, and nothing is ever overwritten:
a ref that moved meanwhile, or a merge with conflicts, is refused and both branches stay as they were.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import git

from versioning.refs import validate_path, validate_ref
from versioning.repo import ContentRepo, fast_forward, is_ancestor

ZERO = "0" * 40


class InvalidProposal(ValueError):
    """Files git cannot hold as given (a path that is also a folder, an empty path component)."""


class ProposalConflict(Exception):
    """The proposal cannot be merged without overwriting someone's change; ``paths`` are the conflicting files."""

    def __init__(self, message: str, paths: list[str]) -> None:
        super().__init__(message)
        self.paths = paths


@dataclass(frozen=True)
class Identity:
    """Who a commit is by (a key's name, in kb)."""

    name: str
    email: str

    def env(self) -> dict[str, str]:
        return {"GIT_AUTHOR_NAME": self.name, "GIT_AUTHOR_EMAIL": self.email,
                "GIT_COMMITTER_NAME": self.name, "GIT_COMMITTER_EMAIL": self.email}


def create_branch_with_commit(
    repo: ContentRepo, *, branch: str, base: str, files: dict[str, bytes | None], message: str, author: Identity
) -> str:
    """Create ``branch`` at a new commit on top of ``base`` that writes ``files`` (None deletes); returns its sha.

    Refuses an existing branch: a proposal never moves a branch someone else may have made.
    """
    branch, paths = validate_ref(branch), [validate_path(path) for path in files]
    raw = repo.git_repo
    base_sha = repo.resolve(base)
    with tempfile.TemporaryDirectory(prefix="kb-proposal-") as folder:
        env = {"GIT_INDEX_FILE": os.path.join(folder, "index")}
        raw.git.read_tree(base_sha, env=env)
        for path in paths:
            _stage(raw, path, files[path], env)
        tree = raw.git.write_tree(env=env)
    commit = raw.git.commit_tree(tree, "-p", base_sha, "-m", message, env=author.env())
    if repo.branch_exists(branch):
        raise ProposalConflict(f"branch {branch!r} already exists; a proposal never moves an existing branch", [])
    raw.git.update_ref(f"refs/heads/{branch}", commit, ZERO)  # the zero old value: create, never move
    return commit


def delete_branch(repo: ContentRepo, branch: str, commit: str) -> None:
    """Remove ``branch`` if it still points at ``commit`` (undoing a proposal that could not be recorded)."""
    repo.git_repo.git.update_ref("-d", f"refs/heads/{validate_ref(branch)}", commit)


def _stage(raw: git.Repo, path: str, content: bytes | None, env: dict[str, str]) -> None:
    try:
        if content is None:
            raw.git.update_index("--force-remove", "--", path, env=env)
        else:
            blob = _hash_object(raw, content)
            raw.git.update_index("--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
    except git.GitCommandError as exc:
        raise InvalidProposal(f"{path!r} cannot be written: a file and a folder would share the name") from exc


def merge_branch(repo: ContentRepo, *, branch: str, into: str, message: str, author: Identity) -> str:
    """Bring ``branch`` into ``into``: a fast-forward when possible, else a merge commit; returns the new tip.

    A merge with conflicts raises :class:`ProposalConflict` naming the files; neither branch moves.
    """
    raw = repo.git_repo
    base, head = repo.resolve(into), repo.resolve(branch)
    if is_ancestor(raw, head, base):  # already merged (a retry after the record failed): the commit that did it
        done = merged_by(repo, head, into)
        return done if done is not None else base
    target = head if is_ancestor(raw, base, head) else _merge_commit(raw, base, head, message, author)
    try:
        fast_forward(raw, validate_ref(into), base, target)
    except git.GitCommandError as exc:
        raise ProposalConflict(f"{into} moved meanwhile or has local edits in its working copy; try again", []) from exc
    return target


def _merge_commit(raw: git.Repo, base: str, head: str, message: str, author: Identity) -> str:
    """A merge commit of ``head`` into ``base`` from ``git merge-tree --write-tree`` (git 2.38 or later).

    Its exit status 1 means conflicts: the output is then the unusable tree followed by the
    conflicting paths, NUL-separated under -z.
    """
    status, out, err = raw.git.merge_tree(
        "--write-tree", "--name-only", "--no-messages", "-z", base, head,
        with_extended_output=True, with_exceptions=False, strip_newline_in_stdout=False,
    )  # fmt: skip
    fields = [field for field in out.split("\0") if field.strip()]
    if status == 1:
        paths = [field.strip() for field in fields[1:]]
        raise ProposalConflict(
            f"the proposal conflicts with changes made since it was opened ({', '.join(paths)}); "
            "update the proposal's files from the current version and propose again", paths,
        )
    if status != 0:
        raise RuntimeError(f"git merge-tree failed ({status}): {err.strip()}")
    return raw.git.commit_tree(fields[0].strip(), "-p", base, "-p", head, "-m", message, env=author.env())


def _hash_object(raw: git.Repo, content: bytes) -> str:
    with tempfile.NamedTemporaryFile() as staged:
        staged.write(content)
        staged.flush()
        return raw.git.hash_object("-w", "--no-filters", "--", staged.name)


def proposal_branches(repo: ContentRepo) -> dict[str, str]:
    """Every ``proposals/…`` branch and the commit it points at."""
    out = repo.git_repo.git.for_each_ref("--format=%(refname:strip=2) %(objectname)", "refs/heads/proposals/")
    return dict(line.split(" ", 1) for line in out.splitlines() if line)


def set_aside(repo: ContentRepo, branch: str, commit: str) -> str:
    """Move ``branch`` out of the branches, to ``refs/kb/set-aside/<branch>``, keeping its commit reachable."""
    branch = validate_ref(branch)
    kept = f"refs/kb/set-aside/{branch}"
    repo.git_repo.git.update_ref(kept, commit)
    repo.git_repo.git.update_ref("-d", f"refs/heads/{branch}", commit)
    return kept


def merged_by(repo: ContentRepo, head: str, into: str) -> str | None:
    """The commit of ``into`` that brought ``head`` in (``head`` itself after a fast-forward), or None."""
    raw, tip = repo.git_repo, repo.resolve(into)
    if not is_ancestor(raw, head, tip):
        return None
    descendants = raw.git.rev_list("--first-parent", "--ancestry-path", "--reverse", f"{head}..{tip}").split()
    return descendants[0] if descendants and not is_ancestor(raw, head, f"{descendants[0]}^1") else head


def restore_working_copy(repo: ContentRepo, author: Identity) -> list[str]:
    """Bring the working copy back to its branch after a git process was killed in it; returns what was set aside.

    A merge killed half-way leaves git's ``index.lock`` (every later git command that writes is then
    refused) and perhaps files already updated while the branch was not: such edits are stashed
    (``git stash list`` shows them; nothing is deleted), so the working copy equals its branch again.
    Only for a repository that kb owns and nobody edits by hand, while no kb process merges into it.
    """
    raw = repo.git_repo
    if raw.bare:
        return []
    stale_lock = Path(raw.git_dir) / "index.lock"
    if stale_lock.exists():
        stale_lock.unlink()
    changed = [line[3:] for line in raw.git.status("--porcelain", "--untracked-files=all").splitlines()]
    if changed:
        raw.git.stash("push", "--include-untracked", "--quiet", "-m", "kb: found in the working copy at start-up",
                      env=author.env())
    return changed
