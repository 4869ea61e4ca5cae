"""The leak audit: probe every surface of a running kb as every kind of reader, and look for what they may not see.

Restricted content most often escapes a help center through a side door: a title in typeahead, a
snippet, a facet count, a related article, an error message. The audit asks every surface, as each
reader, with the words of every article that reader may not see, and reads every response body and
header for those words, their ids and their counts. The test suite runs it over a knowledge base
seeded with canary tokens; `kb access audit` runs it against a live server and its content repo.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from articles.model import LOCALES, Article

MODES: tuple[str, ...] = ("keyword", "semantic", "hybrid")
SEARCH_LIMIT = 50
"""Large enough that a test knowledge base fits on one page, so every count can be checked against the hits."""
AUTOCOMPLETE_LIMIT = 5
"""What the site's search box asks for while the reader types (search.js)."""
MIN_SECRET_CHARS = 6
"""Shorter strings occur by chance (a tag like `api`); they cannot betray an article on their own."""
MAX_PAGES = 50
RETRIEVE_BUDGET = 4000
"""Tokens asked of /v1/retrieve: enough for every article of a test knowledge base."""
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}
"""A tool called in one POST, as a stateless MCP server takes it from any client speaking the handshake protocol."""
MCP_TOOLS_PER_QUERY = 2
LOOKUPS = 5
"""Requests about one article by id: lookup, lookup at two refs, history, diff."""
UNTRANSLATED_MARK = 'class="article" aria-labelledby="article-title" lang="'
"""How the site marks an article shown in another language than the page's (api/site/templates/article.html)."""
ARTICLE_LINK = re.compile(r"/hc/(?P<locale>[a-z]{2})/articles/(?P<id>[a-z0-9_-]+)")
"""A link to an article's page: hits, related articles, translations and listings all carry one."""


@dataclass(frozen=True)
class Subject:
    """An article as the audit knows it, from the content repository rather than from the server."""

    id: str
    locale: str
    category: str | None
    secrets: tuple[str, ...]
    """Strings that would betray the article: its title, headings, tags, a sentence of each section."""
    queries: tuple[str, ...]
    """What to search with to draw the article out: its words, exactly and in paraphrase."""
    text: str
    """Everything the article says, to tell a secret shared with a visible article from one that is not."""
    old_ids: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    """Checked against the tags facet of search results."""
    contexts: tuple[str, ...] = ()
    """Where in the product it helps: the in-product widget is asked about those pages."""

    @property
    def key(self) -> tuple[str, str]:
        return (self.id, self.locale)


@dataclass(frozen=True)
class Reader:
    """A principal the audit acts as: the headers that make a request theirs, and what they may see."""

    label: str
    headers: dict[str, str]
    visible: frozenset[tuple[str, str]]
    staff: bool = False
    admin: bool = False


@dataclass(frozen=True)
class Finding:
    """Something a reader should not have learnt, and where."""

    reader: str
    surface: str
    url: str
    problem: str

    def __str__(self) -> str:
        return f"[{self.reader}] {self.surface} {self.url}: {self.problem}"


@dataclass
class AuditReport:
    probes: Counter[str] = field(default_factory=Counter)
    """Requests sent, per surface."""
    findings: list[Finding] = field(default_factory=list)
    readers: list[str] = field(default_factory=list)
    waited_seconds: float = 0.0
    """Time spent waiting out the server's rate limits (Retry-After)."""

    @property
    def total(self) -> int:
        return sum(self.probes.values())


Progress = Callable[[int], None]


class _Request(Protocol):
    @property
    def url(self) -> object: ...


class Response(Protocol):
    """What the audit reads of a response: httpx's (`kb access audit`) and httpx2's (Starlette's TestClient) both fit."""

    @property
    def status_code(self) -> int: ...
    @property
    def url(self) -> object: ...
    @property
    def request(self) -> _Request: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def text(self) -> str: ...
    def json(self) -> Any: ...


class Client(Protocol):
    """What the audit asks of an HTTP client: an ``httpx.Client`` or FastAPI's ``TestClient``."""

    def request(
        self, method: str, url: str, *, params: Any = None, json: Any = None, headers: Any = None, follow_redirects: bool = True
    ) -> Response: ...


