"""Plain helpers that build real Git repositories in temporary folders for tests.

Functions rather than fixtures so any test can compose them:

    repo = init_repo(tmp_path / "content")
    first = commit_files(repo, {"en/a.md": "# A\n", "en/b.md": "# B\n"}, "Add A and B")
    second = commit_files(repo, {"en/b.md": None}, "Delete B", renames={"en/a.md": "en/c.md"})

Git runs with the user's global and system config switched off, so a signing key, a hook or a
default branch name on the developer's machine cannot change what the tests see.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

USER_NAME = "Test Writer"
USER_EMAIL = "writer@example.com"

_ISOLATED = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(repo_path: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run ``git -C repo_path *args`` isolated from user config; return stdout without the last newline."""
    result = subprocess.run(
        ["git", "-C", str(repo_path), *args],
        env={**os.environ, **_ISOLATED, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {repo_path}: {result.stderr.strip()}")
    return result.stdout.removesuffix("\n")


def init_repo(path: Path) -> Path:
    """Create an empty repository on branch ``main`` with a local identity; return its path."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "--quiet", "--initial-branch=main")
    git(path, "config", "user.name", USER_NAME)
    git(path, "config", "user.email", USER_EMAIL)
    return path


def commit_files(
    repo_path: Path,
    files: Mapping[str, str | bytes | None],
    message: str = "Update files",
    *,
    renames: dict[str, str] | None = None,
    date: datetime | None = None,
) -> str:
    """Apply ``renames`` (``git mv old new``), then write ``files`` (``None`` deletes), commit everything.

    Renames come first so that ``files`` can also edit a renamed file in the same commit.
    ``date`` (an aware datetime) sets both author and committer dates. Returns the new commit's sha.
    """
    for old, new in (renames or {}).items():
        (repo_path / new).parent.mkdir(parents=True, exist_ok=True)
        git(repo_path, "mv", "--", old, new)
    for name, content in files.items():
        _write(repo_path / name, content)
    git(repo_path, "add", "--all")
    when = {} if date is None else {"GIT_AUTHOR_DATE": date.isoformat(), "GIT_COMMITTER_DATE": date.isoformat()}
    git(repo_path, "commit", "--quiet", "--allow-empty", "-m", message, env=when)
    return git(repo_path, "rev-parse", "HEAD")


def _write(target: Path, content: str | bytes | None) -> None:
    if content is None:
        target.unlink()
    elif isinstance(content, bytes):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")


def make_remote(folder: Path, files: dict[str, str | bytes | None]) -> Path:
    """A bare repository at ``folder / 'remote.git'`` holding ``files``, pushed from a writer's clone.

    The writer's clone stays at ``folder / 'writer'``; :func:`push` commits there and pushes.
    """
    writer = init_repo(folder / "writer")
    commit_files(writer, files, "Add articles")
    bare = folder / "remote.git"
    git(folder, "clone", "--quiet", "--bare", str(writer), str(bare))
    git(writer, "remote", "add", "origin", str(bare))
    return bare


def push(remote: Path, files: dict[str, str | bytes | None], message: str, *, renames: dict[str, str] | None = None) -> str:
    """Commit ``files`` in the writer's clone of ``remote`` (see :func:`make_remote`) and push; returns the commit."""
    writer = remote.parent / "writer"
    sha = commit_files(writer, files, message, renames=renames)
    git(writer, "push", "--quiet", "origin", "main")
    return sha
