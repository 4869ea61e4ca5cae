"""The content repository: files, commits and changes read straight from Git objects, no checkout."""

from __future__ import annotations

import os
import stat
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType

import git
from git.cmd import Git
from git.objects import Blob, Commit, Tree

from versioning.gitoutput import (
    HISTORY_FORMAT,
    LOG_FORMAT,
    Change,
    LastChange,
    Revision,
    last_changes,
    nul_tokens,
    raw_changes,
    revisions,
)
from versioning.refs import validate_path, validate_ref

MAX_PATHSPECS = 100
"""Above this many paths, files_at walks all history instead of risking an over-long command line."""

# A path named "*.md" means that file, not every Markdown file: pathspec magic is for people.
_LITERAL_PATHSPECS = {"GIT_LITERAL_PATHSPECS": "1"}

# One walk that lists, per commit, the files it changed. Every flag pins a behaviour that the
# user's git config could otherwise change: --root lists the first commit's files (log.showRoot),
# --no-renames lists both sides of a rename (diff.renames), --no-follow ignores log.follow, and
# -c lists a merge's files only where it differs from every parent, i.e. where the merge itself
# changed them (a conflict resolution), just as `git log -1 -- <path>` would report it.
_LOG_ARGS = (
    LOG_FORMAT, "-z", "--raw", "--no-abbrev", "--root", "--no-renames", "--no-follow", "-c",
    "--full-history", "--no-show-signature", "--no-color",
)  # fmt: skip


class RepositoryError(Exception):
    """The folder cannot be opened as a Git repository."""


class UnknownRef(LookupError):
    """A well-formed ref that names no commit in the repository."""


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """Who committed what and when; ``committed_at`` keeps the committer's UTC offset."""

    sha: str
    author_name: str
    author_email: str
    committed_at: datetime
    summary: str


@dataclass(frozen=True, slots=True)
class GitFile:
    """A regular file at a commit, with the commit (at or before it) that last changed the file."""

    path: str
    blob_sha: str
    data: bytes
    revision: str
    updated_at: datetime


