"""Keeping the content repository in step with a remote: clone once, then fetch and fast-forward only.

kb never resets a branch. When the remote's branch is not a descendant of the local one (someone
committed locally, or the remote history was rewritten), the sync stops and says so; the local
branch, and so the index built from it, stay exactly as they were.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import git

from versioning.refs import validate_ref
from versioning.repo import fast_forward, is_ancestor

SyncStatus = Literal["cloned", "updated", "unchanged", "ahead", "diverged"]
TRACKING = "refs/remotes/kb-sync/"
"""Where fetched branches land: a namespace of kb's own, so a user's `origin` configuration is never touched."""

_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:")


class SyncError(Exception):
    """The remote could not be reached or read, or the local branch cannot move; says what to fix."""


@dataclass(frozen=True)
class SyncResult:
    status: SyncStatus
    before: str | None
    """The local branch's commit before the sync (None when there was no repository yet)."""
    after: str
    """The local branch's commit now: ``before`` unless the branch moved."""
    remote: str
    """The remote branch's commit as fetched."""

    @property
    def moved(self) -> bool:
        return self.status in ("cloned", "updated")

    def describe(self, branch: str) -> str:
        short = {"before": (self.before or "")[:12], "after": self.after[:12], "remote": self.remote[:12]}
        return {
            "cloned": "cloned {branch} at {after}",
            "updated": "fast-forwarded {branch} from {before} to {after}",
            "unchanged": "{branch} is up to date at {after}",
            "ahead": "{branch} at {after} has local commits the remote ({remote}) does not; nothing to fetch",
            "diverged": "{branch} has diverged from the remote: local {before}, remote {remote}. kb never resets a "
            "branch; reconcile the two histories in Git (merge or rebase, then push), and the next sync picks it up. "
            "Until then {before} keeps being served",
        }[self.status].format(branch=branch, **short)


def validate_remote_url(url: str) -> str:
    """A remote kb may fetch from: a URL, an scp-like ``user@host:path``, or an absolute local path.

    The operator sets it, but it still reaches git as an argument, so an option-looking value
    (``--upload-pack=…``) or transports that run commands (``ext::``) are refused outright.
    """
    if not url or url.startswith("-"):
        raise SyncError(f"KB_REPO_URL {url!r}: must be a repository URL and must not start with '-'")
    if url.startswith("ext::") or "::" in url.split("/", 1)[0]:
        raise SyncError(f"KB_REPO_URL {url!r}: git remote helpers ('transport::address') are not allowed")
    if re.match(r"^(https?|ssh|git|file)://", url) or _SCP_LIKE.match(url) or Path(url).is_absolute():
        return url
    raise SyncError(f"KB_REPO_URL {url!r}: use https://, ssh://, git://, file://, user@host:path or an absolute path")


def sync_repository(path: Path, url: str, branch: str) -> SyncResult:
    """Clone ``url`` into ``path`` if there is nothing there, else fetch ``branch`` and fast-forward to it."""
    url, branch = validate_remote_url(url), validate_ref(branch)
    if not path.exists():
        return _clone(path, url, branch)
    try:
        repo = git.Repo(path)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise SyncError(f"{path} exists but is not a Git repository; remove it or point KB_REPO_PATH elsewhere") from exc
    with repo:
        remote = _fetch(repo, url, branch)
        before = _commit_of(repo, f"refs/heads/{branch}")
        if before is None:
            repo.git.update_ref(f"refs/heads/{branch}", remote, "0" * 40)
            return SyncResult("updated", None, remote, remote)
        if before == remote:
            return SyncResult("unchanged", before, before, remote)
        if is_ancestor(repo, before, remote):
            try:
                fast_forward(repo, branch, before, remote)
            except git.GitCommandError as exc:
                raise SyncError(f"could not fast-forward {branch} to {remote[:12]}: {_stderr(exc)}") from exc
            return SyncResult("updated", before, remote, remote)
        if is_ancestor(repo, remote, before):
            return SyncResult("ahead", before, before, remote)
        return SyncResult("diverged", before, before, remote)


def _clone(path: Path, url: str, branch: str) -> SyncResult:
    """A bare clone: kb reads Git objects only, and without a working tree there is no local work to lose."""
    try:
        repo = git.Repo.clone_from(url, path, bare=True, branch=branch, single_branch=True, multi_options=["--no-tags"])
    except git.GitCommandError as exc:
        raise SyncError(f"could not clone {redacted(url)} (branch {branch}): {_stderr(exc)}") from exc
    with repo:
        head = repo.git.rev_parse("--verify", f"refs/heads/{branch}^{{commit}}")
        repo.git.update_ref(f"{TRACKING}{branch}", head)
    return SyncResult("cloned", None, head, head)


def _fetch(repo: git.Repo, url: str, branch: str) -> str:
    try:
        repo.git.fetch("--no-tags", "--quiet", url, f"+refs/heads/{branch}:{TRACKING}{branch}")
    except git.GitCommandError as exc:
        raise SyncError(f"could not fetch {branch} from {redacted(url)}: {_stderr(exc)}") from exc
    return repo.git.rev_parse("--verify", f"{TRACKING}{branch}^{{commit}}")


def _commit_of(repo: git.Repo, ref: str) -> str | None:
    try:
        return repo.git.rev_parse("--verify", "--quiet", f"{ref}^{{commit}}")
    except git.GitCommandError:
        return None


def redacted(url: str) -> str:
    """The URL without a password or token (``https://user:token@host``), fit for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None and not (parts.username and parts.scheme in ("http", "https")):
        return url
    host = parts.hostname or ""
    return urlunsplit(parts._replace(netloc=f"***@{host}" + (f":{parts.port}" if parts.port else "")))


def _stderr(error: git.GitCommandError) -> str:
    """git's own message: GitPython wraps stderr as "\n  stderr: '…'", which is not worth repeating."""
    text = re.sub(r"^\s*stderr: '(.*)'\s*$", r"\1", str(error.stderr), flags=re.DOTALL)
    return " ".join(text.split()) or f"git exited with {error.status}"
