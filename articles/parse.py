"""Bytes of a Markdown file to a validated Article, or an ArticleError saying what to fix."""

from __future__ import annotations

import codecs
import datetime as dt
import difflib
from collections.abc import Hashable
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from articles.model import LOCALES, Article, ArticleError, FrontMatter
from articles.sections import split_sections

ROOT_DOCUMENTS = frozenset({"readme.md", "contributing.md", "changelog.md"})
"""Repository documents at the root that are Markdown but not articles."""

FENCE = "---"


class InvalidArticle(ValueError):
    """A file that is not a valid article; ``error`` says where and why, for the writer to fix."""

    def __init__(self, error: ArticleError) -> None:
        super().__init__(str(error))
        self.error = error


def is_article_path(path: str) -> bool:
    """Markdown files are articles unless hidden (``.kb/``, ``.github/``) or root repository docs."""
    parts = path.split("/")
    if not parts[-1].endswith(".md") or any(part.startswith(".") for part in parts):
        return False
    return not (len(parts) == 1 and parts[0].lower() in ROOT_DOCUMENTS)


def parse_article(path: str, data: bytes, *, revision: str = "", updated_at: dt.datetime | None = None) -> Article:
    """Decode, split off the front matter, validate it and split the body into sections.

    Raises ``InvalidArticle`` with the first thing a writer has to fix, and nothing else: even a
    parser bug on one file becomes that file's error, so it cannot stop the rest from being indexed.
    """
    try:
        return _parse(path, data, revision=revision, updated_at=updated_at)
    except InvalidArticle:
        raise
    except Exception as exc:  # see the docstring
        reason = f"could not be parsed ({type(exc).__name__}: {exc}); this is a kb bug, please report it"
        raise _fail(path, "content", reason) from exc


def split_document(path: str, data: bytes) -> tuple[dict[Any, Any], str]:
    """A Markdown file's front matter as YAML data, and its body: what articles and templates (`templates.py`) share.

    Each problem (encoding, a missing fence, broken YAML) is an ``InvalidArticle`` naming it.
    """
    front_text, body = _split_front_matter(path, _decode(path, data))
    return _load_yaml(path, front_text), body


def _parse(path: str, data: bytes, *, revision: str, updated_at: dt.datetime | None) -> Article:
    data_front, body = split_document(path, data)
    front = _validate(path, data_front)
    return Article(
        path=path,
        front=front,
        locale=_locale(path, front),
        body=body,
        sections=split_sections(body),
        revision=revision,
        updated_at=updated_at,
        audience=front.audience,  # None when unset: kb decides it from .kb/access.yml
    )


def _fail(path: str, field: str, reason: str) -> InvalidArticle:
    return InvalidArticle(ArticleError(path=path, field=field, reason=reason))


def _decode(path: str, data: bytes) -> str:
    """UTF-8 text with a BOM tolerated and CRLF normalised; binary and other encodings refused."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _fail(path, "encoding", "UTF-16 text; save the file as UTF-8")
    if b"\x00" in data:
        raise _fail(path, "content", "binary file, not Markdown text (it contains NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start]
        reason = f"not valid UTF-8: byte 0x{byte:02x} at byte offset {exc.start} (line {line}); save it as UTF-8"
        raise _fail(path, "encoding", reason) from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


def _split_front_matter(path: str, text: str) -> tuple[str, str]:
    """The YAML between the first two ``---`` lines, and the body after them."""
    lines = text.split("\n")
    if lines[0].rstrip() != FENCE:
        reason = "missing: the file must start with a '---' line, YAML (id, title, …) and another '---' line"
        raise _fail(path, "front matter", reason)
    for number, line in enumerate(lines[1:], start=1):
        if line.rstrip() == FENCE:
            return "\n".join(lines[1:number]), "\n".join(lines[number + 1 :])
    raise _fail(path, "front matter", "not closed: add a '---' line after the front matter")


class _RefuseDuplicateKeys(yaml.constructor.SafeConstructor):
    """Refuses repeated keys: with plain YAML the last ``audience:`` silently wins."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, (str, int, float, bool)):
                continue  # unhashable keys are SafeLoader's to report
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _UniqueKeyLoader(_RefuseDuplicateKeys, yaml.SafeLoader):
    """The pure-Python loader: slower, but it points at the line where a YAML mistake is."""


