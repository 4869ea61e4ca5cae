""".kb/site.yml: how a company's help center looks and what it links to — name, logo, colours, contact
and footer links, the default language, and its categories with their names, descriptions and order.

It lives in the content repository beside the articles, so a change to it is reviewed and versioned like
one. A broken file never takes the site down: kb serves the defaults, logs the problem once per commit,
and `kb check` names the field at fault.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated, Literal

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from articles.model import LOCALES
from kb.core.text import is_email_address

log = logging.getLogger(__name__)

SITE_FILE = ".kb/site.yml"
LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}
MAX_LOGO_BYTES = 512 * 1024
MIN_CONTRAST = 4.5
"""WCAG 2.1 AA for normal text: the brand colour carries white text (buttons, the hero) and links."""
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


EVERY_LOCALE = "*"


def _one_or_per_locale(value: object) -> object:
    """A plain text is the same in every language; a mapping gives one per locale, each a text."""
    if isinstance(value, str):
        return {EVERY_LOCALE: value}
    if not isinstance(value, dict) or not all(isinstance(text, str) for text in value.values()):
        raise ValueError("write one text, or one per locale, e.g. {en: Billing, ja: お支払い}")
    unknown = sorted(set(value) - set(LOCALES))
    if unknown:
        raise ValueError(f"unknown locale(s) {', '.join(map(str, unknown))}; kb has {', '.join(LOCALES)}")
    return value


Localized = Annotated[dict[str, str], BeforeValidator(_one_or_per_locale)]
"""One text for every language, or one per locale (``{en: Billing, ja: お支払い}``)."""


def localized(value: dict[str, str], locale: str, default_locale: str) -> str:
    """``value`` in ``locale``; in the default language, then any, where that one is missing."""
    return value.get(locale) or value.get(EVERY_LOCALE) or value.get(default_locale) or next(iter(value.values()), "")


def _url(value: str) -> str:
    if not re.match(r"^(https?://[^\s/]+\S*|mailto:[^\s@]+@[^\s@]+|/\S*)$", value):
        raise ValueError(f"{value!r} is not a link: write https://…, mailto:… or a path on this site (/…)")
    return value


Url = Annotated[str, AfterValidator(_url)]


class SiteLink(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    label: Localized
    url: Url


class Category(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: str
    name: Localized
    description: Localized = Field(default_factory=dict)

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError("must be the category as articles write it: lowercase letters, digits, '-' or '_'")
        return value


def contrast(first: str, second: str) -> float:
    """WCAG 2.1's contrast ratio of two ``#rrggbb`` colours (https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio)."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


LIGHT_SURFACE, DARK_SURFACE = "#ffffff", "#111827"
"""The page surfaces brand colours are shown on, in the light and the dark theme (site.css)."""


SUPPORT_FIELDS = ("query", "articles", "locale", "reason", "summary")
"""What a helpdesk URL template may carry: ``{query}``, ``{articles}`` (their addresses), ``{locale}``,
``{reason}`` (a "not helpful" vote's) and ``{summary}`` (all of it as sentences)."""


