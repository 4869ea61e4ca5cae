"""Allow-lists for the refs and paths a caller may hand to Git."""

from __future__ import annotations

import re

MAX_REF_LENGTH = 200

_HEX_SHA = re.compile(r"[0-9a-fA-F]{4,64}")
_REF_CHARS = re.compile(r"[A-Za-z0-9._/-]+")


class InvalidRef(ValueError):
    """A caller-supplied ref that is not on the allow-list; it never reaches git."""


class InvalidPath(ValueError):
    """A caller-supplied repository path that is not on the allow-list; it never reaches git."""


def validate_ref(ref: str) -> str:
    """Return ``ref`` unchanged if it is a hex sha or a conservative branch/tag name, else raise.

    GitPython passes strings straight to git, where ``--upload-pack=…`` is an option rather than a
    ref, so only a subset of git's check-ref-format rules is allowed: ``[A-Za-z0-9._/-]``, at most
    200 characters, no leading ``-`` or ``/``, no ``..`` or ``//``, no component starting with
    ``.`` or ending in ``.lock``, no trailing ``/`` or ``.``. Revision syntax (``HEAD~1``,
    ``main^``, ``@{1}``, ``a..b``) is deliberately refused: callers name commits, not expressions.
    """
    if not isinstance(ref, str):
        raise InvalidRef(f"invalid ref {ref!r}: a ref must be a string")
    if _HEX_SHA.fullmatch(ref):
        return ref
    reason = _ref_problem(ref)
    if reason:
        raise InvalidRef(f"invalid ref {ref!r}: {reason}")
    return ref


def _ref_problem(ref: str) -> str | None:
    """Name the first allow-list rule ``ref`` breaks, or None when it passes them all."""
    if not ref:
        return "it is empty"
    if len(ref) > MAX_REF_LENGTH:
        return f"it is longer than {MAX_REF_LENGTH} characters"
    if "@{" in ref:
        return "reflog syntax '@{' is not allowed"
    if not _REF_CHARS.fullmatch(ref):
        return "only letters, digits and '.', '_', '/', '-' are allowed"
    if ref.startswith("-"):
        return "it starts with '-' and would be read as an option"
    if ref.startswith("/"):
        return "it starts with '/'"
    if ".." in ref:
        return "'..' is not allowed"
    if "//" in ref:
        return "'//' is not allowed"
    if ref.endswith(("/", ".")):
        return "it ends with '/' or '.'"
    return _component_problem(ref)


def _component_problem(ref: str) -> str | None:
    """Check each ``/``-separated part, as git does for hidden and lock files."""
    for part in ref.split("/"):
        if part.startswith("."):
            return f"the part {part!r} starts with '.'"
        if part.endswith(".lock"):
            return f"the part {part!r} ends with '.lock'"
    return None


def validate_path(path: str) -> str:
    """Return a repository-relative ``path`` unchanged if it is safe to look up, else raise.

    Paths are looked up in Git trees, and some reach git after ``--``; refusing absolute paths,
    ``..`` segments, NUL bytes and a leading ``-`` keeps a path from escaping the repository,
    truncating a C string or being read as an option if a later caller forgets the ``--``.
    """
    if not isinstance(path, str):
        raise InvalidPath(f"invalid path {path!r}: a path must be a string")
    reason = _path_problem(path)
    if reason:
        raise InvalidPath(f"invalid path {path!r}: {reason}")
    return path


def _path_problem(path: str) -> str | None:
    """Name the first rule ``path`` breaks, or None when it passes them all."""
    if not path:
        return "it is empty"
    if "\0" in path:
        return "it contains a NUL byte"
    if path.startswith(("/", "\\")):
        return "it is absolute; paths are relative to the repository root"
    if path.startswith("-"):
        return "it starts with '-' and could be read as an option"
    if ".." in path.split("/"):
        return "'..' segments are not allowed"
    return None