class _FastUniqueKeyLoader(
    _RefuseDuplicateKeys, getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # type: ignore[misc]  # chosen at import; mypy wants a static base
):
    """libyaml's parser when PyYAML has it: 3.3 s of a 20 s build of 4,199 articles went to the Python one."""


def _load_yaml(path: str, front_text: str) -> dict[Any, Any]:
    try:
        loaded: object = yaml.load(front_text, Loader=_FastUniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError:
        # Rare, so worth a second parse: libyaml reports an unclosed bracket where the file ends.
        try:
            loaded = yaml.load(front_text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as exc:
            raise _fail(path, "front matter", _yaml_reason(exc)) from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise _fail(path, "front matter", f"must be 'key: value' lines, not a {_yaml_kind(loaded)}")
    return loaded


def _yaml_reason(exc: yaml.YAMLError) -> str:
    """YAML's own message, with its line counted from the top of the file (the '---' is line 1)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is None:
        return f"invalid YAML: {problem}"
    return f"invalid YAML at line {mark.line + 2}, column {mark.column + 1}: {problem}"


def _validate(path: str, mapping: dict[Any, Any]) -> FrontMatter:
    try:
        return FrontMatter.model_validate(mapping)
    except ValidationError as exc:
        problems = _field_problems(exc)
    (field, reason), rest = problems[0], problems[1:]
    if rest:
        reason += "; also " + "; ".join(f"{other}: {why}" for other, why in rest)
    raise _fail(path, field, reason)


def _field_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """One (field, reason) per field, in pydantic's order; a union's alternatives give one reason."""
    problems: dict[str, str] = {}
    for error in exc.errors():
        field = _field_name(error["loc"])
        problems.setdefault(field, _reason(field, error))
    return list(problems.items())


def _field_name(loc: tuple[int | str, ...]) -> str:
    """``("tags", 2)`` → ``tags.2``; union member names such as ``("audience", "str")`` are dropped."""
    return ".".join([str(loc[0]), *(str(part) for part in loc[1:] if isinstance(part, int))])


def _reason(field: str, error: ErrorDetails) -> str:
    kind, value = error["type"], error["input"]
    if kind == "missing":
        return f"required: add '{field}:' to the front matter"
    if kind == "extra_forbidden":
        return _unknown_field_reason(field)
    if kind == "string_type" and isinstance(value, (bool, int, float, dt.date)):
        shown = str(value).lower() if isinstance(value, bool) else str(value)
        example = f'{field}: "{shown}"' if "." not in field else f'"{shown}"'
        return f"YAML reads {shown} as a {_yaml_kind(value)}, but {field} must be text: quote it, e.g. {example}"
    return error["msg"].removeprefix("Value error, ")


def _unknown_field_reason(field: str) -> str:
    known = list(FrontMatter.model_fields)
    close = difflib.get_close_matches(field, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known fields: {', '.join(known)}"
    return f"unknown field ({hint})"


def _yaml_kind(value: object) -> str:
    kinds = {bool: "boolean", int: "number", float: "number", dt.date: "date", list: "list", str: "string"}
    return next((name for kind, name in kinds.items() if isinstance(value, kind)), type(value).__name__)


def _locale(path: str, front: FrontMatter) -> str:
    """The front matter's locale, else the top folder's; both present and different is an error."""
    first = path.split("/")[0] if "/" in path else ""
    from_path = first if first in LOCALES else None
    if front.locale and from_path and front.locale != from_path:
        reason = f"front matter says {front.locale!r} but the file is under {from_path}/: move it or fix the locale"
        raise _fail(path, "locale", reason)
    locale = front.locale or from_path
    if locale is None:
        codes, folders = " or ".join(LOCALES), " or ".join(f"{code}/" for code in LOCALES)
        reason = f"unknown: add 'locale: {LOCALES[0]}' ({codes}) to the front matter, or move the file under {folders}"
        raise _fail(path, "locale", reason)
    return locale