class Auditor:
    """Sends the probes through ``client`` (an httpx client, or FastAPI's TestClient) and collects findings.

    ``commits`` are a commit early in the served history and the served one: diffs between them, and
    reads at a ref, are probed like the current content.
    """

    def __init__(
        self, client: Client, subjects: Sequence[Subject], *, commits: tuple[str, str], progress: Progress | None = None
    ) -> None:
        self.client = client
        self.subjects = list(subjects)
        self.first_commit, self.head_commit = commits
        self.progress = progress or (lambda _: None)
        self.report = AuditReport()
        self.categories = sorted({s.category for s in self.subjects if s.category})
        contexts = {context for s in self.subjects for context in s.contexts}
        self.areas = ",".join(sorted(c for c in contexts if not c.startswith("/"))[:20])
        self.widget_pages = sorted({page_of(c) for c in contexts if c.startswith("/")}) or ["/"]
        self.known = {s.key for s in self.subjects}
        self.tags = {s.key: s.tags for s in self.subjects}

    def run(self, readers: Iterable[Reader]) -> AuditReport:
        for reader in readers:
            self.report.readers.append(reader.label)
            self._audit(reader)
        return self.report

    def planned_probes(self, readers: Iterable[Reader]) -> int:
        """How many requests `run` will send, for a progress bar."""
        return sum(self._surface_probes() + self._reader_probes(reader) for reader in readers)

    # What each reader is asked.

    def _audit(self, reader: Reader) -> None:
        forbidden = self._forbidden(reader)
        hidden = [s for s in self.subjects if s.key not in reader.visible]
        for subject in hidden:
            for query in subject.queries:
                self._search_everywhere(reader, forbidden, query)
        for subject in self.subjects:
            self._article_surfaces(reader, forbidden, subject)
        self._listing(reader, forbidden)
        self._site_pages(reader, forbidden)
        self._changes(reader, forbidden)
        self._staff_only(reader, forbidden)

    def _search_everywhere(self, reader: Reader, forbidden: dict[str, str], query: str) -> None:
        for mode in MODES:
            for locale in (None, *LOCALES):
                params = {"q": query, "mode": mode, "limit": SEARCH_LIMIT} | ({"locale": locale} if locale else {})
                self._search(reader, forbidden, "search", "GET", params)
        self._search(reader, forbidden, "search (POST)", "POST", {"q": query, "limit": SEARCH_LIMIT})
        self._probe(reader, forbidden, "answers", "POST", "/v1/answers", json={"question": query})
        self._probe(reader, forbidden, "retrieve", "POST", "/v1/retrieve", json={"query": query, "token_budget": RETRIEVE_BUDGET})
        self._mcp(reader, forbidden, "search_articles", {"query": query, "limit": SEARCH_LIMIT})
        self._mcp(reader, forbidden, "answer_question", {"question": query})
        for locale in LOCALES:
            self._search(reader, forbidden, "autocomplete", "GET", {"q": query, "locale": locale, "limit": AUTOCOMPLETE_LIMIT})
            self._probe(reader, forbidden, "site search", "GET", f"/hc/{locale}/search", params={"q": query})

    def _mcp(self, reader: Reader, forbidden: dict[str, str], tool: str, arguments: dict[str, Any], allowed: tuple[str, ...] = ()) -> None:
        """One MCP tool call over ``/mcp``, with the reader's own credentials."""
        call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}
        self._probe(reader, forbidden, f"mcp {tool}", "POST", "/mcp", json=call, headers=MCP_HEADERS, allowed=allowed)

    def _search(self, reader: Reader, forbidden: dict[str, str], surface: str, method: str, params: dict[str, Any]) -> None:
        if method == "POST":
            response = self._probe(reader, forbidden, surface, "POST", "/v1/search", json=params)
        else:
            response = self._probe(reader, forbidden, surface, "GET", "/v1/search", params=params)
        if response.status_code == 200:
            self._check_counts(reader, surface, str(response.url), response.json())

    def _article_surfaces(self, reader: Reader, forbidden: dict[str, str], subject: Subject) -> None:
        """Lookup, lookup at a ref, the site page, history, diff and old ids: all alike for a hidden article."""
        visible = subject.key in reader.visible
        path = f"/v1/articles/{subject.id}"
        lookups = [
            ("article", path, {"locale": subject.locale}),
            ("article at a ref", path, {"locale": subject.locale, "ref": self.head_commit}),
            ("article at a ref", path, {"locale": subject.locale, "ref": self.first_commit}),
            ("history", f"{path}/history", {"locale": subject.locale}),
            ("diff", f"{path}/diff", {"locale": subject.locale, "from": self.first_commit, "to": self.head_commit}),
        ]
        for surface, url, params in lookups:
            response = self._probe(reader, forbidden, surface, "GET", url, params=params, allowed=(subject.id,))
            if not visible:
                self._expect_absent(reader, surface, response, subject.id)
        self._feedback(reader, forbidden, subject, visible=visible)
        self._citation(reader, forbidden, subject, visible=visible)
        self._mcp(reader, forbidden, "get_article", {"id": subject.id, "locale": subject.locale}, allowed=(subject.id,))
        page = self._probe(reader, forbidden, "article page", "GET", f"/hc/{subject.locale}/articles/{subject.id}", allowed=(subject.id,))
        # Hidden in this language, the page may offer a translation the reader may see, as for one never written
        # (its words are checked like every page's); anything else must be the missing article's 404.
        stand_in = any((subject.id, code) in reader.visible for code in LOCALES if code != subject.locale)
        offered = stand_in and page.status_code == 200 and UNTRANSLATED_MARK in page.text
        if not visible and page.status_code != 404 and not offered:
            self._finding(reader, "article page", page, f"answered {page.status_code} for an article the reader may not see")
        for old in subject.old_ids:
            moved = self._probe(
                reader, forbidden, "redirect", "GET", f"/v1/articles/{old}", params={"locale": subject.locale}, allowed=(old,)
            )
            if not visible and moved.status_code != 404:
                self._finding(reader, "redirect", moved, f"old id answered {moved.status_code}, pointing at a hidden article")

    def _feedback(self, reader: Reader, forbidden: dict[str, str], subject: Subject, *, visible: bool) -> None:
        """A vote on the article, for a section it does not have: refused either way, so the audit writes nothing.

        Visible, the refusal names the section; hidden, it must read exactly as for a missing article.
        """
        vote = {"article_id": subject.id, "locale": subject.locale, "anchor": "zz-no-such-section", "outcome": "helpful"}
        response = self._probe(reader, forbidden, "feedback", "POST", "/v1/feedback", json=vote, allowed=(subject.id,))
        if response.status_code in (200, 201):
            self._finding(reader, "feedback", response, "recorded a vote on a section that does not exist")
        if visible:
            return
        missing = self._send(reader, "POST", "/v1/feedback", params=None, json=vote | {"article_id": "zz-no-such-article"})
        self.report.probes["feedback"] += 1
        self.progress(1)
        if response.status_code != 404 or response.text.replace(subject.id, "zz-no-such-article") != missing.text:
            self._finding(reader, "feedback", response, "a vote on a hidden article answers unlike one on a missing article")

    def _citation(self, reader: Reader, forbidden: dict[str, str], subject: Subject, *, visible: bool) -> None:
        """A citation of the article's words resolved: for a hidden article, exactly the 404 of a missing one."""
        quote = subject.queries[-1]
        cited = {"article_id": subject.id, "locale": subject.locale, "anchor": "", "revision": self.head_commit, "quote": quote}
        response = self._probe(reader, forbidden, "citation", "GET", "/v1/citations/resolve", params=cited, allowed=(subject.id,))
        if visible:
            return
        missing = self._send(reader, "GET", "/v1/citations/resolve", params=cited | {"article_id": "zz-no-such-article"}, json=None)
        self.report.probes["citation"] += 1
        self.progress(1)
        if response.status_code != 404 or response.text.replace(subject.id, "zz-no-such-article") != missing.text:
            self._finding(reader, "citation", response, "a citation of a hidden article answers unlike one of a missing article")

    def _listing(self, reader: Reader, forbidden: dict[str, str]) -> None:
        filters: list[dict[str, Any]] = [{}] + [{"locale": code} for code in LOCALES] + [{"category": c} for c in self.categories]
        for extra in filters:
            seen: list[tuple[str, str]] = []
            url: str | None = "/v1/articles"
            params: dict[str, Any] | None = {"limit": 100} | extra
            for _ in range(MAX_PAGES):
                if url is None:
                    break
                response = self._probe(reader, forbidden, "article listing", "GET", url, params=params)
                if response.status_code != 200:
                    break
                body = response.json()
                seen += [(item["id"], item["locale"]) for item in body["items"]]
                url, params = body["next"], None
            for key in seen:
                if key not in reader.visible:
                    self._finding(reader, "article listing", response, f"lists {key[0]} ({key[1]}), hidden from the reader")

    def _site_pages(self, reader: Reader, forbidden: dict[str, str]) -> None:
        for locale in LOCALES:
            self._probe(reader, forbidden, "site home", "GET", f"/hc/{locale}")
            self._probe(reader, forbidden, "site search", "GET", f"/hc/{locale}/search")
            for category in self.categories:
                page = self._probe(reader, forbidden, "site category", "GET", f"/hc/{locale}/categories/{category}", allowed=(category,))
                # A language's category page also offers the default language's untranslated articles.
                shown = any(s.category == category and s.key in reader.visible for s in self.subjects)
                if not shown and page.status_code != 404:
                    self._finding(reader, "site category", page, f"answered {page.status_code} for a category of hidden articles only")
        self._probe(reader, forbidden, "sitemap", "GET", "/sitemap.xml")
        for locale in LOCALES:
            for path in self.widget_pages:
                self._probe(reader, forbidden, "widget", "GET", "/v1/widget", params={"locale": locale, "path": path, "areas": self.areas})

    def _changes(self, reader: Reader, forbidden: dict[str, str]) -> None:
        """The feed may name a hidden article only to say it is gone: a reader who saw it must drop their copy.

        kb writes such a delete only for readers who could see the article before; one they never
        could see is absent from their feed (tests/test_api_changes.py holds that part).
        """
        params: dict[str, Any] = {"limit": 500}
        last: dict[tuple[str, str], str] = {}
        for _ in range(MAX_PAGES):
            response = self._send(reader, "GET", "/v1/changes", params=params, json=None)
            items = response.json().get("items", []) if response.status_code == 200 else []
            gone = tuple(item["id"] for item in items if item["kind"] == "delete")
            self._inspect(reader, forbidden, "change feed", response, echoed=[str(v) for v in params.values()], allowed=gone)
            last |= {(item["id"], item["locale"]): item["kind"] for item in items}
            if not items:
                break
            params = {"limit": 500, "since": response.json()["cursor"]}
        # Replayed to its end, the feed must leave the reader holding no hidden article.
        for key, kind in last.items():
            if kind == "upsert" and key in self.known - reader.visible:
                self._add(reader, "change feed", "/v1/changes", f"leaves {key[0]} ({key[1]}) upserted, hidden from the reader")

    def _staff_only(self, reader: Reader, forbidden: dict[str, str]) -> None:
        """Previews, proposals, explain, suggestions and an article's feedback: refused outright to readers they are not for."""
        hidden = next((s for s in self.subjects if s.key not in reader.visible), self.subjects[0])
        probes: list[tuple[str, str, str, dict[str, Any], bool]] = [
            ("search preview", "GET", "/v1/search", {"q": hidden.queries[0], "ref": self.head_commit}, reader.staff),
            ("proposals", "GET", "/v1/proposals", {}, reader.staff),
            ("access explain", "GET", "/v1/access/explain", {"article": hidden.id, "as": "agent"}, reader.admin),
            # Staff readers are not sent: they may see every article, so their suggestions could betray none.
            *([] if reader.staff else [("suggestions", "POST", "/v1/suggestions", {"body": hidden.queries[0]}, False)]),
            ("article feedback", "GET", f"/v1/articles/{hidden.id}/feedback", {}, reader.staff),
        ]
        for surface, method, url, fields, allowed in probes:
            if method == "POST":
                response = self._probe(reader, forbidden, surface, method, url, json=fields)
            else:
                response = self._probe(reader, forbidden, surface, method, url, params=fields)
            if not allowed and response.status_code not in (401, 403):
                self._finding(reader, surface, response, f"answered {response.status_code}; only staff or admins may use it")

    def _surface_probes(self) -> int:
        per_subject = sum(LOOKUPS + 4 + len(s.old_ids) for s in self.subjects)  # + the article page, a vote, a citation, MCP's get
        listing = 1 + len(LOCALES) + len(self.categories)
        site = len(LOCALES) * (2 + len(self.categories) + len(self.widget_pages)) + 1  # + the sitemap
        return per_subject + listing + site + 1 + 4  # + the change feed's first page and the staff-only surfaces

    def _reader_probes(self, reader: Reader) -> int:
        """Searches with each hidden article's words, and a missing article's answer beside each hidden lookup."""
        per_query = len(MODES) * (1 + len(LOCALES)) + 1 + 2 * len(LOCALES) + 2 + MCP_TOOLS_PER_QUERY  # + answers, retrieve
        suggestions = 0 if reader.staff else 1  # the refused suggestions probe (see _staff_only)
        hidden = [s for s in self.subjects if s.key not in reader.visible]
        # + a missing article's vote and citation beside each hidden one's
        return per_query * sum(len(s.queries) for s in hidden) + (LOOKUPS + 2) * len(hidden) + suggestions

    # Checks.

    def _forbidden(self, reader: Reader) -> dict[str, str]:
        """Secret string → the article it betrays, for the articles this reader may not see.

        A string that a visible article also contains is left out: finding it proves nothing.
        """
        visible_text = "\n".join(s.text for s in self.subjects if s.key in reader.visible)
        forbidden: dict[str, str] = {}
        for subject in self.subjects:
            if subject.key in reader.visible:
                continue
            for secret in (*subject.secrets, subject.id, *subject.old_ids):
                if len(secret) >= MIN_SECRET_CHARS and secret not in visible_text:
                    forbidden[secret] = f"{subject.id} ({subject.locale})"
        return forbidden

    def _check_counts(self, reader: Reader, surface: str, url: str, body: dict[str, Any]) -> None:
        """Hits are visible articles, and with every match on one page, totals and facets count exactly the hits."""
        hits = [(hit["id"], hit["locale"]) for hit in body["hits"]]
        for key in hits:
            if key not in reader.visible:
                self._add(reader, surface, url, f"hit {key[0]} ({key[1]}) is hidden from the reader")
        if body["total"] > body["limit"]:
            return
        if body["total"] != len(hits):
            self._add(reader, surface, url, f"total {body['total']} counts more than the {len(hits)} hits returned")
        by_locale = Counter(locale for _, locale in hits)
        if body["facets"].get("locale", {}) != dict(by_locale):
            self._add(reader, surface, url, f"locale facet {body['facets'].get('locale')} does not match the hits {dict(by_locale)}")
        categories = Counter(hit["category"] for hit in body["hits"] if hit["category"])
        if body["facets"].get("category", {}) != dict(categories):
            self._add(reader, surface, url, f"category facet {body['facets'].get('category')} does not match the hits")
        tags = Counter(tag for hit in body["hits"] for tag in self.tags.get((hit["id"], hit["locale"]), ()))
        if body["facets"].get("tags", {}) != dict(tags):
            self._add(reader, surface, url, f"tags facet {body['facets'].get('tags')} does not match the hits' tags")

    def _expect_absent(self, reader: Reader, surface: str, response: Response, article_id: str) -> None:
        """A hidden article answers exactly as a missing one: same status, same body but for the id asked for."""
        if response.status_code != 404:
            self._finding(reader, surface, response, f"answered {response.status_code} for an article the reader may not see")
            return
        missing_url = str(response.request.url).replace(f"/articles/{article_id}", "/articles/zz-no-such-article")
        missing = self._send(reader, "GET", missing_url, params=None, json=None)
        self.report.probes[surface] += 1
        self.progress(1)
        if response.text.replace(article_id, "zz-no-such-article") != missing.text:
            self._finding(reader, surface, response, "a hidden article's 404 differs from a missing article's")

    def _probe(
        self,
        reader: Reader,
        forbidden: dict[str, str],
        surface: str,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        allowed: tuple[str, ...] = (),
    ) -> Response:
        """Send one request as ``reader`` and read all of the response for forbidden strings.

        What the request itself carries (the query, the id asked for) may be echoed back; ``allowed``
        names those strings.
        """
        response = self._send(reader, method, url, params=params, json=json, headers=headers)
        echoed = [str(value) for value in (params or {}).values()] + [str(v) for v in (json or {}).values()]
        self._inspect(reader, forbidden, surface, response, echoed=echoed, allowed=allowed)
        return response

    def _inspect(
        self, reader: Reader, forbidden: dict[str, str], surface: str, response: Response,
        *, echoed: list[str], allowed: tuple[str, ...],
    ) -> None:  # fmt: skip
        self.report.probes[surface] += 1
        self.progress(1)
        seen = response.text + "\n" + "\n".join(f"{name}: {value}" for name, value in response.headers.items())
        for secret, article in forbidden.items():
            if secret in seen and not any(secret in sent for sent in [*echoed, *allowed]):
                self._finding(reader, surface, response, f"shows {secret!r}, which belongs to {article}")
        asked = ARTICLE_LINK.search(str(response.request.url))
        for link in ARTICLE_LINK.finditer(seen):
            key = (link["id"], link["locale"])
            hidden = key in self.known and key not in reader.visible and link.group(0) != (asked.group(0) if asked else None)
            if hidden and not self._stand_in(reader, seen, link):
                self._finding(reader, surface, response, f"links to {key[0]} ({key[1]}), hidden from the reader")
        if response.status_code >= 500:
            self._finding(reader, surface, response, f"server error {response.status_code}")

    @staticmethod
    def _stand_in(reader: Reader, seen: str, link: re.Match[str]) -> bool:
        """A listing's link to another language's article offered untranslated (``<a href=… lang="en">``):
        the reader may see that language's article, and the link reads the same whether this language's is
        hidden or was never written."""
        marked = re.match(r'" lang="([a-z]{2})"', seen[link.end() : link.end() + 12])
        return marked is not None and (link["id"], marked[1]) in reader.visible

    def _send(self, reader: Reader, method: str, url: str, *, params: Any, json: Any, headers: dict[str, str] | None = None) -> Response:
        """One request; a 429 is waited out (Retry-After) and sent again, so the audit works within the limits."""
        while True:
            sent = reader.headers | (headers or {})
            response = self.client.request(method, url, params=params, json=json, headers=sent, follow_redirects=False)
            if response.status_code != 429:
                return response
            wait = float(response.headers.get("Retry-After", "1"))
            self.report.waited_seconds += wait
            time.sleep(wait)

    def _finding(self, reader: Reader, surface: str, response: Response, problem: str) -> None:
        self._add(reader, surface, str(response.request.url), problem)

    def _add(self, reader: Reader, surface: str, url: str, problem: str) -> None:
        self.report.findings.append(Finding(reader.label, surface, url, problem))


def subject_of(article: Article) -> Subject:
    """What the audit looks for and asks with, for a real article: its title, headings, tags and lead lines."""
    headings = [section.heading_path[-1] for section in article.sections if section.heading_path]
    leads = [section.text.split("\n")[0][:80] for section in article.sections if len(section.text) >= 20]
    tags = list(article.front.tags)
    text = "\n".join([article.id, article.title, article.body, article.front.category or "", *tags, *article.front.redirect_from])
    return Subject(
        id=article.id,
        locale=article.locale,
        category=article.front.category,
        secrets=tuple(dict.fromkeys([article.title, *headings, *leads, *tags])),
        queries=tuple(dict.fromkeys([article.title, *leads[:1], article.id.replace("-", " ")])),
        text=text,
        old_ids=article.front.redirect_from,
        tags=article.front.tags,
        contexts=article.front.contexts,
    )


def page_of(glob: str) -> str:
    """A product page a path glob matches (``/settings/{billing,data}/**`` → ``/settings/billing/x``)."""
    first = re.sub(r"\{([^,}]*)[^}]*\}", r"\1", glob)
    return re.sub(r"\[[^\]]*\]|\*\*|[*?]", "x", first)
