"""A folder's past written down: commits that add, move and edit its files, turned into the tree of each commit.

The folder holds every file as it is now and stays the one copy of the text; the history file holds
only what each commit changed, oldest commit first::

    authors:
      maya: {name: Maya Chen, email: maya.chen@orbitly.example}
    commits:
      - date: 2026-04-06T09:42:00-07:00      # an offset is required
        author: maya
        message: Import the help center      # files no later commit adds are added here
      - date: 2026-04-09T14:05:00-07:00
        author: maya
        message: "Reset password: links expire after 60 minutes"
        add: [en/account/new-article.md]     # appears in this commit
        move: {en/old/place.md: en/new/place.md}
        edit:
          en/account/reset-password.md:      # named as it is after this commit's moves
            - before: valid for 24 hours
              after: valid for 60 minutes

Earlier trees are derived by undoing commits from the end: each edit's ``after`` text must occur
exactly once in the file as it stands after its commit, and is put back to ``before``; moves are
reversed and added files removed. Forward, each ``before`` must then occur exactly once in the file
as it stood before the commit, so every edit reads unambiguously in either direction. Deleting a
file is not expressible: its text would have to live in the history rather than in the folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from versioning.refs import InvalidPath, validate_path

Tree = dict[str, bytes]
"""Repository-relative POSIX path → the file's bytes."""


class HistoryError(ValueError):
    """A history file that is malformed or does not apply to its folder; the message names the commit and file."""


def _repo_path(path: str) -> str:
    """A plain relative path inside the repository: nothing that could write outside it or into ``.git``."""
    try:
        validate_path(path)
    except InvalidPath as invalid:
        raise ValueError(str(invalid)) from None
    parts = path.split("/")
    if "\\" in path or PurePosixPath(path).as_posix() != path or any(part in ("", ".", ".git") for part in parts):
        raise ValueError(f"invalid path {path!r}: write it as a/b/c.md, without '.', '.git', empty parts or backslashes")
    return path


RepoPath = Annotated[str, AfterValidator(_repo_path)]


class Author(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"\S")
    email: str = Field(pattern=r"^[^@\s<>]+@[^@\s<>]+$")


class Edit(BaseModel):
    """One text replacement in a file: ``before`` became ``after`` in this commit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    before: str = Field(min_length=1)
    after: str = Field(min_length=1)

    @field_validator("after")
    @classmethod
    def _changes_something(cls, after: str, info: ValidationInfo) -> str:
        if info.data.get("before") == after:
            raise ValueError("is the same as before: the edit changes nothing")
        return after


class HistoryCommit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    date: AwareDatetime
    author: str = Field(min_length=1)
    message: str = Field(pattern=r"\S")
    add: list[RepoPath] = []
    move: dict[RepoPath, RepoPath] = {}
    edit: dict[RepoPath, list[Edit]] = {}


class History(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    authors: dict[str, Author] = Field(min_length=1)
    commits: list[HistoryCommit] = Field(min_length=1)


@dataclass(frozen=True)
class Step:
    """One commit to make: who, when, what message, and the whole tree after it."""

    number: int
    commit: HistoryCommit
    author: Author
    tree: Tree


class _Loader(yaml.SafeLoader):
    """YAML without implicit timestamps: dates reach pydantic as written, so a missing offset is reported."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_history(path: Path) -> History:
    """Read and validate a history file; any problem is a HistoryError naming the file and where in it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise HistoryError(f"{path}: cannot read the history file: {error}") from None
    return parse_history(text, source=str(path))


def parse_history(text: str, *, source: str = "history") -> History:
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader: plain data only, never objects
    except yaml.YAMLError as error:
        raise HistoryError(f"{source}: not valid YAML: {error}") from None
    try:
        return History.model_validate(data)
    except ValidationError as error:
        problems = "\n".join(f"  {_location(item['loc'], data)}: {item['msg']}" for item in error.errors())
        raise HistoryError(f"{source}: {error.error_count()} problem(s) in the history file:\n{problems}") from None


def _location(loc: tuple[Any, ...], data: Any) -> str:
    """``('commits', 3, 'edit', 'en/a.md', 0, 'after')`` → ``commit 4 (date, "message") › edit › en/a.md › 1 › after``."""
    if len(loc) >= 2 and loc[0] == "commits" and isinstance(loc[1], int):
        raw = data["commits"][loc[1]] if isinstance(data, dict) else None
        head = _raw_label(loc[1] + 1, raw)
        rest = [str(part + 1) if isinstance(part, int) else str(part) for part in loc[2:]]
        return " › ".join([head, *rest])
    return " › ".join(str(part) for part in loc) or "the file"


def _raw_label(number: int, raw: Any) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("message"), str):
        return f"commit {number} ({raw.get('date', '?')}, {_summary(raw['message'])!r})"
    return f"commit {number}"


def _summary(message: str) -> str:
    return message.strip().splitlines()[0][:60] if message.strip() else ""


def label(number: int, commit: HistoryCommit) -> str:
    """How errors name a commit: its number (oldest is 1), date and first line."""
    return f"commit {number} ({commit.date.isoformat()}, {_summary(commit.message)!r})"


def read_folder(folder: Path) -> Tree:
    """Every regular file under ``folder`` (``.git`` left out) by repository-relative path."""
    folder = Path(folder)
    tree: Tree = {}
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in sorted(files) + [d for d in dirs if Path(root, d).is_symlink()]:
            file = Path(root, name)
            path = file.relative_to(folder).as_posix()
            if file.is_symlink() or not file.is_file():
                raise HistoryError(f"{folder}: {path} is not a regular file; a history replays regular files only")
            tree[path] = file.read_bytes()
    return tree


def replay(history: History, final: Mapping[str, bytes]) -> list[Step]:
    """The tree after each commit, oldest first; the last is ``final``. Raises HistoryError where it does not apply."""
    commits = history.commits
    _check_commits(history)
    trees: list[Tree] = [dict(final)]
    for number in range(len(commits), 1, -1):
        trees.append(_undo(number, commits[number - 1], trees[-1]))
        _check_no_file_is_a_folder(number, commits[number - 1], trees[-1])
    trees.reverse()
    first = commits[0]
    for path in first.add:
        if path not in trees[0]:
            raise HistoryError(f"{label(1, first)}: {path}: {_MISSING}")
    for number in range(2, len(commits) + 1):
        _check_forward(number, commits[number - 1], trees[number - 2], trees[number - 1])
    return [
        Step(number, commit, history.authors[commit.author], tree)
        for number, (commit, tree) in enumerate(zip(commits, trees, strict=True), 1)
    ]


_MISSING = "no such file at this commit (not in the folder, or added or moved there by a later commit)"


def _check_commits(history: History) -> None:
    """What pydantic's field checks cannot see: authors named, dates in order, a first commit that only adds."""
    previous: HistoryCommit | None = None
    for number, commit in enumerate(history.commits, 1):
        if commit.author not in history.authors:
            known = ", ".join(sorted(history.authors))
            raise HistoryError(f"{label(number, commit)}: author {commit.author!r} is not among the authors ({known})")
        if previous is not None and commit.date <= previous.date:
            raise HistoryError(
                f"{label(number, commit)}: its date is not after commit {number - 1}'s "
                f"({previous.date.isoformat()}); list commits oldest first"
            )
        if number == 1 and (commit.move or commit.edit):
            raise HistoryError(f"{label(number, commit)}: the first commit can only add files; there is nothing to move or edit")
        if number > 1 and not (commit.add or commit.move or commit.edit):
            raise HistoryError(f"{label(number, commit)}: changes nothing; give it add, move or edit")
        previous = commit


