"""Parsers for git's NUL-separated (``-z``) log and diff-tree output."""

from __future__ import annotations

import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Literal

ChangeKind = Literal["added", "modified", "deleted", "renamed"]
_KIND_OF_STATUS: dict[str, ChangeKind] = {"A": "added", "D": "deleted", "R": "renamed"}
"""A file's kind of change from git's status letter in one commit; any other letter is a modification."""

LOG_FORMAT = "--format=%H%x00%cI"
"""One commit header: sha, NUL, strict ISO committer date; ``-z`` ends it with another NUL."""

HISTORY_FORMAT = "--format=%H%x00%an%x00%ae%x00%cI%x00%B"
"""A history entry's header: sha, author name and email, committer date, full message (five tokens)."""


@dataclass(frozen=True, slots=True)
class LastChange:
    """The commit that last changed a path, and its committer date."""

    revision: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Change:
    """One file's change between two commits; ``old_path`` is set only for renames."""

    kind: ChangeKind
    path: str
    old_path: str | None = None


@dataclass(frozen=True, slots=True)
class Revision:
    """One commit in a file's history, with the file's path in that commit (it changes on renames)."""

    sha: str
    author_name: str
    author_email: str
    committed_at: datetime
    message: str
    path: str
    kind: ChangeKind


def decode_path(raw: bytes) -> str:
    """Decode a path from git the way GitPython decodes tree entries, so the two always agree."""
    return raw.decode("utf-8", "surrogateescape")


def nul_tokens(stream: IO[bytes], chunk_size: int = 1 << 16) -> Iterator[bytes]:
    """Yield NUL-terminated tokens from a pipe as they arrive, so a reader may stop early."""
    read = getattr(stream, "read1", stream.read)  # read1 returns what is there instead of waiting
    pending = b""
    while chunk := read(chunk_size):
        pending += chunk
        *tokens, pending = pending.split(b"\0")
        yield from tokens
    if pending:
        yield pending


def last_changes(tokens: Iterable[bytes], wanted: set[str]) -> dict[str, LastChange]:
    """Read ``git log LOG_FORMAT --raw -z`` and keep the first (newest) commit seen per wanted path.

    Raw entries make the stream unambiguous: a path always follows a ``:``-token (``::`` for a
    merge's combined entry), so a file name can never be mistaken for a commit header.
    Stops consuming as soon as every wanted path has its commit.
    """
    found: dict[str, LastChange] = {}
    current: LastChange | None = None
    it = iter(tokens)
    for token in it:
        token = token.lstrip(b"\n")
        if not token:
            continue
        if not token.startswith(b":"):
            current = LastChange(token.decode("ascii"), datetime.fromisoformat(next(it).decode("ascii")))
            continue
        path = decode_path(next(it))
        if path in wanted and path not in found and current is not None:
            found[path] = current
            if len(found) == len(wanted):
                break
    return found


def raw_changes(tokens: Iterable[bytes]) -> list[Change]:
    """Read ``git diff-tree -r -z -M`` raw output into changes of regular files.

    Symlinks and submodules are not files to kb (``files_at`` skips them), so a file that becomes
    a symlink is reported as deleted and a symlink that becomes a file as added.
    """
    changes: list[Change] = []
    it = iter(tokens)
    for token in it:
        token = token.lstrip(b"\n")
        if not token:
            continue
        old_mode, new_mode, _old_sha, _new_sha, status = token[1:].decode("ascii").split(" ")
        first = decode_path(next(it))
        second = decode_path(next(it)) if status[0] in "RC" else None
        change = _classify(status[0], int(old_mode, 8), int(new_mode, 8), first, second)
        if change is not None:
            changes.append(change)
    return changes


def _classify(status: str, old_mode: int, new_mode: int, first: str, second: str | None) -> Change | None:
    """Turn one raw entry into a Change, seen only through regular files."""
    was_file, is_file = stat.S_ISREG(old_mode), stat.S_ISREG(new_mode)
    new_path = second or first
    if was_file and is_file:
        if status == "R":
            return Change("renamed", new_path, first)
        # A copy (only with -C) leaves its source in place: to a reader it is a new file.
        return Change("added", new_path) if status == "C" else Change("modified", new_path)
    if is_file:
        return Change("added", new_path)
    if was_file:
        return Change("deleted", first)
    return None


def revisions(tokens: Iterable[bytes], path: str) -> Iterator[Revision]:
    """Read ``git log --follow HISTORY_FORMAT --raw -z -- path``, newest first.

    The header is always five tokens (a message may hold anything but NUL), so it is read by count;
    the raw entries after it start with ``:`` and carry one path, two for a rename or copy. ``path``
    is the file's name in the newest commit; a rename entry tells the name it had before, which
    older entries then carry. A commit with several entries (a folder once named like the file) is
    reported once, from its first entry.
    """
    it = iter(tokens)
    header: list[bytes] | None = None
    reported = True
    for token in it:
        token = token.lstrip(b"\n")
        if not token:
            continue
        if not token.startswith(b":"):
            if not reported and header is not None:
                yield _revision(header, path, "modified")
            header, reported = [token, next(it), next(it), next(it), next(it)], False
            continue
        status = token[1:].decode("ascii").split(" ")[4]
        first = decode_path(next(it))
        second = decode_path(next(it)) if status[0] in "RC" else None
        if reported or header is None:
            continue
        kind = _KIND_OF_STATUS.get(status[0], "modified")
        yield _revision(header, second or first, kind)
        path, reported = first, True
    if not reported and header is not None:
        yield _revision(header, path, "modified")


def _revision(header: list[bytes], path: str, kind: ChangeKind) -> Revision:
    sha, name, email, date, message = header
    return Revision(
        sha=sha.decode("ascii"),
        author_name=name.decode("utf-8", "replace"),
        author_email=email.decode("utf-8", "replace"),
        committed_at=datetime.fromisoformat(date.decode("ascii")),
        message=message.decode("utf-8", "replace").strip(),
        path=path,
        kind=kind,
    )
