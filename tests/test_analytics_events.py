"""Events: searches, clicks and views recorded off the request path, scrubbed of personal data, kept for a set time."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, text
from sqlmodel import Session, select

from kb.access import Principal
from kb.analytics import purge_events, scrubber
from kb.core.db import EventRecord
from kb.core.writer import BackgroundWriter
from tests.conftest import JWT_SECRET, article_text, served_kb
from tests.test_api_agents import key

FILES = {
    "en/export.md": article_text("export", "Export your data", "## From the settings\n\nOpen Settings and choose Export to CSV."),
    "en/refunds.md": article_text("refunds", "Refunds", "Refunds are paid within 14 days to the card you paid with."),
    "ja/export.md": article_text("export", "データのエクスポート", "設定を開いて CSV にエクスポートを選びます。", locale="ja"),
}
SCRUB = scrubber(["US", "GB", "JP"], [r"#\d{4,}"])


@pytest.fixture
def site(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(FILES, follow_redirects=False, jwt_secret=JWT_SECRET)


def events(client: TestClient, kind: str | None = None) -> list[EventRecord]:
    """Every event written so far (the writer flushed first), oldest first."""
    kb = served_kb(client)
    kb.events.writer.flush()
    with Session(kb.engine) as session:
        found = session.exec(select(EventRecord).order_by(EventRecord.id)).all()  # type: ignore[arg-type]
    return [event for event in found if kind is None or event.kind == kind]


@pytest.mark.parametrize(
    "typed, kept",
    [
        ("refund to jane.doe@example.com please", "refund to [email] please"),
        ("call me on (415) 555-0100", "call me on [phone]"),
        ("call +44 20 7946 0958", "call [phone]"),
        ("電話は090-1234-5678です", "電話は[phone]です"),
        ("０９０ー１２３４ー５６７８に電話ください", "[phone]に電話ください"),
        ("card 4111 1111 1111 1111 charged twice", "card [card] charged twice"),
        ("カード4111-1111-1111-1111が二重請求", "カード[card]が二重請求"),
        ("order #77812 missing", "order [number] missing"),
        ("amex 3782 822463 10005", "amex [card]"),
        ("refund +1 415 555 0100 4111 1111 1111 1111", "refund [phone] [card]"),
    ],
)
def test_personal_data_is_replaced_by_a_placeholder(typed: str, kept: str) -> None:
    assert SCRUB.scrub(typed) == kept


KEPT = ["E1042 sync error", "error 404 not found", "invoice 2024", "4111 1111 1111 1112 no card", "order 12345678901234", "パスワード"]


@pytest.mark.parametrize("typed", KEPT)
def test_what_is_not_personal_data_is_kept(typed: str) -> None:
    assert SCRUB.scrub(typed) == typed


def test_an_email_a_phone_and_a_card_typed_into_a_search_never_reach_the_database(site: TestClient) -> None:
    typed = "refund jane.doe@example.com +1 415 555 0100 4111 1111 1111 1111"
    assert site.get("/v1/search", params={"q": typed}).status_code == 200
    assert site.get("/hc/en/search", params={"q": "電話 090-1234-5678 jane@example.jp"}).status_code == 200
    stored = [event.query for event in events(site, "search")]
    assert stored == ["refund [email] [phone] [card]", "電話 [phone] [email]"]
    with Session(served_kb(site).engine) as session:
        dump = " ".join(str(row) for row in session.execute(text("SELECT * FROM events")).all())
    for secret in ("jane", "555", "4111", "1234"):
        assert secret not in dump


def test_a_search_is_recorded_with_what_it_found_and_how_fast(site: TestClient) -> None:
    body = site.get("/v1/search", params={"q": "export csv", "locale": "en", "mode": "keyword"}).json()
    (event,) = events(site, "search")
    assert (event.surface, event.locale, event.mode, event.principal_kind) == ("api", "en", "keyword", "anonymous")
    assert event.results == "export" and event.total == 1 and event.latency_ms is not None and event.latency_ms > 0
    assert event.search_id == body["search_id"]


def test_a_search_that_finds_nothing_is_recorded_with_none(site: TestClient) -> None:
    site.get("/v1/search", params={"q": "xylophone quasar", "mode": "keyword"})
    (event,) = events(site, "search")
    assert event.total == 0 and event.results == ""


def test_a_customers_search_keeps_their_segments_never_who_they_are(site: TestClient) -> None:
    from kb.access.tokens import issue_customer_token

    token = issue_customer_token(secret=JWT_SECRET, subject="alice@example.com", segments=("enterprise",))
    site.get("/v1/search", params={"q": "refunds"}, headers={"Authorization": f"Bearer {token}"})
    (event,) = events(site, "search")
    assert (event.principal_kind, event.segments) == ("customer", "enterprise")
    assert "alice" not in str(event.model_dump())


def test_the_help_centers_search_page_is_the_site_surface_and_its_links_carry_the_search(site: TestClient) -> None:
    page = site.get("/hc/en/search", params={"q": "export"}).text
    (search,) = events(site, "search")
    assert search.surface == "site"
    link = re.search(r'href="(/hc/en/articles/export\?s=[0-9a-f]{32}&amp;p=1)(#[^"]*)?"', page)
    assert link is not None and search.search_id in link.group(1)
    assert site.get(link.group(1).replace("&amp;", "&")).status_code == 200
    (click,) = events(site, "click")
    assert (click.search_id, click.article_id, click.position, click.surface) == (search.search_id, "export", 1, "site")
    assert [view.article_id for view in events(site, "view")] == ["export"]


def test_a_link_with_an_odd_search_is_a_view_only(site: TestClient) -> None:
    assert site.get("/hc/en/articles/export", params={"s": "nope", "p": "²"}).status_code == 200
    assert events(site, "click") == [] and len(events(site, "view")) == 1


def test_an_application_reports_a_click_on_a_result(site: TestClient) -> None:
    search_id = site.get("/v1/search", params={"q": "refunds"}).json()["search_id"]
    response = site.post("/v1/events/click", json={"search_id": search_id, "article_id": "refunds", "locale": "en", "position": 1})
    assert response.status_code == 204
    (click,) = events(site, "click")
    assert (click.search_id, click.article_id, click.position, click.surface) == (search_id, "refunds", 1, "api")


@pytest.mark.parametrize(
    "body, status",
    [
        ({"article_id": "no-such-article"}, 404),
        ({"article_id": "refunds", "search_id": "not-an-id"}, 422),
        ({"article_id": "refunds", "position": 0}, 422),
        ({"article_id": "refunds", "locale": "fr"}, 422),
        ({"search_id": "0" * 32}, 422),
    ],
)
def test_a_bad_click_is_refused_naming_what_was_wrong(site: TestClient, body: dict, status: int) -> None:
    assert site.post("/v1/events/click", json=body).status_code == status
    assert events(site, "click") == []


def test_search_as_you_type_is_not_counted_and_the_widget_is_its_own_surface(site: TestClient) -> None:
    site.get("/v1/search", params={"q": "exp"}, headers={"X-KB-Surface": "typeahead"})
    site.get("/v1/search", params={"q": "export"}, headers={"X-KB-Surface": "widget"})
    assert [(event.query, event.surface) for event in events(site, "search")] == [("export", "widget")]
    response = site.get("/v1/search", params={"q": "export"}, headers={"X-KB-Surface": "robot"})
    assert response.status_code == 400 and "X-KB-Surface" in response.text


def test_a_bots_questions_and_an_agents_tickets_are_searches_of_their_surfaces(site: TestClient) -> None:
    site.post("/v1/answers", json={"question": "How are refunds paid?"}, headers=key(site, "bot"))
    site.post("/v1/suggestions", json={"subject": "Export", "body": "How do I export to CSV?"}, headers=key(site, "agent"))
    recorded = {event.surface: event for event in events(site, "search")}
    assert recorded["bot"].principal_kind == "bot" and (recorded["bot"].results or "").startswith("refunds")
    assert recorded["agent"].principal_kind == "agent" and "export" in (recorded["agent"].results or "")


def test_a_writers_preview_is_not_a_readers_search(site: TestClient) -> None:
    site.get("/v1/search", params={"q": "export", "ref": "HEAD"}, headers=key(site, "writer"))
    assert events(site, "search") == []


def test_with_analytics_off_nothing_is_recorded(make_client: Callable[..., TestClient]) -> None:
    client = make_client(FILES, analytics=False)
    assert client.get("/v1/search", params={"q": "export"}).json()["search_id"] is None
    assert client.get("/hc/en/articles/export").status_code == 200
    assert events(client) == []


def test_a_failing_database_does_not_fail_searches_and_the_lost_events_are_counted(site: TestClient) -> None:
    kb = served_kb(site)
    with kb.engine.begin() as connection:
        connection.execute(text("DROP TABLE events"))
    for _ in range(3):
        assert site.get("/v1/search", params={"q": "export"}).status_code == 200
    kb.events.writer.flush()
    assert kb.events.dropped == 3


def test_a_full_queue_drops_events_and_counts_them(database_url: str) -> None:
    from kb.core.db import make_engine

    writer = BackgroundWriter(make_engine(database_url))
    row = {"at": dt.datetime.now(dt.UTC), "kind": "view", "surface": "api", "principal_kind": "anonymous"}
    assert writer.add(EventRecord, [row, row], limit=1) is False
    assert writer.dropped_by_table["events"] == 2
    writer.close()


def test_events_older_than_the_retention_are_purged(site: TestClient) -> None:
    kb = served_kb(site)
    now = dt.datetime.now(dt.UTC)
    rows = [
        {"at": now - dt.timedelta(days=days), "kind": "view", "surface": "site", "principal_kind": "anonymous", "article_id": f"a{days}"}
        for days in (1, 179, 181, 400)
    ]
    with Session(kb.engine) as session:
        session.execute(insert(EventRecord), rows)
        session.commit()
    assert purge_events(kb.engine, days=180, now=now) == 2
    assert sorted(event.article_id or "" for event in events(site)) == ["a1", "a179"]


def test_kb_analytics_purge_deletes_what_the_setting_no_longer_keeps(site: TestClient, database_url: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from kb.cli import app

    kb = served_kb(site)
    with Session(kb.engine) as session:
        old = {"at": dt.datetime.now(dt.UTC) - dt.timedelta(days=40), "kind": "view", "surface": "site", "principal_kind": "anonymous"}
        session.execute(insert(EventRecord), [old])
        session.commit()
    env = {"KB_DATABASE_URL": database_url, "KB_DATA_DIR": str(tmp_path / "cli-data")}
    result = CliRunner().invoke(app, ["analytics", "purge", "--days", "30"], env=env)
    assert result.exit_code == 0 and "1 event(s) older than 30 day(s) deleted" in result.output


def test_a_principal_is_recorded_by_kind_only() -> None:
    assert Principal("agent", "helpdesk", key_id=7).kind == "agent"  # the key's name and id have no column to land in
    assert set(EventRecord.model_fields).isdisjoint({"key_id", "customer", "name", "ip"})
