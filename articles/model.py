"""The article as data: front matter schema, parsed article, sections, chunks and validation errors."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from articles.contexts import context_problem

LOCALES: tuple[str, ...] = ("en", "ja")
"""Locales kb can analyse; an article in any other locale is rejected rather than indexed badly."""

AUDIENCE_KEYWORDS: tuple[str, ...] = ("public", "signed_in", "agents")
SEGMENT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
"""A customer segment's name, in front matter, .kb/access.yml and customer tokens alike."""
ARTICLE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,127}$")
_DURATION = re.compile(r"^(\d+)([dw])$")
_COMMIT = re.compile(r"^[0-9a-f]{7,40}$")

Status = Literal["published", "draft", "archived"]
Kind = Literal["article", "announcement"]
Severity = Literal["info", "maintenance", "incident"]
ANNOUNCEMENT_FIELDS = ("severity", "starts", "ends")


class FrontMatter(BaseModel):
    """The YAML block at the top of an article; field names follow Docusaurus / Zendesk usage.

    Unknown fields are rejected so that a typo (``audiance:``) is reported instead of silently
    making an internal article public.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Stable id shared by translations; survives renames and moves.")
    title: str = Field(min_length=1)
    locale: str | None = Field(default=None, description="en or ja; taken from the path when absent.")
    category: str | None = None
    tags: tuple[str, ...] = ()
    audience: str | tuple[str, ...] | None = Field(
        default=None, description="public | signed_in | agents | [segment, …]; from .kb/access.yml when absent."
    )
    status: Status = "published"
    owner: str | None = None
    review_every: str | None = Field(default=None, description="A duration such as 180d or 26w.")
    last_reviewed: dt.date | None = None
    template: str | None = Field(default=None, description="The template of .kb/templates/ it follows: its required sections are checked.")
    translated_from: str | None = Field(
        default=None, description="A translation's: the commit of its original (same id, default language) it was translated from."
    )
    keywords: tuple[str, ...] = ()
    questions: tuple[str, ...] = Field(
        default=(), description="Questions readers asked that it should answer: a content gap's, when kb proposed the article."
    )
    redirect_from: tuple[str, ...] = ()
    promoted: int | None = Field(
        default=None, ge=1, description="Its place among the home page's popular articles (1 first), until article views order them."
    )
    contexts: tuple[str, ...] = Field(
        default=(), description="Where in the product it helps: URL path globs (/settings/billing/**) or product areas (billing)."
    )
    kind: Kind = Field(default="article", description="announcement: shown as a banner while active (starts … ends).")
    severity: Severity | None = Field(default=None, description="An announcement's: info (the default), maintenance or incident.")
    starts: dt.datetime | None = Field(default=None, description="When an announcement's banner appears; absent: at once.")
    ends: dt.datetime | None = Field(default=None, description="When it goes; absent: while the article is published.")

    @field_validator("id")
    @classmethod
    def _id_is_slug(cls, value: str) -> str:
        if not ARTICLE_ID.match(value):
            raise ValueError("must be lowercase letters, digits, '-' or '_' (at most 128), e.g. reset-password")
        return value

    @field_validator("title")
    @classmethod
    def _title_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str | None) -> str | None:
        if value is not None and value not in LOCALES:
            raise ValueError(f"unknown locale {value!r}; expected one of {', '.join(LOCALES)}")
        return value

    @field_validator("audience")
    @classmethod
    def _known_audience(cls, value: str | tuple[str, ...] | None) -> str | tuple[str, ...] | None:
        if value is None:
            return None
        if isinstance(value, str):
            if value not in AUDIENCE_KEYWORDS:
                raise ValueError(
                    f"unknown audience {value!r}; expected public, signed_in, agents or a list of segments"
                )
            return value
        if not value:
            raise ValueError("a segment list must name at least one segment")
        bad = [segment for segment in value if not SEGMENT_NAME.match(segment) or segment in AUDIENCE_KEYWORDS]
        if bad:
            raise ValueError(
                f"invalid segment name(s) {', '.join(map(repr, bad))}: use lowercase letters, digits, '-' and '_', "
                f"and none of {', '.join(AUDIENCE_KEYWORDS)}"
            )
        return tuple(value)

    @field_validator("contexts")
    @classmethod
    def _contexts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        problems = [problem for context in value if (problem := context_problem(context))]
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @field_validator(*ANNOUNCEMENT_FIELDS)
    @classmethod
    def _announcement_only(cls, value: object, info: ValidationInfo) -> object:
        if value is not None and info.data.get("kind") != "announcement":
            raise ValueError("only an announcement has one; add kind: announcement, or remove it")
        return value

    @field_validator("starts", "ends", mode="before")
    @classmethod
    def _moment(cls, value: object) -> object:
        """A window's edge is a moment: a bare date would leave its hour and time zone to guesswork."""
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            raise ValueError(f"needs a time and a UTC offset, e.g. {value.isoformat()}T09:00:00+09:00 or {value.isoformat()}T00:00:00Z")
        return value

    @field_validator("starts", "ends")
    @classmethod
    def _with_offset(cls, value: dt.datetime | None, info: ValidationInfo) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"needs a UTC offset, e.g. {value.isoformat()}+09:00 or {value.isoformat()}Z")
        starts = info.data.get("starts")
        if info.field_name == "ends" and starts is not None and value <= starts:
            raise ValueError(f"must be after starts ({starts.isoformat()})")
        return value

    @property
    def review_interval(self) -> dt.timedelta | None:
        """``review_every`` as a span of time (26w: 182 days); None when the article names none."""
        found = _DURATION.match(self.review_every or "")
        if found is None:
            return None
        return dt.timedelta(days=int(found[1]) * (7 if found[2] == "w" else 1))

    @property
    def is_announcement(self) -> bool:
        return self.kind == "announcement"

    @property
    def announced_severity(self) -> Severity:
        """An announcement's severity; ``info`` when its front matter names none."""
        return self.severity or "info"

    def active_at(self, moment: dt.datetime) -> bool:
        """Whether an announcement's banner shows at ``moment`` (an aware datetime): from starts, until ends."""
        if not self.is_announcement:
            return False
        return (self.starts is None or self.starts <= moment) and (self.ends is None or moment < self.ends)

    @field_validator("template")
    @classmethod
    def _template_name(cls, value: str | None) -> str | None:
        if value is not None and not ARTICLE_ID.match(value):
            raise ValueError("must name a file of .kb/templates/ without .md, e.g. how-to")
        return value

    @field_validator("translated_from", mode="before")
    @classmethod
    def _commit(cls, value: object) -> object:
        """A commit as Git writes it; YAML reads an all-digit short sha as a number, so that is taken back as text."""
        text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        if text is not None and (not isinstance(text, str) or not _COMMIT.match(text)):
            raise ValueError("must be a commit of the original, 7 to 40 hexadecimal characters, e.g. 3f2a9c1")
        return text

    @field_validator("review_every")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None and not _DURATION.match(value):
            raise ValueError("must be a number of days or weeks, e.g. 180d or 26w")
        return value