def _undo(number: int, commit: HistoryCommit, after: Tree) -> Tree:
    """The tree before ``commit``, from the tree after it: edits undone, moves reversed, added files removed."""
    where = label(number, commit)
    tree = dict(after)
    for path, edits in commit.edit.items():
        text = _text(tree, path, where)
        for index in range(len(edits), 0, -1):
            edit = edits[index - 1]
            _expect_once(text, edit.after, f"{where}: {path}: edit {index}: the text after it", "after this commit")
            text = text.replace(edit.after, edit.before, 1)
        tree[path] = text.encode("utf-8")
    for old, new in commit.move.items():
        if new not in tree:
            raise HistoryError(f"{where}: moved to {new}: {_MISSING}")
        if old in tree:
            raise HistoryError(f"{where}: moved from {old}, but {old} also exists after this commit")
        tree[old] = tree.pop(new)
    for path in commit.add:
        if path not in tree:
            raise HistoryError(f"{where}: added {path}: {_MISSING}")
        del tree[path]
    return tree


def _check_forward(number: int, commit: HistoryCommit, before: Tree, after: Tree) -> None:
    """Read forward, each edit's ``before`` text is found once in the file as it stood before the commit."""
    where = label(number, commit)
    origin = {new: old for old, new in commit.move.items()}
    for path, edits in commit.edit.items():
        source = origin.get(path, path)
        if source not in before:
            continue  # added in this commit: its text exists only after it
        text = before[source].decode("utf-8")
        for index, edit in enumerate(edits, 1):
            _expect_once(text, edit.before, f"{where}: {path}: edit {index}: the text before it", "before this commit")
            text = text.replace(edit.before, edit.after, 1)
        if text.encode("utf-8") != after[path]:  # cannot happen when both checks above pass; kept as a guard
            raise HistoryError(f"{where}: {path}: replaying the edits forward does not give the file after the commit")


def _check_no_file_is_a_folder(number: int, commit: HistoryCommit, before: Tree) -> None:
    """The tree before ``commit`` cannot hold both ``a`` and ``a/b``: writing it would fail half-way through."""
    folders = {parent.as_posix() for path in before for parent in PurePosixPath(path).parents}
    clash = sorted(folders & before.keys())
    if clash:
        raise HistoryError(f"{label(number, commit)}: {clash[0]} would be both a file and a folder before this commit (see its moves)")


def _text(tree: Tree, path: str, where: str) -> str:
    if path not in tree:
        raise HistoryError(f"{where}: edited {path}: {_MISSING}")
    try:
        return tree[path].decode("utf-8")
    except UnicodeDecodeError:
        raise HistoryError(f"{where}: edited {path}, which is not UTF-8 text") from None


def _expect_once(text: str, needle: str, what: str, when: str) -> None:
    count = text.count(needle)
    if count == 1:
        return
    shown = needle if len(needle) <= 80 else needle[:77] + "..."
    if count == 0:
        raise HistoryError(f"{what}, {shown!r}, is not in the file as it stands {when}")
    raise HistoryError(f"{what}, {shown!r}, occurs {count} times in the file {when}; quote more of it so it is unique")
