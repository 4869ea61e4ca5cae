"""Reports for staff: what readers searched and did not find, which articles failed them, how bots and agents fared —
from the API, `kb report` and the site's dashboard, the same figures whether a day is rolled up or read from events."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy
from fastapi.testclient import TestClient
from sqlalchemy import delete, insert
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from kb.analytics import Period, purge_events, roll_up, run_report
from kb.analytics.rollups import ROLLED_THROUGH
from kb.cli import app as cli
from kb.core.db import EventRecord, QueryDayRecord, StateRecord, make_engine
from tests.conftest import article_text, served_app, served_kb
from tests.test_api_agents import key
from tests.test_site_staff import sign_in

FILES = {
    "en/export.md": article_text("export", "Export your data", "## From the settings\n\nOpen Settings and choose Export to CSV."),
    "en/refunds.md": article_text("refunds", "Refunds", "Refunds are paid within 14 days to the card you paid with."),
    "ja/export.md": article_text("export", "データのエクスポート", "設定を開いて CSV にエクスポートを選びます。", locale="ja"),
}
NOTHING = "frobnicate the quux"
"""A query no article answers."""


@pytest.fixture
def site(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(FILES, follow_redirects=False)


def report(client: TestClient, name: str, **params: str) -> dict:
    """A report through the API, with an agent's key, once every event so far is written."""
    served_kb(client).events.writer.flush()
    response = client.get(f"/v1/reports/{name}", params=params, headers=key(client, "agent"))
    assert response.status_code == 200, response.text
    return response.json()


def row(found: dict, **match: object) -> dict:
    """The one row of a report whose columns hold ``match``."""
    rows = [r for r in found["rows"] if all(r.get(k) == v for k, v in match.items())]
    assert len(rows) == 1, found["rows"]
    return rows[0]


def search_site(client: TestClient, query: str) -> str:
    """Search the help center's page; the search's id its result links carry (empty when nothing was found)."""
    page = client.get("/hc/en/search", params={"q": query}).text
    marker = "?s="
    return page[page.index(marker) + len(marker) :][:32] if marker in page else ""


def test_a_zero_result_query_appears_in_the_report_with_its_count(site: TestClient) -> None:
    for _ in range(2):
        assert site.get("/v1/search", params={"q": NOTHING}).status_code == 200
    search_site(site, NOTHING.upper())  # grouped with the others: queries are counted lowercased
    found = report(site, "zero-results")
    assert row(found, query=NOTHING)["zero_results"] == 3
    assert [column["key"] for column in found["columns"]] == ["query", "zero_results", "searches"]


def test_top_queries_rank_by_searches(site: TestClient) -> None:
    for query, times in (("export", 3), ("refunds", 1)):
        for _ in range(times):
            site.get("/v1/search", params={"q": query})
    assert [r["query"] for r in report(site, "top-queries")["rows"]] == ["export", "refunds"]


def test_a_query_whose_results_are_never_opened_has_a_low_click_through(site: TestClient) -> None:
    for _ in range(3):
        search_site(site, "refunds")
        search_id = search_site(site, "export")
        site.get(f"/hc/en/articles/export?s={search_id}&p=1")
    found = report(site, "low-click-through")
    assert [r["query"] for r in found["rows"]] == ["refunds"]
    assert row(found, query="refunds")["click_through"] == 0.0


def test_a_query_whose_opened_article_was_voted_not_helpful_is_reported(site: TestClient) -> None:
    search_id = search_site(site, "export")
    opened = f"http://testserver/hc/en/articles/export?s={search_id}&p=1"
    site.get(opened)
    voted = site.post("/hc/en/articles/export/vote", data={"vote": "not_helpful", "reason": "unclear"}, headers={"Referer": opened})
    assert voted.status_code == 303
    assert row(report(site, "not-helpful"), query="export")["not_helpful"] == 1


def test_an_applications_not_helpful_vote_naming_its_search_is_reported_against_the_query(site: TestClient) -> None:
    search_id = site.get("/v1/search", params={"q": "export"}).json()["search_id"]
    vote = {"outcome": "not_helpful", "article_id": "export", "locale": "en", "reason": "unclear", "search_id": search_id}
    assert site.post("/v1/feedback", json=vote).status_code == 201
    assert row(report(site, "not-helpful", surface="api"), query="export")["not_helpful"] == 1