class ContentRepo:
    """The content repository through GitPython, read from Git objects; works on bare repositories.

    Only ``versioning.sync`` and ``versioning.proposals`` write to it, through ``git_repo``.

    Every caller-supplied ref and path is allow-listed (``versioning.refs``) before it reaches git.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self._repo = git.Repo(self.path)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
            raise RepositoryError(
                f"{self.path} is not a Git repository: point kb at a folder created by `git init` or `git clone`"
            ) from exc

    @property
    def git_repo(self) -> git.Repo:
        """The underlying GitPython repository, for other ``versioning`` modules only."""
        return self._repo

    def close(self) -> None:
        """Stop the git helper processes GitPython keeps open."""
        self._repo.close()

    def __enter__(self) -> ContentRepo:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def default_branch(self) -> str:
        """The branch HEAD points at, or ``"HEAD"`` when HEAD is detached."""
        head = self._repo.head
        return "HEAD" if head.is_detached else head.ref.name

    def resolve(self, ref: str | None = None) -> str:
        """Full sha of the commit ``ref`` names (``None``: the default branch's tip)."""
        name = "HEAD" if ref is None else validate_ref(ref)
        try:
            # rev-parse before git 2.43 has no --end-of-options: validate_ref has already refused
            # a leading "-", and ^{commit} both peels annotated tags and refuses trees and blobs.
            return self._repo.git.rev_parse("--verify", "--quiet", f"{name}^{{commit}}")
        except git.GitCommandError as exc:
            raise UnknownRef(f"unknown ref {name!r}: no commit, branch or tag by that name in the repository") from exc

    def commit_info(self, sha: str) -> CommitInfo:
        """Author, date and summary of one commit (any allowed ref is accepted)."""
        commit = self._commit(sha)
        return CommitInfo(
            sha=commit.hexsha,
            author_name=commit.author.name or "",
            author_email=commit.author.email or "",
            committed_at=commit.committed_datetime,
            summary=str(commit.summary),
        )

    def files_at(self, ref: str | None = None, *, paths: Iterable[str] | None = None, under: str | None = None) -> list[GitFile]:
        """Every regular file at ``ref`` (or only ``paths``, missing ones left out, or only those in the folder ``under``),
        sorted by path.

        Read from Git objects, so the working tree (if any) is never touched. Symlinks and
        submodules are skipped: they are not articles and a symlink could point outside the repo.
        A folder's files are read, and their last changes looked up, without the rest of the tree's.
        """
        commit = self._commit(ref)
        if paths is not None:
            wanted = _validated_paths(paths)
            blobs = [blob for path in wanted if (blob := _find_file(commit.tree, path)) is not None]
            limit = [] if len(blobs) > MAX_PATHSPECS else [_path(blob) for blob in blobs]
        elif under is not None:
            folder = _find_folder(commit.tree, validate_path(under))
            blobs, limit = (list(_regular_files(folder)) if folder is not None else []), [under]
        else:
            blobs, limit = list(_regular_files(commit.tree)), []
        changed = self._last_changes(commit.hexsha, {_path(blob) for blob in blobs}, limit)
        # Unreachable with a complete history; kept so a damaged one degrades instead of failing.
        fallback = LastChange(commit.hexsha, commit.committed_datetime)
        files = [_git_file(blob, changed.get(_path(blob), fallback)) for blob in blobs]
        return sorted(files, key=lambda f: f.path)

    def changes(self, old: str, new: str) -> list[Change]:
        """Files added, modified, deleted or renamed (renamed even with edits) from ``old`` to ``new``."""
        validate_ref(old), validate_ref(new)  # both before either reaches git
        old_sha, new_sha = self.resolve(old), self.resolve(new)
        if old_sha == new_sha:
            return []
        # diff-tree is plumbing: unlike `git diff` it ignores color, external-diff and rename config.
        out = self._repo.git.diff_tree(
            "-r", "-z", "-M", "--raw", "--no-abbrev", old_sha, new_sha,
            stdout_as_string=False, strip_newline_in_stdout=False,
        )  # fmt: skip
        return raw_changes(out.split(b"\0"))

    def history(self, path: str, ref: str | None = None) -> Generator[Revision, None, None]:
        """Commits that changed the file ``path`` (its name at ``ref``), newest first, across renames.

        A generator over a running ``git log --follow``: a caller that stops early (its page is
        full) stops git too, so the first page of a long history costs no more than the page.
        """
        path = validate_path(path)
        sha = self.resolve(ref)
        proc = self._repo.git.log(
            "--follow", "-M", "--root", HISTORY_FORMAT, "-z", "--raw", "--no-abbrev", "--no-show-signature", "--no-color",
            sha, "--", path, as_process=True, env=_LITERAL_PATHSPECS,
        )  # fmt: skip
        finished = False
        try:
            yield from revisions(nul_tokens(proc.stdout), path)
            finished = True
        finally:
            if finished:
                proc.wait()  # raises GitCommandError if git failed
            else:
                _kill(proc)

    def branch_exists(self, branch: str) -> bool:
        name = f"refs/heads/{validate_ref(branch)}"
        try:
            self._repo.git.rev_parse("--verify", "--quiet", name)
        except git.GitCommandError:
            return False
        return True

    def contains(self, commit: str, descendant: str) -> bool:
        """Whether ``commit`` is ``descendant`` or in its history (both full shas from :meth:`resolve`)."""
        return is_ancestor(self._repo, commit, descendant)

    def first_commit(self, ref: str | None = None) -> str:
        """The oldest commit in ``ref``'s history (the first root, when histories were merged)."""
        return self._repo.git.rev_list("--max-parents=0", self.resolve(ref)).splitlines()[-1]

    def read_blob(self, ref: str | None, path: str) -> bytes:
        """Bytes of the regular file ``path`` at ``ref``; FileNotFoundError when it is not there."""
        path = validate_path(path)
        commit = self._commit(ref)
        blob = _find_file(commit.tree, path)
        if blob is None:
            at = ref if ref is not None else self.default_branch()
            raise FileNotFoundError(f"no file {path!r} at {at} (commit {commit.hexsha[:12]})")
        return blob.data_stream.read()

    def _commit(self, ref: str | None) -> Commit:
        return self._repo.commit(self.resolve(ref))

    def _last_changes(self, sha: str, wanted: set[str], limit: list[str]) -> dict[str, LastChange]:
        """One `git log` walk from ``sha`` (optionally limited to ``limit``), stopped once all are found."""
        if not wanted:
            return {}
        proc = self._repo.git.log(*_LOG_ARGS, sha, "--", *limit, as_process=True, env=_LITERAL_PATHSPECS)
        try:
            found = last_changes(nul_tokens(proc.stdout), wanted)
        except BaseException:
            _kill(proc)
            raise
        if len(found) == len(wanted):
            _kill(proc)  # the rest of history cannot change the answer
        else:
            proc.wait()  # output was read to the end; raises GitCommandError if git failed
        return found


def is_ancestor(raw: git.Repo, ancestor: str, descendant: str) -> bool:
    """Whether commit ``ancestor`` is ``descendant`` or one of its ancestors."""
    try:
        raw.git.merge_base("--is-ancestor", ancestor, descendant)
    except git.GitCommandError as exc:
        if exc.status == 1:
            return False
        raise
    return True


def fast_forward(raw: git.Repo, branch: str, old: str, new: str) -> None:
    """Move ``branch`` from ``old`` to its descendant ``new`` without ever losing work.

    Where the branch is checked out, ``git merge --ff-only`` updates the files too and refuses to
    clobber local edits; elsewhere ``update-ref`` with the old value leaves a branch that moved
    meanwhile alone. Either refusal raises ``git.GitCommandError``.
    """
    checked_out = not raw.bare and not raw.head.is_detached and raw.head.ref.name == branch
    if checked_out:
        raw.git.merge("--ff-only", "--quiet", new)
    else:
        raw.git.update_ref(f"refs/heads/{branch}", new, old)


def _validated_paths(paths: Iterable[str]) -> list[str]:
    """Allow-list every path before any git work; a bare string would be read letter by letter."""
    if isinstance(paths, str | bytes):
        raise TypeError("paths must be an iterable of paths, not a single string")
    return sorted({validate_path(path) for path in paths})


def _regular_files(tree: Tree) -> Iterator[Blob]:
    for item in tree.traverse():
        if isinstance(item, Blob) and stat.S_ISREG(item.mode):
            yield item


def _find_file(tree: Tree, path: str) -> Blob | None:
    """The regular file at ``path`` in ``tree``, or None (missing, a folder, a symlink, a submodule)."""
    try:
        item = tree / path
    except KeyError:
        return None
    return item if isinstance(item, Blob) and stat.S_ISREG(item.mode) else None


def _find_folder(tree: Tree, path: str) -> Tree | None:
    """The folder at ``path`` in ``tree``, or None (missing, or a file)."""
    try:
        item = tree / path
    except KeyError:
        return None
    return item if isinstance(item, Tree) else None


def _path(blob: Blob) -> str:
    """A blob's path in its tree: a str from a tree walk, though GitPython types it as any path-like."""
    return os.fspath(blob.path)


def _git_file(blob: Blob, last: LastChange) -> GitFile:
    return GitFile(_path(blob), blob.hexsha, blob.data_stream.read(), last.revision, last.updated_at)


def _kill(proc: Git.AutoInterrupt) -> None:
    """Stop a git process whose remaining output is not needed, and reap it."""
    if proc.proc is None:  # GitPython already terminated it
        return
    proc.proc.kill()
    proc.proc.wait()
