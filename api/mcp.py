"""MCP: search, articles, suggestions and answers as tools for LLM clients, over stdio (`kb mcp`) and streamable HTTP (`/mcp`).

One server definition serves both transports; only where a call's reader comes from differs. On stdio it
is the API key in ``KB_API_KEY``, looked up again on every call as the API looks up a key on every
request, so a revoked key stops reading at once. Over HTTP it is each request's own credentials, resolved
and rate-limited by the API's own dependencies: an MCP client sees exactly what the same credentials see
through ``/v1``, and a bad key is the API's 401 before any MCP message is read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Literal, TypeVar

from fastapi import HTTPException
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from typing_extensions import TypedDict  # pydantic needs it, not typing's, before Python 3.12

from api.deps import knowledge_base_of, principal_of
from api.ratelimits import rate_limited
from api.routes.answers import AnnouncedOut, CitationOut, announced_out, citation_out
from api.schemas import AnnouncementOut, announcement_out, article_url
from articles.model import LOCALES
from kb.access import PUBLIC, STAFF_ROLES, Principal, authenticate, key_principal
from kb.assist import Answer, Message, Question, Ticket, answer, question_request, suggest, ticket_request
from kb.core import MAX_LIMIT, InvalidRequest, KnowledgeBase, Line, Prose, SearchRequest
from search.snapshot import Hit

T = TypeVar("T")

PATH = "/mcp"
MAX_TURNS = 500
"""Turns of a conversation, as POST /v1/suggestions and /v1/answers take them."""
READER = "kb.mcp.reader"
"""The ASGI scope key where ``/mcp`` leaves the reader it authenticated, for the tools to find."""
INSTRUCTIONS = (
    "kb is a support team's help center. search_articles finds articles, get_article reads one; "
    "answer_question answers a customer's question with citations, or says to hand off to a person; "
    "suggest_articles (agent keys) suggests articles for a ticket. Everything reads as your key may see."
)


@dataclass(frozen=True)
class Reader:
    """The knowledge base a tool call reads and who reads it."""

    kb: KnowledgeBase
    principal: Principal


ReaderOf = Callable[[Context], Reader]


class Turn(BaseModel):
    role: Literal["customer", "agent"]
    text: Prose


Locale = Annotated[Line | None, Field(description=f"One of {', '.join(LOCALES)}; every locale when absent.")]
Turns = Annotated[tuple[Turn, ...], Field(max_length=MAX_TURNS)]


class HitOut(TypedDict):
    id: str
    title: str
    locale: str
    url: Annotated[str, Field(description="Help-center URL of the article, with the best section's anchor.")]
    anchor: Annotated[str, Field(description="Id of the best-matching section's heading; empty for the lead.")]
    snippet: Annotated[str, Field(description="HTML-escaped excerpt of the best section, matches wrapped in <mark>.")]
    score: float


class SearchOut(TypedDict):
    commit: Annotated[str, Field(description="Commit of the index snapshot that answered.")]
    total: int
    hits: list[HitOut]


class ArticleOut(TypedDict):
    id: str
    title: str
    locale: str
    url: str
    revision: Annotated[str, Field(description="Commit that last changed the article.")]
    body: Annotated[str, Field(description="The article's Markdown, without its front matter.")]


class SuggestionOut(TypedDict):
    id: str
    title: str
    locale: str
    url: str
    anchor: str
    section: Annotated[list[str], Field(description="The section's heading path.")]
    passage: Annotated[str, Field(description="Whole sentences of the section that hold what the ticket asks: ready to paste.")]
    matched_terms: list[str]
    score: float
    revision: str
    sendable: Annotated[bool, Field(description="Whether any customer may be sent it: false for internal or segment articles.")]
    announcement: Annotated[AnnouncementOut | None, Field(description="For an announcement, its window; an active one comes first.")]


class SuggestionsOut(TypedDict):
    interaction_id: Annotated[str, Field(description="What feedback on these suggestions points back at.")]
    commit: str
    query: Annotated[str, Field(description="What was searched for: the ticket's last customer turn, reduced.")]
    suggestions: list[SuggestionOut]


class AnswerOut(TypedDict):
    interaction_id: Annotated[str, Field(description="What feedback on this answer points back at.")]
    commit: str
    abstained: bool
    handoff: Annotated[bool, Field(description="Whether a person should take over.")]
    reason: Annotated[str | None, Field(description="Why kb abstained: no_match or low_confidence.")]
    confidence: float
    announcements: Annotated[
        list[AnnouncedOut], Field(description="Active announcements the question matches (an outage it asks about): say them first.")
    ]
    answer: Annotated[str, Field(description="The answer: sentences quoted from the cited section; empty when kb abstained.")]
    citations: list[CitationOut]


class Tools:
    """The tools, each reading with the reader its transport gives the call.

    Their docstrings are the descriptions MCP clients show the model. They are plain functions: the
    SDK runs them in worker threads, where search's CPU work never holds up the event loop.
    """

    def __init__(self, reader_of: ReaderOf) -> None:
        self._reader_of = reader_of

    def search_articles(
        self,
        ctx: Context,
        query: Annotated[Prose, Field(description="What to search for, in any supported language.")],
        locale: Locale = None,
        limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = 10,
    ) -> SearchOut:
        """Search the help center's articles; each hit is one article's best-matching section, with a snippet."""
        reader = self._reader_of(ctx)
        settings = reader.kb.settings
        request = _checked(lambda: SearchRequest(query=query, locale=locale, limit=limit, max_query_chars=settings.max_query_chars),
                           {"q": "query"})  # fmt: skip
        response = reader.kb.search(request, view=reader.principal.view)
        return SearchOut(commit=response.commit, total=response.results.total, hits=[_hit(hit) for hit in response.results.hits])

    def get_article(
        self,
        ctx: Context,
        id: Annotated[Line, Field(description="The article's id, as search_articles gives it.")],
        locale: Annotated[Line, Field(description=f"One of {', '.join(LOCALES)}.")],
    ) -> ArticleOut:
        """Read one article: its title and Markdown body. An old id the article moved from finds it too."""
        reader = self._reader_of(ctx)
        if locale not in LOCALES:
            raise ToolError(f"locale: unknown locale {locale!r}; kb has {', '.join(LOCALES)}")
        view = reader.principal.view
        article = reader.kb.article(id, locale=locale, view=view) or reader.kb.redirect(id, locale=locale, view=view)
        if article is None:  # the same answer for a missing article and one the key may not see
            raise ToolError(f"id: no article {id!r} in locale {locale!r}")
        url = article_url(article.id, article.locale)
        return ArticleOut(id=article.id, title=article.title, locale=article.locale, url=url, revision=article.revision, body=article.body)

    def suggest_articles(
        self,
        ctx: Context,
        body: Annotated[Prose, Field(description="The ticket's first message, as the customer wrote it.")],
        subject: Annotated[Prose, Field(description="The ticket's subject.")] = "",
        messages: Annotated[Turns, Field(description="The conversation after the body, oldest first.")] = (),
        locale: Locale = None,
    ) -> SuggestionsOut:
        """For an agent working a ticket: articles (internal ones too), each with the passage that answers it."""
        reader = self._reader_of(ctx)
        principal = reader.principal
        if principal.kind not in STAFF_ROLES:
            raise ToolError("suggest_articles is for agents: it needs an agent, writer, reviewer or admin API key")
        ticket = Ticket(subject=subject, body=body, messages=_messages(messages), locale=locale)
        request = _checked(lambda: ticket_request(ticket), {"q": "body", "context": "messages"})
        # Sendable as for an anonymous requester, as POST /v1/suggestions judges a ticket without one.
        found = suggest(reader.kb, [request], view=principal.view, requesters=[PUBLIC], principal_kind=principal.kind)[0]
        suggestions = [
            SuggestionOut(**_place(s.hit), section=list(s.hit.chunk.heading_path), passage=s.passage.text,
                          matched_terms=list(s.passage.matched), score=round(s.hit.score, 6), revision=s.hit.article.revision,
                          sendable=s.sendable, announcement=announcement_out(s.hit.article, active=s.announced))
            for s in found.suggestions
        ]  # fmt: skip
        return SuggestionsOut(interaction_id=found.interaction_id, commit=found.commit, query=found.query, suggestions=suggestions)

    def answer_question(
        self,
        ctx: Context,
        question: Annotated[Prose, Field(description="The customer's question.")],
        conversation: Annotated[Turns, Field(description="The turns before the question, oldest first.")] = (),
        locale: Locale = None,
    ) -> AnswerOut:
        """Answer a customer's question from the help center, with citations; or abstain and say to hand off to a person."""
        reader = self._reader_of(ctx)
        asked = Question(question, _messages(conversation), locale)
        principal = reader.principal
        request = _checked(lambda: question_request(asked))
        found = answer(reader.kb, [request], view=principal.view, principal_kind=principal.kind)[0]
        return _answer(found)