class Support(BaseModel):
    """How a customer reaches a person when the help center did not help: exactly one channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str | None = Field(default=None, description="A helpdesk's new-request URL, with the SUPPORT_FIELDS placeholders.")
    email: str | None = Field(default=None, description="An address the reader's mail program writes to, the details filled in.")
    webhook: str | None = Field(default=None, description="A URL kb posts the request to as JSON (the reader writes it on the site).")

    @field_validator("url", "webhook")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/{}]+\S*$", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("url")
    @classmethod
    def _placeholders(cls, value: str | None) -> str | None:
        if value is None:
            return None
        unknown = sorted(set(re.findall(r"\{([^}]*)\}", value)) - set(SUPPORT_FIELDS))
        if unknown:
            known = ", ".join("{" + name + "}" for name in SUPPORT_FIELDS)
            raise ValueError(f"unknown placeholder(s) {', '.join('{' + name + '}' for name in unknown)}; use {known}")
        return value

    @field_validator("email")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and not is_email_address(value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value

    @property
    def kind(self) -> str:
        return "url" if self.url else "email" if self.email else "webhook"


def _one_channel(value: Support | None) -> Support | None:
    if value is not None and sum(channel is not None for channel in (value.url, value.email, value.webhook)) != 1:
        raise ValueError("name exactly one channel: url (a helpdesk's new-request page), email or webhook")
    return value


class Colors(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    brand: str = Field(default="#4338ca", description="Buttons, links and the hero, in the light theme: white text on it.")
    brand_on_dark: str = Field(default="#a5b4fc", description="Links and accents in the dark theme.")

    @field_validator("brand", "brand_on_dark")
    @classmethod
    def _hex(cls, value: str) -> str:
        if not _HEX.match(value):
            raise ValueError(f"{value!r} is not a colour: write it as #rrggbb")
        return value.lower()

    @field_validator("brand")
    @classmethod
    def _readable_on_light(cls, value: str) -> str:
        if (ratio := contrast(value, LIGHT_SURFACE)) < MIN_CONTRAST:
            raise ValueError(f"{value} on white has a contrast of {ratio:.2f}:1, below WCAG AA's {MIN_CONTRAST}:1; choose a darker one")
        return value

    @field_validator("brand_on_dark")
    @classmethod
    def _readable_on_dark(cls, value: str) -> str:
        if (ratio := contrast(value, DARK_SURFACE)) < MIN_CONTRAST:
            raise ValueError(
                f"{value} on the dark theme's {DARK_SURFACE} has a contrast of {ratio:.2f}:1, below {MIN_CONTRAST}:1; choose a lighter one"
            )
        return value


class SiteConfig(BaseModel):
    """The whole of .kb/site.yml; every field has a default, so an absent file is a working help center."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Localized = Field(default_factory=lambda: {"en": "Help Center", "ja": "ヘルプセンター"})
    logo: str | None = Field(default=None, description="An image in the content repository (.kb/logo.svg): svg, png, jpg or webp.")
    colors: Colors = Colors()
    default_locale: Literal["en", "ja"] = "en"
    contact: SiteLink | None = Field(default=None, description="Where a reader reaches the company: shown in the header and footer.")
    footer_links: tuple[SiteLink, ...] = ()
    support: Annotated[Support | None, AfterValidator(_one_channel)] = Field(
        default=None, description="Where the help center sends a reader it did not help, with what they searched and read."
    )
    categories: tuple[Category, ...] = Field(default=(), description="Names, descriptions and order; unlisted ones follow, by slug.")

    @field_validator("logo")
    @classmethod
    def _logo(cls, value: str | None) -> str | None:
        if value is None:
            return None
        suffix = "." + value.rsplit(".", 1)[-1].lower() if "." in value else ""
        if suffix not in LOGO_TYPES or value.startswith("/") or ".." in value.split("/"):
            raise ValueError(f"{value!r}: name an image in the content repository, e.g. .kb/logo.svg ({', '.join(LOGO_TYPES)})")
        return value

    @field_validator("categories")
    @classmethod
    def _unique_slugs(cls, value: tuple[Category, ...]) -> tuple[Category, ...]:
        slugs = [category.slug for category in value]
        if repeated := sorted({slug for slug in slugs if slugs.count(slug) > 1}):
            raise ValueError(f"{', '.join(repeated)} listed more than once")
        return value

    def text(self, value: Localized, locale: str) -> str:
        return localized(value, locale, self.default_locale)

    def site_name(self, locale: str) -> str:
        return self.text(self.name, locale)

    def category(self, slug: str) -> Category | None:
        return next((category for category in self.categories if category.slug == slug), None)

    def category_name(self, slug: str, locale: str) -> str:
        known = self.category(slug)
        return self.text(known.name, locale) if known else slug.replace("-", " ").replace("_", " ").capitalize()

    def category_description(self, slug: str, locale: str) -> str:
        known = self.category(slug)
        return self.text(known.description, locale) if known else ""

    def category_order(self, slug: str) -> tuple[int, str]:
        """Listed categories in their order, then the others by slug."""
        order = [category.slug for category in self.categories]
        return (order.index(slug), "") if slug in order else (len(order), slug)


class SiteConfigError(ValueError):
    """A .kb/site.yml kb cannot use, with the field at fault (``colors.brand``) and why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{SITE_FILE}: {field}: {reason}" if field else f"{SITE_FILE}: {reason}")
        self.field, self.reason = field, reason


def parse_site_config(data: bytes | None) -> SiteConfig:
    """The file's settings (the defaults when there is none); :class:`SiteConfigError` when it is broken."""
    if data is None:
        return SiteConfig()
    try:
        loaded = yaml.safe_load(data.decode("utf-8")) or {}
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        raise SiteConfigError("", f"not readable YAML: {error}") from None
    if not isinstance(loaded, dict):
        raise SiteConfigError("", "must be a mapping of settings (name:, logo:, colors:, …)")
    try:
        return SiteConfig.model_validate(loaded)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise SiteConfigError(field, first["msg"].removeprefix("Value error, ")) from None


def site_config_or_defaults(data: bytes | None, *, commit: str) -> SiteConfig:
    """What the site serves: the file's settings, or the defaults (logged) while it is broken."""
    try:
        return parse_site_config(data)
    except SiteConfigError as error:
        log.warning("serving the default site settings at %s: %s", commit[:12], error)
        return SiteConfig()