@dataclass(frozen=True)
class Section:
    """A heading section (the article's lead before any H2, or an H2 / H3 with its text).

    ``anchor`` is the id the rendered HTML gives the heading, so a hit can link straight to it;
    the lead has an empty anchor.
    """

    anchor: str
    heading_path: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Article:
    """A validated article at one commit.

    ``audience`` is the effective audience after ``.kb/access.yml`` defaults have been applied.
    ``articles`` knows nothing of access rules, so parsing leaves it None ("not decided yet") and
    ``kb`` fills it in; an undecided article is visible to nobody, so forgetting that step fails closed.
    """

    path: str
    front: FrontMatter
    locale: str
    body: str
    sections: tuple[Section, ...]
    revision: str = ""
    updated_at: dt.datetime | None = None
    audience: str | tuple[str, ...] | None = None

    @property
    def id(self) -> str:
        return self.front.id

    @property
    def title(self) -> str:
        return self.front.title

    @property
    def key(self) -> tuple[str, str]:
        """Articles are unique by (id, locale): translations share an id."""
        return (self.front.id, self.locale)


@dataclass(frozen=True)
class Chunk:
    """The unit that is embedded and indexed: one section, or a window of a long section."""

    article_id: str
    locale: str
    anchor: str
    heading_path: tuple[str, ...]
    text: str
    title: str
    revision: str = ""

    @property
    def embed_text(self) -> str:
        """What the model sees: title and heading path give a bare section its context."""
        context = " › ".join((self.title, *self.heading_path))
        return f"{context}: {self.text}" if self.text else context


@dataclass(frozen=True)
class ArticleError:
    """Why one file was skipped: reported with its path, the field at fault and the reason."""

    path: str
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.path}: {self.field}" if self.field else self.path
        return f"{where}: {self.reason}"
