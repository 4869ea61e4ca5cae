"""Who may see what: audience defaults from .kb/access.yml and the views the API serves."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import TYPE_CHECKING

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from articles.model import Article, ArticleError, FrontMatter

if TYPE_CHECKING:
    from versioning import ContentRepo

ACCESS_FILE = ".kb/access.yml"
FAIL_CLOSED_AUDIENCE = "agents"
"""What an article without its own `audience:` gets while .kb/access.yml is broken: never wider than agents."""


class _Default(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(min_length=1, description="Glob over the article's repo path; '*' also crosses folders.")
    audience: str | tuple[str, ...]


class _AccessFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    defaults: tuple[_Default, ...] = ()
    segments: dict[str, str] = {}


@dataclass(frozen=True)
class AccessRules:
    """Default audiences per path glob (first match wins) and the declared customer segments."""

    defaults: tuple[tuple[str, str | tuple[str, ...]], ...] = ()
    segments: frozenset[str] = frozenset()
    fallback: str | tuple[str, ...] = "public"

    def audience_for(self, article: Article) -> str | tuple[str, ...]:
        if article.front.audience is not None:
            return article.front.audience
        for glob, audience in self.defaults:
            if fnmatch.fnmatchcase(article.path, glob):
                return audience
        return self.fallback

    def undeclared_segments(self, audience: str | tuple[str, ...]) -> list[str]:
        """Segments an audience names that .kb/access.yml does not declare (a typo hides an article)."""
        if isinstance(audience, str) or not self.segments:
            return []
        return [segment for segment in audience if segment not in self.segments]


def parse_access_rules(data: bytes | None) -> tuple[AccessRules, list[ArticleError]]:
    """Rules from the file's bytes (None: no file, everything defaults to public).

    A broken file fails closed: articles that rely on its defaults become agents-only until it is fixed,
    and the error is reported like any article error.
    """
    if data is None:
        return AccessRules(), []
    try:
        raw = yaml.safe_load(data.decode("utf-8")) or {}
        parsed = _AccessFile.model_validate(raw)
        defaults = tuple((rule.path, _checked_audience(rule.audience)) for rule in parsed.defaults)
    except (UnicodeDecodeError, yaml.YAMLError, ValidationError, ValueError) as error:
        field, reason = _describe(error)
        return AccessRules(fallback=FAIL_CLOSED_AUDIENCE), [ArticleError(ACCESS_FILE, field, reason)]
    return AccessRules(defaults=defaults, segments=frozenset(parsed.segments)), []


def access_rules_at(repo: ContentRepo, commit: str) -> tuple[AccessRules, list[ArticleError]]:
    """The rules of ``.kb/access.yml`` as committed at ``commit`` (none there: everything public)."""
    try:
        data = repo.read_blob(commit, ACCESS_FILE)
    except FileNotFoundError:
        data = None
    return parse_access_rules(data)


def _checked_audience(value: str | tuple[str, ...]) -> str | tuple[str, ...]:
    """The same rules as front matter's `audience`, so both places accept exactly the same values."""
    return FrontMatter.model_validate({"id": "x", "title": "x", "audience": value}).audience


def _describe(error: Exception) -> tuple[str, str]:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        return ".".join(str(part) for part in first["loc"]), first["msg"]
    if isinstance(error, UnicodeDecodeError):
        return "encoding", f"not UTF-8 (byte {error.start})"
    return "yaml", str(error).replace("\n", " ")


@dataclass(frozen=True)
class View:
    """A kind of reader: ``key`` names the view for caches, ``can_see`` decides per article."""

    key: str

    def can_see(self, article: Article) -> bool:
        return self.allows(article.audience, article.front.status)

    def allows(self, audience: str | tuple[str, ...] | None, status: str | None) -> bool:
        """Whether an article with this effective audience and status is visible (the change feed has no Article)."""
        if self.key == "staff":
            return audience is not None
        if self.key == "public":
            return audience == "public" and status == "published"
        raise ValueError(f"unknown view {self.key!r}")


PUBLIC = View("public")
"""Anonymous readers: public, published articles only. The only reader of the API until principals exist (issue 5)."""

STAFF = View("staff")
"""Agents, writers, reviewers and admins, and the `kb` command line on the repository's machine: every
article, internal ones, drafts and archived ones included."""


@dataclass(frozen=True)
class Principal:
    """Who is asking: anonymous until a request presents an API key, then the key's role and name."""

    kind: str
    name: str | None = None

    @property
    def view(self) -> View:
        """Bots answer customers, so they read what anonymous readers do; every other role reads everything."""
        return STAFF if self.kind in ("agent", "writer", "reviewer", "admin") else PUBLIC


ANONYMOUS = Principal("anonymous")
