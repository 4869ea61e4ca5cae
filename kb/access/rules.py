"""Who may see what and who may do what: audience defaults from .kb/access.yml, the views the API serves, the roles of keys."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

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
        return self.decide(article)[0]

    def decide(self, article: Article) -> tuple[str | tuple[str, ...], str]:
        """The article's effective audience and which rule gave it, in words (what `kb access explain` shows)."""
        if article.front.audience is not None:
            return article.front.audience, f"front matter of {article.path} (audience: {describe_audience(article.front.audience)})"
        for number, (glob, audience) in enumerate(self.defaults, start=1):
            if fnmatch.fnmatchcase(article.path, glob):
                return audience, f"{ACCESS_FILE} defaults rule {number} (path: {glob!r})"
        if self.fallback == FAIL_CLOSED_AUDIENCE:
            return self.fallback, f"{ACCESS_FILE} is broken, so articles without their own audience are agents-only"
        return self.fallback, f"no audience in front matter and no {ACCESS_FILE} rule matched {article.path}: public by default"

    def undeclared_segments(self, audience: str | tuple[str, ...] | None) -> list[str]:
        """Segments an audience names that .kb/access.yml does not declare (a typo hides an article)."""
        if audience is None or isinstance(audience, str) or not self.segments:
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
    checked = FrontMatter.model_validate({"id": "x", "title": "x", "audience": value}).audience
    assert checked is not None  # the validator returns a value it was given
    return checked


def _describe(error: Exception) -> tuple[str, str]:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        return ".".join(str(part) for part in first["loc"]), first["msg"]
    if isinstance(error, UnicodeDecodeError):
        return "encoding", f"not UTF-8 (byte {error.start})"
    return "yaml", str(error).replace("\n", " ")


Role = Literal["agent", "bot", "writer", "reviewer", "admin"]
"""Who may do what: the role an API key is created with. A bot reads as a customer; the others are staff."""
ROLES: tuple[Role, ...] = get_args(Role)
STAFF_ROLES: tuple[Role, ...] = ("agent", "writer", "reviewer", "admin")
"""Roles that work on the content or with customers: they read every article, drafts included."""
WRITER_ROLES: tuple[Role, ...] = ("writer", "reviewer", "admin")
"""Roles that propose changes to articles, and close proposals."""
REVIEWER_ROLES: tuple[Role, ...] = ("reviewer", "admin")
"""Roles that merge proposals."""
ADMIN_ROLES: tuple[Role, ...] = ("admin",)
"""Roles that manage access: explain any reader's verdict."""


@dataclass(frozen=True)
class View:
    """What one kind of reader may see. Hashable: a snapshot keeps one allow-list per view.

    ``staff`` readers see everything; everyone else sees published articles only, and of those the
    public ones, the ``signed_in`` ones once signed in, and the ones for a segment they belong to.
    """

    staff: bool = False
    signed_in: bool = False
    segments: frozenset[str] = frozenset()

    def can_see(self, article: Article) -> bool:
        return self.allows(article.audience, article.front.status)

    def allows(self, audience: str | tuple[str, ...] | None, status: str | None) -> bool:
        """Whether an article with this effective audience and status is visible (the change feed has no Article)."""
        return self.verdict(audience, status)[0]

    def verdict(self, audience: str | tuple[str, ...] | None, status: str | None) -> tuple[bool, str]:
        """Whether this view may see such an article, and why: the one place the rules live."""
        if audience is None:
            return False, "no audience was decided for it (it was not indexed through .kb/access.yml)"
        if self.staff:
            return True, "agents, writers, reviewers and admins see every article, drafts and internal ones included"
        if status != "published":
            return False, f"its status is {status}: drafts and archived articles are for agents and writers"
        if audience == "public":
            return True, "it is public and published"
        if audience == "agents":
            return False, "its audience is agents: internal to the support team"
        if not self.signed_in:
            return False, f"its audience is {describe_audience(audience)}: customers who are signed in"
        if audience == "signed_in":
            return True, "it is for signed-in customers, and the reader is signed in"
        shared = sorted(self.segments.intersection(audience))
        if shared:
            return True, f"the reader is in segment {', '.join(shared)}, one of its audience {describe_audience(audience)}"
        return False, f"its audience is {describe_audience(audience)} and the reader is in none of those segments"


def describe_audience(audience: str | tuple[str, ...] | None) -> str:
    """An audience as front matter writes it: ``public``, ``[enterprise, beta]``."""
    if audience is None or isinstance(audience, str):
        return str(audience)
    return "[" + ", ".join(audience) + "]"


PUBLIC = View()
"""Anonymous readers and bots answering anonymous customers: public, published articles only."""

STAFF = View(staff=True)
"""Agents, writers, reviewers and admins, and the `kb` command line on the repository's machine: every
article, internal ones, drafts and archived ones included."""


def customer_view(segments: frozenset[str]) -> View:
    return View(signed_in=True, segments=segments)


@dataclass(frozen=True)
class Principal:
    """Who is asking.

    ``kind`` is ``anonymous``, ``customer`` (a signed token from the company's login) or an API key's
    role. ``customer`` is the token's subject, also for a bot key answering that customer, and
    ``segments`` the token's segments. ``key_id`` is the API key's row, the bucket its rate limit counts in.
    """

    kind: str
    name: str | None = None
    customer: str | None = None
    segments: frozenset[str] = frozenset()
    key_id: int | None = None

    @property
    def view(self) -> View:
        if self.kind in STAFF_ROLES:
            return STAFF
        if self.customer is not None:
            return customer_view(self.segments)
        return PUBLIC

    @property
    def label(self) -> str:
        """The principal as ``--as`` and ``?as=`` spell it."""
        if self.kind == "customer":
            return "customer" + (":" + ",".join(sorted(self.segments)) if self.segments else "")
        return self.kind


ANONYMOUS = Principal("anonymous")
PRINCIPAL_KINDS: tuple[str, ...] = ("anonymous", "customer", "bot", *STAFF_ROLES)


def parse_principal(text: str) -> Principal:
    """``anonymous``, ``customer``, ``customer:enterprise,beta`` or a role: who explain and audit act as."""
    kind, _, segments = text.strip().partition(":")
    if kind not in PRINCIPAL_KINDS:
        raise ValueError(f"unknown principal {text!r}; use one of {', '.join(PRINCIPAL_KINDS)} (customer:SEGMENT,… for segments)")
    if segments and kind != "customer":
        raise ValueError(f"only a customer has segments: {text!r}")
    if kind != "customer":
        return Principal(kind)
    names = frozenset(name.strip() for name in segments.split(",") if name.strip())
    return Principal("customer", customer="explain", segments=names)