def test_a_feedback_search_id_that_is_none_of_ours_is_a_422_naming_it(site: TestClient) -> None:
    vote = {"outcome": "helpful", "article_id": "export", "locale": "en", "search_id": "../../etc"}
    response = site.post("/v1/feedback", json=vote)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "search_id"


def test_feedback_with_a_bad_surface_header_is_refused_before_anything_is_written(site: TestClient) -> None:
    search_id = site.get("/v1/search", params={"q": "export"}).json()["search_id"]
    vote = {"outcome": "not_helpful", "article_id": "export", "locale": "en", "search_id": search_id}
    assert site.post("/v1/feedback", json=vote, headers={"X-KB-Surface": "fax"}).status_code == 400
    assert site.post("/v1/feedback", json=vote).status_code == 201, "the first vote was not recorded, so this one is"


def test_a_vote_without_a_search_behind_it_names_no_query(site: TestClient) -> None:
    site.get("/hc/en/articles/export")
    site.post("/hc/en/articles/export/vote", data={"vote": "not_helpful"}, headers={"Referer": "http://testserver/hc/en/articles/export"})
    assert report(site, "not-helpful")["rows"] == []
    assert row(report(site, "articles"), article_id="export", locale="en")["not_helpful"] == 1


def test_articles_report_views_and_helpfulness(site: TestClient) -> None:
    for _ in range(3):
        site.get("/hc/en/articles/export")
    site.post("/hc/en/articles/export/vote", data={"vote": "helpful"})
    site.cookies.delete("kb_votes")
    site.post("/hc/en/articles/export/vote", data={"vote": "not_helpful"})
    exported = row(report(site, "articles"), article_id="export", locale="en")
    assert (exported["views"], exported["helpful"], exported["not_helpful"], exported["helpfulness"]) == (3, 1, 1, 0.5)


