"""MCP through the SDK's own client, over streamable HTTP (a real uvicorn) and over stdio (`kb mcp` as a process).

Every tool is called on both transports, and a client reads exactly what its credentials read through
the API: the sample's internal article and its enterprise-only article never reach an anonymous
client or a bot key, through any tool, and do reach an agent key and an enterprise customer.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, ListToolsResult, TextContent
from mcp_types.version import LATEST_HANDSHAKE_VERSION, LATEST_MODERN_VERSION
from sqlalchemy import Engine
from typer.testing import CliRunner

from api.app import create_app
from api.deps import CUSTOMER_TOKEN_HEADER
from kb.access.keys import create_key, revoke_key
from kb.access.tokens import issue_customer_token
from kb.cli import app as cli
from kb.core.settings import Settings
from search.encoder import Encoder
from tests.conftest import JWT_SECRET, TEST_DATABASE_ENV, make_settings, serve_in_thread
from tests.problems import assert_problem

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
TOOLS = {"search_articles", "get_article", "suggest_articles", "answer_question"}
INTERNAL = ("refund-approval-playbook", "Who can approve a refund above 500 EUR?")
"""An article for agents only (the sample's `*/agents/*` rule), and a question it answers."""
SEGMENT = ("data-residency", "Can our workspace data be stored in the EU data region?")
"""An article for the enterprise segment only, and a question it answers."""
REFUND_TICKET = {"subject": "Refund above 500 EUR", "body": "The customer wants 650 EUR back for last year's plan. Who can approve that?"}


@dataclass(frozen=True)
class Served:
    url: str
    settings: Settings
    engine: Engine


@pytest.fixture(scope="module")
def served(
    sample_settings: Settings, module_database_url: str, tmp_path_factory: pytest.TempPathFactory, model: Encoder
) -> Iterator[Served]:
    """The sample help center on a real uvicorn, customer tokens on, with a data folder and database of this module's own."""
    settings = make_settings(data_dir=tmp_path_factory.mktemp("mcp") / "data", repo_path=sample_settings.repo_path,
                             database_url=module_database_url, jwt_secret=JWT_SECRET)  # fmt: skip
    app = create_app(settings, encoder=model)
    with serve_in_thread(app) as url:
        yield Served(url, settings, app.state.kb.engine)


def new_key(served: Served, role: str) -> str:
    return create_key(served.engine, name=f"mcp {role}", role=role).secret


def enterprise_customer() -> str:
    return issue_customer_token(secret=JWT_SECRET, subject="alice", segments=("enterprise",))


def over_http(
    served: Served, work: Callable[[Client], Awaitable[T]], *, token: str | None = None, headers: dict[str, str] | None = None,
    mode: str = "auto",
) -> T:
    """``work`` done by the SDK's client over ``/mcp``, sending ``token`` as the bearer credential.

    ``auto`` speaks the newest protocol (per-request envelopes); ``legacy`` the initialize handshake most clients still use.
    """

    async def main() -> T:
        sent = (headers or {}) | ({"Authorization": f"Bearer {token}"} if token else {})
        async with httpx2.AsyncClient(headers=sent) as http:
            transport = streamable_http_client(f"{served.url}/mcp", http_client=http)
            async with Client(transport, mode=mode) as client:
                return await work(client)

    return anyio.run(main)


@asynccontextmanager
async def over_stdio(served: Served, key: str, log: Path, *, mode: str = "auto") -> AsyncIterator[Client]:
    """`kb mcp` started as a user would, over the served data folder (its saved snapshot) and database; stderr to ``log``."""
    env = {name: value for name, value in os.environ.items() if name.startswith("KB_") and name != TEST_DATABASE_ENV}
    env |= {"KB_DATA_DIR": str(served.settings.data_dir), "KB_REPO_PATH": str(served.settings.repo_path),
            "KB_DATABASE_URL": served.settings.database, "KB_API_KEY": key}  # fmt: skip
    server = StdioServerParameters(command=sys.executable, args=["-m", "kb", "mcp"], env=env, cwd=ROOT)
    with log.open("w") as errlog:
        async with Client(stdio_client(server, errlog=errlog), mode=mode) as client:
            yield client


def text(result: CallToolResult) -> str:
    return "".join(block.text for block in result.content if isinstance(block, TextContent))


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    return result.structured_content


async def found(client: Client, query: str) -> set[str]:
    return {hit["id"] for hit in (await call(client, "search_articles", query=query, limit=20))["hits"]}


async def cited(client: Client, question: str) -> dict[str, Any]:
    return await call(client, "answer_question", question=question)


async def listed(client: Client) -> set[str]:
    return {tool.name for tool in (await client.list_tools()).tools}


async def hidden_from(client: Client) -> None:
    """Neither the internal nor the segment article reaches ``client`` through any tool; hidden reads exactly as unknown."""
    for article_id, question in (INTERNAL, SEGMENT):
        assert article_id not in await found(client, question)
        answered = await cited(client, question)
        assert article_id not in {citation["article_id"] for citation in answered["citations"]}
        hidden = await client.call_tool("get_article", {"id": article_id, "locale": "en"})
        unknown = await client.call_tool("get_article", {"id": "no-such-article", "locale": "en"})
        assert hidden.is_error and unknown.is_error
        assert text(hidden).replace(article_id, "ID") == text(unknown).replace("no-such-article", "ID")


async def visible_to(client: Client, article_id: str, question: str) -> None:
    """The article reaches ``client``: found, read whole, and cited in the answer to its question."""
    assert article_id in await found(client, question)
    article = await call(client, "get_article", id=article_id, locale="en")
    assert (article["id"], article["url"]) == (article_id, f"/hc/en/articles/{article_id}")
    assert article["body"].strip() and len(article["revision"]) == 40
    answered = await cited(client, question)
    assert not answered["abstained"] and not answered["handoff"], answered
    assert answered["citations"][0]["article_id"] == article_id


async def suggestions_for_an_agent(client: Client) -> None:
    body = await call(client, "suggest_articles", **REFUND_TICKET)
    suggested = {item["id"]: item for item in body["suggestions"]}
    assert suggested[INTERNAL[0]]["sendable"] is False  # internal: an agent must not paste it to a customer
    assert suggested["refund-policy"]["sendable"] is True
    assert body["interaction_id"] and suggested[INTERNAL[0]]["passage"]


async def refused_suggestions(client: Client) -> str:
    result = await client.call_tool("suggest_articles", REFUND_TICKET)
    assert result.is_error
    return text(result)


# Over streamable HTTP


MODES = pytest.mark.parametrize("mode", ["auto", "legacy"])


@MODES
def test_every_tool_is_listed_with_its_arguments(served: Served, mode: str) -> None:
    async def listing(client: Client) -> tuple[str, ListToolsResult]:
        return client.protocol_version, await client.list_tools()

    version, listed_tools = over_http(served, listing, mode=mode)
    assert version == (LATEST_MODERN_VERSION if mode == "auto" else LATEST_HANDSHAKE_VERSION)
    tools = listed_tools.tools
    assert {tool.name for tool in tools} == TOOLS
    schema = {tool.name: tool.input_schema for tool in tools}
    assert schema["search_articles"]["required"] == ["query"] and schema["get_article"]["required"] == ["id", "locale"]
    assert all(tool.description and tool.output_schema for tool in tools)


@MODES
def test_anonymous_and_bot_clients_never_see_internal_or_segment_articles(served: Served, mode: str) -> None:
    over_http(served, hidden_from, mode=mode)
    over_http(served, hidden_from, token=new_key(served, "bot"), mode=mode)


@MODES
def test_an_agent_key_reads_internal_articles_and_a_customer_their_segments(served: Served, mode: str) -> None:
    over_http(served, lambda client: visible_to(client, *INTERNAL), token=new_key(served, "agent"), mode=mode)
    over_http(served, lambda client: visible_to(client, *SEGMENT), token=enterprise_customer(), mode=mode)


def test_a_bot_key_answering_a_customer_reads_as_that_customer(served: Served) -> None:
    forwarded = {CUSTOMER_TOKEN_HEADER: enterprise_customer()}
    over_http(served, lambda client: visible_to(client, *SEGMENT), token=new_key(served, "bot"), headers=forwarded)


def test_suggestions_are_for_agent_keys_and_mark_internal_articles_not_sendable(served: Served) -> None:
    over_http(served, suggestions_for_an_agent, token=new_key(served, "agent"))
    refusal = over_http(served, refused_suggestions, token=new_key(served, "bot"))
    assert "agent" in refusal


def test_an_answer_cites_the_section_it_quotes(served: Served) -> None:
    answered = over_http(served, lambda client: cited(client, "How do I reset my password?"), token=new_key(served, "bot"))
    citation = answered["citations"][0]
    assert citation["article_id"] == "reset-password" and citation["url"].startswith("/hc/en/articles/reset-password")
    assert citation["quote"] == answered["answer"] and answered["interaction_id"]


@pytest.mark.parametrize(
    ("tool", "arguments", "named"),
    [
        ("search_articles", {"query": " "}, "query"),
        ("search_articles", {"query": "refund\x00"}, "query"),
        ("search_articles", {"query": "refund", "limit": 0}, "limit"),
        ("search_articles", {"query": "refund", "locale": "fr"}, "locale"),
        ("get_article", {"id": "reset-password", "locale": "fr"}, "locale"),
        ("get_article", {"locale": "en"}, "id"),
        ("suggest_articles", {"body": "Hi team,\n\nThanks,\nSam"}, "body"),
        ("suggest_articles", {"body": "Refund?", "messages": [{"role": "robot", "text": "Hello"}]}, "messages"),
        ("answer_question", {"question": ""}, "question"),
        ("answer_question", {"question": "Refund?", "conversation": [{"role": "customer", "text": "x " * 30_000}]}, "conversation"),
    ],
)
def test_bad_arguments_are_a_tool_error_naming_the_argument(served: Served, tool: str, arguments: dict, named: str) -> None:
    result = over_http(served, lambda client: client.call_tool(tool, arguments), token=new_key(served, "agent"))
    assert result.is_error and re.search(rf"\b{named}\b", text(result)), text(result)
    assert "Traceback" not in text(result)


def test_a_bad_credential_is_the_apis_401_before_any_mcp_message_is_read(served: Served) -> None:
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    revoked = create_key(served.engine, name="gone", role="agent")
    revoke_key(served.engine, revoked.id)
    for credential in ("kb_00000000_" + "x" * 43, revoked.secret, "not-a-token"):
        response = httpx.post(f"{served.url}/mcp", json=message, headers={"Authorization": f"Bearer {credential}"}, timeout=30)
        assert_problem(response, 401)


def test_a_get_is_a_405_not_a_stream_held_open(served: Served) -> None:
    """Without sessions there is nothing to stream: the protocol's answer is a 405, never a request that never ends."""
    assert_problem(httpx.get(f"{served.url}/mcp", timeout=30), 405)


# Over stdio


def test_kb_mcp_refuses_to_start_without_a_key_or_with_an_unknown_one(tmp_path: Path, database_url: str) -> None:
    env = {"KB_DATA_DIR": str(tmp_path / "data"), "KB_DATABASE_URL": database_url}
    missing = CliRunner().invoke(cli, ["mcp"], env=env | {"KB_API_KEY": ""})
    assert missing.exit_code == 2 and "KB_API_KEY is not set" in missing.output
    unknown = CliRunner().invoke(cli, ["mcp"], env=env | {"KB_API_KEY": "kb_00000000_" + "x" * 43})
    assert unknown.exit_code == 2 and "unknown, revoked or expired" in unknown.output


def test_kb_mcp_reads_as_an_agent_key(served: Served, tmp_path: Path) -> None:
    async def main() -> None:
        async with over_stdio(served, new_key(served, "agent"), tmp_path / "kb-mcp.log", mode="legacy") as client:
            assert client.protocol_version == LATEST_HANDSHAKE_VERSION
            assert await listed(client) == TOOLS
            await visible_to(client, *INTERNAL)
            await suggestions_for_an_agent(client)
            bad = await client.call_tool("search_articles", {"query": " "})
            assert bad.is_error and text(bad).endswith("query: the query is empty; type at least one word")

    run_logged(main, tmp_path / "kb-mcp.log")


def test_kb_mcp_with_a_bot_key_never_shows_internal_or_segment_articles_and_stops_when_revoked(served: Served, tmp_path: Path) -> None:
    bot = create_key(served.engine, name="mcp bot", role="bot")

    async def main() -> None:
        async with over_stdio(served, bot.secret, tmp_path / "kb-mcp.log") as client:
            assert client.protocol_version == LATEST_MODERN_VERSION
            await hidden_from(client)
            assert "agent" in await refused_suggestions(client)
            revoke_key(served.engine, bot.id)
            after = await client.call_tool("search_articles", {"query": "refund"})
            assert after.is_error and "revoked or expired" in text(after)

    run_logged(main, tmp_path / "kb-mcp.log")


def run_logged(main: Callable[[], Awaitable[None]], log: Path) -> None:
    """Run ``main``; on failure, show what `kb mcp` wrote to stderr."""
    try:
        anyio.run(main)
    except BaseException:
        print(log.read_text() if log.exists() else "(no log)", file=sys.stderr)
        raise
