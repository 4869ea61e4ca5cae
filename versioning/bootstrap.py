"""Create the content repository from a folder, e.g. the bundled sample help center on first run.

Either as one import commit, or with the past a history file describes (``versioning.replay``).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import git

from versioning.replay import Step, Tree, label, load_history, read_folder, replay
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

    def build() -> None:
        _copy(source, dest)
        _init_and_commit(dest, message)

    return _create(dest, build)


def create_repo_from_history(source: Path, dest: Path, *, history: Path) -> ContentRepo:
    """A new repository at ``dest`` on ``main`` whose commits are the ones ``history`` describes for ``source``.

    Each commit carries its writer as author and committer and its date (with its offset); the last
    commit's tree is ``source``, byte for byte. The history is read and checked against the folder
    before ``dest`` is touched, so a history that does not apply (a HistoryError naming the commit
    and file) leaves nothing behind; ``dest`` is guarded as in :func:`create_repo_from_folder`.
    """
    source, dest = Path(source), Path(dest)
    _check_folders(source, dest)
    steps = replay(load_history(history), read_folder(source))
    return _create(dest, lambda: _commit_steps(dest, steps))


def _create(dest: Path, build: Callable[[], None]) -> ContentRepo:
    """Run ``build`` into ``dest``; if anything fails, put ``dest`` back the way it was found."""
    existed = dest.exists()
    try:
        build()
    except BaseException:
        _undo(dest, existed=existed)
        raise
    return ContentRepo(dest)


# --allow-empty: an empty folder still gets the commit every reader expects;
# --no-verify / --no-gpg-sign: global hooks or signing config must not block an import.
_COMMIT_OPTIONS = ("--quiet", "--allow-empty", "--no-verify", "--no-gpg-sign")


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
        repo.git.commit(*_COMMIT_OPTIONS, "-m", message, env=_IDENTITY)
    except git.GitCommandError as exc:
        raise RepositoryError(f"could not commit {dest}: {exc.stderr.strip()}") from exc
    finally:
        repo.close()


def _commit_steps(dest: Path, steps: list[Step]) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    repo = git.Repo.init(dest, initial_branch="main")
    try:
        previous: Tree = {}
        for step in steps:
            _write_tree(dest, previous, step.tree)
            previous = step.tree
            try:
                repo.git.add("--all", "--", ".")
                repo.git.commit(*_COMMIT_OPTIONS, "-m", step.commit.message, env=_step_env(step))
            except git.GitCommandError as exc:
                where = label(step.number, step.commit)
                raise RepositoryError(f"could not make {where} in {dest}: {exc.stderr.strip()}") from exc
    finally:
        repo.close()


def _write_tree(dest: Path, previous: Tree, tree: Tree) -> None:
    """Make the working folder hold ``tree``, touching only what differs from ``previous``."""
    for path in previous.keys() - tree.keys():
        (dest / path).unlink()
    for path, data in tree.items():
        if previous.get(path) != data:
            (dest / path).parent.mkdir(parents=True, exist_ok=True)
            (dest / path).write_bytes(data)


def _step_env(step: Step) -> dict[str, str]:
    date = step.commit.date.isoformat()
    name, email = step.author.name, step.author.email
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
        "GIT_COMMITTER_DATE": date,
    }


def _undo(dest: Path, *, existed: bool) -> None:
    """Remove what a create_repo_from_… function wrote, leaving an already-existing empty folder in place."""
    if not existed:
        shutil.rmtree(dest, ignore_errors=True)
        return
    for child in dest.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