def mcp_server(reader_of: ReaderOf) -> MCPServer:
    """The MCP server both transports serve; ``reader_of`` says who a call reads as and from which knowledge base."""
    # The SDK calls logging.basicConfig at this level when nothing has set logging up: INFO would turn on every library's chatter.
    server: MCPServer = MCPServer("kb", instructions=INSTRUCTIONS, log_level="WARNING")
    tools = Tools(reader_of)
    reading = ToolAnnotations(read_only_hint=True)
    server.add_tool(tools.search_articles, annotations=reading)
    server.add_tool(tools.get_article, annotations=reading)
    server.add_tool(tools.suggest_articles)  # these two write what was shown to the ledger
    server.add_tool(tools.answer_question)
    return server


def run_stdio(kb: KnowledgeBase, *, key: str) -> None:
    """`kb mcp`: serve the tools on stdin and stdout, reading as the API key ``key`` (the CLI checked it once already)."""

    def key_reader(ctx: Context) -> Reader:
        record = authenticate(kb.engine, key)
        if record is None:
            raise ToolError("the API key in KB_API_KEY is revoked or expired")
        return Reader(kb, key_principal(record))

    mcp_server(key_reader).run("stdio")


class HttpEndpoint:
    """``/mcp``: each request authenticated and rate-limited as the API does, then served by the SDK.

    Stateless, with JSON responses: every request carries its own credentials and no session outlives
    it, so any kb process behind a load balancer answers any request, as for the rest of the API.
    """

    def __init__(self) -> None:
        self._app: ASGIApp | None = None
        # POST only: without sessions there is no stream for a GET to open (the SDK would hold one open for ever),
        # nor a session for a DELETE to end; the protocol has clients take a 405 for both.
        self.route = Route(PATH, endpoint=self, methods=["POST"])

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The SDK's request handling, for as long as the app runs (inside its lifespan).

        A server of its own each time: the SDK's session manager runs once per instance, and an app may
        be started more than once (tests do).
        """
        server = mcp_server(request_reader)
        # The SDK checks Host and Origin against localhost unless told otherwise; kb answers under the name it
        # is deployed at, like the rest of the API. A rebound page gets no credentials of kb's: it reads what anyone may.
        app = server.streamable_http_app(
            streamable_http_path=PATH,
            stateless_http=True,
            json_response=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        async with server.session_manager.run():
            self._app = app
            try:
                yield
            finally:
                self._app = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        kb = await knowledge_base_of(request)  # 503 while the index loads
        await rate_limited(request, kb)
        scope[READER] = Reader(kb, await principal_of(request, kb))  # a bad key or token: the API's 401
        if self._app is None:  # the app is shutting down
            raise HTTPException(503, "kb is stopping", headers={"Retry-After": "5"})
        await self._app(scope, receive, send)


def request_reader(ctx: Context) -> Reader:
    """The reader :class:`HttpEndpoint` authenticated the call's HTTP request as."""
    request = ctx.request_context.request
    reader = request.scope.get(READER) if isinstance(request, Request) else None
    if not isinstance(reader, Reader):
        raise RuntimeError("an MCP request reached the tools without passing through HttpEndpoint")
    return reader


