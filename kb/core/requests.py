"""Search requests, validated once here so the API, the CLI and batch callers reject bad input alike."""

from __future__ import annotations

from dataclasses import dataclass, field

from articles.model import LOCALES
from kb.core.text import refusal
from search.snapshot import MODES, Filters

MAX_LIMIT = 100
MAX_OFFSET = 1000
MAX_TAGS = 20
MAX_CONTEXT_CHARS = 50_000
"""A conversation's earlier turns, read with a query: a long ticket thread, not a log file."""


class InvalidRequest(ValueError):
    """A request field a caller got wrong; ``field`` names it so the error can point at it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class SearchRequest:
    query: str
    mode: str = "hybrid"
    locale: str | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()
    limit: int = 10
    offset: int = 0
    context: tuple[str, ...] = ()
    """Earlier turns of the conversation the query ends, oldest first: read with it (`search/query.py`)."""
    exclude: tuple[str, ...] = ()
    """Article ids left out of the results (those a ticket already links)."""
    ticket: bool = False
    """A helpdesk ticket: read as a conversation even without earlier turns (`search/query.py`)."""
    snippets: bool = True
    """Whether hits carry an excerpt: answers and retrieval quote whole sentences instead."""
    facets: bool = True
    """Whether matches are counted by category, tag and locale: a search page's filters, which agents and bots never see."""
    max_query_chars: int = field(default=1000, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._check_text()
        if not self.query or not self.query.strip():
            raise InvalidRequest("q", "the query is empty; type at least one word")
        if len(self.query) > self.max_query_chars:
            raise InvalidRequest("q", f"the query is {len(self.query)} characters; the limit is {self.max_query_chars}")
        if self.mode not in MODES:
            raise InvalidRequest("mode", f"unknown mode {self.mode!r}; use one of {', '.join(MODES)}")
        if self.locale is not None and self.locale not in LOCALES:
            raise InvalidRequest("locale", f"unknown locale {self.locale!r}; kb has {', '.join(LOCALES)}")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidRequest("limit", f"must be between 1 and {MAX_LIMIT}, got {self.limit}")
        if not 0 <= self.offset <= MAX_OFFSET:
            raise InvalidRequest("offset", f"must be between 0 and {MAX_OFFSET}, got {self.offset}")
        if len(self.tags) > MAX_TAGS:
            raise InvalidRequest("tags", f"at most {MAX_TAGS} tags, got {len(self.tags)}")
        if len(self.exclude) > MAX_LIMIT:
            raise InvalidRequest("exclude", f"at most {MAX_LIMIT} articles, got {len(self.exclude)}")
        if (size := sum(map(len, self.context))) > MAX_CONTEXT_CHARS:
            raise InvalidRequest("context", f"the conversation is {size} characters; the limit is {MAX_CONTEXT_CHARS}")

    def _check_text(self) -> None:
        """The rules of :mod:`kb.core.text`, for callers that do not come through the API's models (the CLI, batches)."""
        fields = [("q", self.query, True), ("mode", self.mode, False), ("locale", self.locale, False),
                  ("category", self.category, False)]  # fmt: skip
        fields += [("tags", tag, False) for tag in self.tags] + [("context", turn, True) for turn in self.context]
        fields += [("exclude", article_id, False) for article_id in self.exclude]
        for name, value, prose in fields:
            if value is not None and (reason := refusal(value, prose=prose)) is not None:
                raise InvalidRequest(name, reason)

    @property
    def text(self) -> str:
        return " ".join(self.query.split())

    @property
    def filters(self) -> Filters:
        return Filters(locale=self.locale, category=self.category, tags=tuple(sorted(set(self.tags))))
