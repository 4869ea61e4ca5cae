"""Line diffs of two versions of a file: unified text for people and tools, hunks of rows for a side-by-side view."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

CONTEXT_LINES = 3
"""Unchanged lines shown around each change, as `git diff` does."""

RowKind = Literal["context", "deleted", "added", "changed"]


@dataclass(frozen=True, slots=True)
class Line:
    number: int
    """1-based, in its own version of the file."""
    text: str


@dataclass(frozen=True, slots=True)
class Row:
    """One row of a side-by-side view: the old line on the left, the new one on the right.

    A "changed" row pairs a removed line with the added line that replaced it; a "deleted" or
    "added" row has one side only.
    """

    kind: RowKind
    old: Line | None
    new: Line | None


@dataclass(frozen=True, slots=True)
class Hunk:
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    rows: list[Row]


@dataclass(frozen=True, slots=True)
class TextDiff:
    old_path: str | None
    """None when the file did not exist in the old version."""
    new_path: str | None
    """None when the file does not exist in the new version."""
    unified: str
    hunks: list[Hunk]


def diff_texts(old: str | None, new: str | None, *, old_path: str | None, new_path: str | None) -> TextDiff:
    """Compare two versions (None: the file is absent there) line by line, with git's labels and context.

    Lines keep their line ends while compared, so a change to the final newline alone is a change,
    shown as git shows it ("\\ No newline at end of file").
    """
    old_lines = (old or "").splitlines(keepends=True)
    new_lines = (new or "").splitlines(keepends=True)
    unified = "".join(
        _with_newline(line)
        for line in difflib.unified_diff(
            old_lines,
            new_lines,
            fromfile=f"a/{old_path}" if old_path else "/dev/null",
            tofile=f"b/{new_path}" if new_path else "/dev/null",
            n=CONTEXT_LINES,
        )
    )
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    hunks = [_hunk(group, old_lines, new_lines) for group in matcher.get_grouped_opcodes(CONTEXT_LINES)]
    return TextDiff(old_path, new_path, unified, hunks)


def _with_newline(line: str) -> str:
    """A diff line for a file's last line that had no line end gets git's marker after it."""
    return line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"


def _hunk(group: list[tuple[str, int, int, int, int]], old: list[str], new: list[str]) -> Hunk:
    rows: list[Row] = []
    for tag, i1, i2, j1, j2 in group:
        if tag == "equal":
            rows += [Row("context", _line(old, i), _line(new, j)) for i, j in zip(range(i1, i2), range(j1, j2), strict=True)]
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        rows += [Row("changed", _line(old, i1 + k), _line(new, j1 + k)) for k in range(paired)]
        rows += [Row("deleted", _line(old, i), None) for i in range(i1 + paired, i2)]
        rows += [Row("added", None, _line(new, j)) for j in range(j1 + paired, j2)]
    first, last = group[0], group[-1]
    old_count, new_count = last[2] - first[1], last[4] - first[3]
    # As in a unified diff's "@@ -0,0 +1,2 @@": an empty side starts at the line before it.
    return Hunk(
        old_start=first[1] + 1 if old_count else first[1],
        old_count=old_count,
        new_start=first[3] + 1 if new_count else first[3],
        new_count=new_count,
        rows=rows,
    )


def _line(lines: list[str], index: int) -> Line:
    return Line(index + 1, lines[index].rstrip("\r\n"))