def _checked(build: Callable[[], T], names: Mapping[str, str] | None = None) -> T:
    """``build()``, with kb's refusal of a request turned into the tool's error, naming the argument as the tool calls it."""
    try:
        return build()
    except InvalidRequest as invalid:
        field = (names or {}).get(invalid.field, invalid.field)
        raise ToolError(f"{field}: {invalid.message}") from None


def _messages(turns: tuple[Turn, ...]) -> tuple[Message, ...]:
    return tuple(Message(turn.role, turn.text) for turn in turns)


class _Place(TypedDict):
    id: str
    title: str
    locale: str
    url: str
    anchor: str


def _place(hit: Hit) -> _Place:
    """Which article and section a hit is, and where the help center shows it."""
    article, anchor = hit.article, hit.chunk.anchor
    return _Place(id=article.id, title=article.title, locale=article.locale, url=article_url(article.id, article.locale, anchor),
                  anchor=anchor)  # fmt: skip


def _hit(hit: Hit) -> HitOut:
    return HitOut(**_place(hit), snippet=hit.snippet, score=round(hit.score, 6))


def _answer(found: Answer) -> AnswerOut:
    citations = [citation_out(citation) for citation in found.citations]
    return AnswerOut(interaction_id=found.interaction_id, commit=found.commit, abstained=found.abstained, handoff=found.handoff,
                     reason=found.reason, confidence=round(found.confidence, 6),
                     announcements=[announced_out(news) for news in found.announcements], answer=found.text,
                     citations=citations)  # fmt: skip
