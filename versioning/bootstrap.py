"""Create the content repository from a folder, e.g. the bundled sample help center on first run."""

from __future__ import annotations

import shutil
from pathlib import Path

import git

from versioning.repo import ContentRepo, RepositoryError

AUTHOR_NAME = "kb"
AUTHOR_EMAIL = "kb@localhost"

# Passed to git directly so the import works on a machine where nobody ever ran `git config`.
_IDENTITY = {
    "GIT_AUTHOR_NAME": AUTHOR_NAME,
    "GIT_AUTHOR_EMAIL": AUTHOR_EMAIL,
    "GIT_COMMITTER_NAME": AUTHOR_NAME,
    "GIT_COMMITTER_EMAIL": AUTHOR_EMAIL,
}


def create_repo_from_folder(source: Path, dest: Path, *, message: str = "Import sample help center") -> ContentRepo:
    """Copy ``source`` into a new repository at ``dest`` on branch ``main`` with one commit.

    Refuses a non-empty ``dest`` so that a misconfigured data directory is never overwritten; if
    anything fails after copying, ``dest`` is put back the way it was found.
    """
    source, dest = Path(source), Path(dest)
    _check_folders(source, dest)
    existed = dest.exists()
    try:
        _copy(source, dest)
        _init_and_commit(dest, message)
    except BaseException:
        _undo(dest, existed=existed)
        raise
    return ContentRepo(dest)


def _check_folders(source: Path, dest: Path) -> None:
    if not source.is_dir():
        raise NotADirectoryError(f"cannot import {source}: it is not a folder")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise FileExistsError(f"refusing to create a repository at {dest}: it exists and is not an empty folder")


def _copy(source: Path, dest: Path) -> None:
    # symlinks=True copies links as links: following them could pull in files from outside source.
    shutil.copytree(source, dest, symlinks=True, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git"))


def _init_and_commit(dest: Path, message: str) -> None:
    repo = git.Repo.init(dest, initial_branch="main")
    try:
        repo.git.add("--all", "--", ".")
        # --allow-empty: an empty folder still gets the commit every reader expects;
        # --no-verify / --no-gpg-sign: global hooks or signing config must not block an import.
        repo.git.commit("--quiet", "--allow-empty", "--no-verify", "--no-gpg-sign", "-m", message, env=_IDENTITY)
    except git.GitCommandError as exc:
        raise RepositoryError(f"could not commit {dest}: {exc.stderr.strip()}") from exc
    finally:
        repo.close()


def _undo(dest: Path, *, existed: bool) -> None:
    """Remove what create_repo_from_folder wrote, leaving an already-existing empty folder in place."""
    if not existed:
        shutil.rmtree(dest, ignore_errors=True)
        return
    for child in dest.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