def bot_asks(client: TestClient, question: str, headers: dict[str, str]) -> dict:
    response = client.post("/v1/answers", json={"question": question, "locale": "en"}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_bots_resolution_rate_and_deflection(site: TestClient) -> None:
    bot = key(site, "bot")
    resolved = bot_asks(site, "How long do refunds take to be paid?", bot)
    escalated = bot_asks(site, "How are refunds paid?", bot)
    unanswered = bot_asks(site, NOTHING, bot)
    assert not resolved["abstained"] and not escalated["abstained"] and unanswered["abstained"]
    for answer, outcome in ((resolved, "resolved"), (escalated, "escalated")):
        said = site.post("/v1/feedback", json={"interaction_id": answer["interaction_id"], "outcome": outcome}, headers=bot)
        assert said.status_code in (200, 201), said.text
    bots = row(report(site, "bots"), locale="en")
    assert (bots["questions"], bots["answered"], bots["resolved"], bots["escalated"]) == (3, 2, 1, 1)
    assert bots["resolution_rate"] == 0.5 and bots["deflection"] == round(1 / 3, 4)


def test_agents_acceptance_of_suggestions(site: TestClient) -> None:
    agent = key(site, "agent")
    lists = []
    for subject in ("Refund request", "Export to CSV"):
        response = site.post("/v1/suggestions", json={"subject": subject, "body": "Can you help?", "locale": "en"}, headers=agent)
        assert response.status_code == 200, response.text
        lists.append(response.json())
    first = lists[0]["suggestions"][0]["id"]
    used_first = {"interaction_id": lists[0]["interaction_id"], "article_id": first, "outcome": "used"}
    used = site.post("/v1/feedback", json=used_first, headers=agent)
    assert used.status_code in (200, 201), used.text
    agents = row(report(site, "agents"), locale="en")
    assert (agents["tickets"], agents["suggested"], agents["accepted"], agents["acceptance"]) == (2, 2, 1, 0.5)


def test_reports_filter_by_locale_and_surface(site: TestClient) -> None:
    site.get("/v1/search", params={"q": NOTHING, "locale": "en"})
    site.get("/hc/ja/search", params={"q": "存在しない語句"})
    assert [r["query"] for r in report(site, "zero-results", locale="en")["rows"]] == [NOTHING]
    assert [r["query"] for r in report(site, "zero-results", surface="site")["rows"]] == ["存在しない語句"]
    assert report(site, "zero-results", surface="widget")["rows"] == []


def old_events(client: TestClient) -> dt.date:
    """Searches, clicks and views dated three and one days ago, as a server running then would have recorded them; the last day."""
    now = dt.datetime.now(dt.UTC).replace(hour=12)
    rows: list[dict] = []
    searches = ((3, "export", 1, True), (3, "wire transfer", 0, False), (1, "export", 1, False), (1, "Export", 1, True))
    for days, query, total, clicked in searches:
        at = now - dt.timedelta(days=days)
        search_id = f"{days}{len(rows):031x}"
        rows.append({"at": at, "kind": "search", "surface": "site", "search_id": search_id, "query": query, "locale": "en",
                     "mode": "hybrid", "principal_kind": "anonymous", "results": "export" if total else "", "total": total})  # fmt: skip
        if clicked:
            rows.append({"at": at, "kind": "click", "surface": "site", "search_id": search_id, "article_id": "export", "locale": "en",
                         "position": 1, "principal_kind": "anonymous"})  # fmt: skip
            rows.append({"at": at, "kind": "view", "surface": "site", "article_id": "export", "locale": "en",
                         "principal_kind": "anonymous"})  # fmt: skip
    served_app(client).state.upkeep.stop()  # its first roll-up done, and no other after: the days below stay unrolled
    with Session(served_kb(client).engine) as session:
        session.execute(insert(EventRecord), rows)
        session.execute(delete(StateRecord).where(col(StateRecord.key) == ROLLED_THROUGH))  # as if the server had never rolled up
        session.commit()
    return (now - dt.timedelta(days=1)).date()


@pytest.mark.parametrize("name", ["daily", "surfaces", "top-queries", "zero-results", "articles"])
def test_a_rolled_up_day_reports_what_its_events_do(site: TestClient, name: str) -> None:
    old_events(site)
    kb = served_kb(site)
    period = Period.checked()
    from_events = run_report(kb.engine, name, period).rows
    assert roll_up(kb.engine)  # the days up to yesterday, now read from the rollup tables
    with Session(kb.engine) as session:
        assert session.exec(select(QueryDayRecord)).first() is not None
    assert run_report(kb.engine, name, period).rows == from_events != []


def test_rolling_up_twice_counts_each_search_once(site: TestClient) -> None:
    last = old_events(site)
    kb = served_kb(site)
    roll_up(kb.engine)
    roll_up(kb.engine)  # the last days rolled again: replaced, not added to
    found = run_report(kb.engine, "top-queries", Period.checked(until=last))
    assert row({"rows": found.rows}, query="export")["searches"] == 3


def test_the_purge_removes_rolled_up_days_with_their_events(site: TestClient) -> None:
    old_events(site)
    kb = served_kb(site)
    roll_up(kb.engine)
    purge_events(kb.engine, days=2)
    with Session(kb.engine) as session:
        days = set(session.exec(select(col(QueryDayRecord.day))))
    assert days and min(days) >= (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).date()


@pytest.mark.parametrize("role", [None, "bot"])
def test_reports_are_for_staff_keys_only(site: TestClient, role: str | None) -> None:
    headers = key(site, role) if role else {}
    assert site.get("/v1/reports/top-queries", headers=headers).status_code == 403
    assert site.get("/v1/reports", headers=headers).status_code == 403


@pytest.mark.parametrize(
    "params, field",
    [
        ({"since": "2026-05-02", "until": "2026-05-01"}, "since"),
        ({"since": "2024-01-01", "until": "2026-01-01"}, "since"),
        ({"since": "yesterday"}, "since"),
        ({"locale": "fr"}, "locale"),
        ({"surface": "robot"}, "surface"),
        ({"limit": "0"}, "limit"),
    ],
)
def test_a_bad_report_parameter_is_a_422_naming_it(site: TestClient, params: dict[str, str], field: str) -> None:
    response = site.get("/v1/reports/top-queries", params=params, headers=key(site, "agent"))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == field


def test_an_unknown_report_is_a_404_listing_the_reports(site: TestClient) -> None:
    response = site.get("/v1/reports/everything", headers=key(site, "agent"))
    assert response.status_code == 404 and "zero-results" in response.json()["detail"]


def cli_env(client: TestClient, database_url: str, tmp_path: Path) -> dict[str, str]:
    served_kb(client).events.writer.flush()
    return {"KB_DATABASE_URL": database_url, "KB_DATA_DIR": str(tmp_path / "cli-data"), "CI": "1"}


def test_kb_report_json_is_what_the_api_gives(site: TestClient, database_url: str, tmp_path: Path) -> None:
    site.get("/v1/search", params={"q": NOTHING})
    result = CliRunner().invoke(cli, ["report", "zero-results", "--json"], env=cli_env(site, database_url, tmp_path))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == report(site, "zero-results")


def test_kb_report_csv_has_a_header_and_a_row_per_query(site: TestClient, database_url: str, tmp_path: Path) -> None:
    site.get("/v1/search", params={"q": "export"})
    result = CliRunner().invoke(cli, ["report", "top-queries", "--csv"], env=cli_env(site, database_url, tmp_path))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["query", "searches", "zero_results", "click_through"]
    assert rows[0]["query"] == "export" and rows[0]["searches"] == "1"


def test_kb_report_prints_a_table(site: TestClient, database_url: str, tmp_path: Path) -> None:
    site.get("/v1/search", params={"q": NOTHING})
    result = CliRunner().invoke(cli, ["report", "zero-results"], env=cli_env(site, database_url, tmp_path))
    assert result.exit_code == 0 and "Queries that found nothing" in result.stdout and NOTHING in result.stdout


@pytest.mark.parametrize(
    "args, named", [(["--locale", "fr"], "locale"), (["--surface", "robot"], "surface"), (["--since", "2030-01-01"], "since")]
)
def test_kb_report_names_a_bad_option(site: TestClient, database_url: str, tmp_path: Path, args: list[str], named: str) -> None:
    result = CliRunner().invoke(cli, ["report", "top-queries", *args], env=cli_env(site, database_url, tmp_path))
    assert result.exit_code == 2 and f"error: {named}:" in result.stderr


def test_the_dashboard_shows_staff_signed_in_what_readers_did_not_find(site: TestClient) -> None:
    site.get("/v1/search", params={"q": NOTHING})
    served_kb(site).events.writer.flush()
    sign_in(site, "writer")
    page = site.get("/hc/en/staff/dashboard")
    assert page.status_code == 200 and page.headers["cache-control"] == "private, no-store"
    assert "Queries that found nothing" in page.text and NOTHING in page.text and "<svg" in page.text


def test_the_dashboard_speaks_japanese(site: TestClient) -> None:
    sign_in(site, "agent")
    page = site.get("/hc/ja/staff/dashboard")
    assert page.status_code == 200 and "結果がなかった検索" in page.text


@pytest.mark.parametrize("who", ["anonymous", "bot"])
def test_the_dashboard_is_a_404_for_everyone_but_staff(site: TestClient, who: str) -> None:
    headers = key(site, "bot") if who == "bot" else {}  # a bot reads as a customer would
    response = site.get("/hc/en/staff/dashboard", headers=headers)
    assert response.status_code == 404 and "Queries that found nothing" not in response.text


def test_a_bad_dashboard_filter_is_said_above_the_default_period(site: TestClient) -> None:
    sign_in(site)
    page = site.get("/hc/en/staff/dashboard", params={"since": "not-a-date"})
    assert page.status_code == 400 and "since: &#39;not-a-date&#39; is not a date" in page.text and "<svg" in page.text


def test_a_database_made_before_votes_were_events_gains_their_column(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    make_engine(url).dispose()
    with sqlalchemy.create_engine(url).begin() as connection:  # as the events table shipped first
        connection.exec_driver_sql("ALTER TABLE events DROP COLUMN outcome")
    engine = make_engine(url)
    assert "outcome" in {column["name"] for column in sqlalchemy.inspect(engine).get_columns("events")}
