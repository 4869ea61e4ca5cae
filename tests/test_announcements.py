"""Announcements (``kind: announcement``): a banner across the site while their window is open, first in a
bot's answer and an agent's suggestions they match, readable as an article before and after — on a clock
the tests move (time-machine moves the server's too)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from fastapi.testclient import TestClient

from articles.parse import InvalidArticle, parse_article
from kb.access.tokens import issue_customer_token
from tests.conftest import JWT_SECRET, article_text
from tests.test_api_agents import key

UTC = dt.UTC
BEFORE = dt.datetime(2026, 12, 6, 7, 0, tzinfo=UTC)
DURING = dt.datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
AFTER = dt.datetime(2026, 12, 7, 1, 0, tzinfo=UTC)

INCIDENT = "Sign-in errors for some customers"
INCIDENT_JA = "一部のお客様がサインインできない障害"
MAINTENANCE = "Exports paused for maintenance"
ENTERPRISE = "New audit log retention for Enterprise"
CONTENT = {
    "en/status/sign-in-incident.md": article_text(
        "sign-in-incident", INCIDENT,
        "We are investigating errors when customers sign in with single sign-on. You may see error E2001 on the sign-in "
        "page. Signing in with a password still works.",
        kind="announcement", severity="incident", starts="2026-12-06T09:00:00Z", ends="2026-12-06T12:00:00Z",
    ),
    "ja/status/sign-in-incident.md": article_text(
        "sign-in-incident", INCIDENT_JA,
        "シングルサインオンでサインインすると、エラー E2001 が表示される障害を調査しています。パスワードでのサインインは利用できます。",
        kind="announcement", severity="incident", starts="2026-12-06T09:00:00Z", ends="2026-12-06T12:00:00Z",
    ),
    "en/status/exports-maintenance.md": article_text(
        "exports-maintenance", MAINTENANCE,
        "Workspace exports are paused while we upgrade the export service. Exports started before the window finish normally.",
        kind="announcement", severity="maintenance", starts="2026-12-06T08:00:00+09:00", ends="2026-12-07T00:00:00Z",
    ),
    "en/status/enterprise-notice.md": article_text(
        "enterprise-notice", ENTERPRISE, "Enterprise workspaces now keep audit logs for two years.",
        kind="announcement", audience="[enterprise]",
    ),
    "en/sso.md": article_text(
        "sso-sign-in", "Sign in with single sign-on",
        "## Signing in with SSO\n\nChoose Sign in with SSO on the sign-in page and enter your work e-mail address. Your "
        "identity provider then signs you in.",
    ),
}  # fmt: skip


@pytest.fixture
def site(make_client) -> TestClient:
    return make_client(CONTENT, jwt_secret=JWT_SECRET)


def banner_titles(html: str) -> list[str]:
    """The announcement links in the band under the header, in order."""
    band = re.search(r'<aside class="announcements".*?</aside>', html, re.S)
    return re.findall(r"<a [^>]*>([^<]+)</a>", band.group(0)) if band else []


# The front matter.


def parse(**front: object) -> object:
    return parse_article("en/news.md", article_text("news", "News", "Text.", **front).encode())


def test_an_announcement_reads_its_severity_and_window() -> None:
    article = parse(kind="announcement", severity="maintenance", starts="2026-12-06T08:00:00+09:00", ends="2026-12-06T12:00:00Z")
    front = article.front  # type: ignore[attr-defined]
    assert front.is_announcement and front.severity == "maintenance"
    assert front.starts == dt.datetime(2026, 12, 5, 23, 0, tzinfo=UTC) and front.ends == dt.datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_a_window_is_open_from_its_start_until_its_end() -> None:
    front = parse(kind="announcement", starts="2026-12-06T09:00:00Z", ends="2026-12-06T12:00:00Z").front  # type: ignore[attr-defined]
    assert not front.active_at(dt.datetime(2026, 12, 6, 8, 59, 59, tzinfo=UTC))
    assert front.active_at(dt.datetime(2026, 12, 6, 9, 0, tzinfo=UTC))
    assert not front.active_at(dt.datetime(2026, 12, 6, 12, 0, tzinfo=UTC))


def test_an_announcement_without_a_window_is_active_while_published() -> None:
    front = parse(kind="announcement").front  # type: ignore[attr-defined]
    assert front.active_at(BEFORE) and front.active_at(AFTER) and (front.severity or "info") == "info"


@pytest.mark.parametrize(
    ("front", "field", "reason"),
    [
        ({"severity": "incident"}, "severity", "only an announcement"),
        ({"ends": "2026-12-06T12:00:00Z"}, "ends", "only an announcement"),
        ({"kind": "announcement", "severity": "outage"}, "severity", "incident"),
        ({"kind": "announcement", "starts": "2026-12-06"}, "starts", "time and a UTC offset"),
        ({"kind": "announcement", "starts": "2026-12-06T09:00:00"}, "starts", "UTC offset"),
        ({"kind": "announcement", "starts": "2026-12-06T12:00:00Z", "ends": "2026-12-06T09:00:00Z"}, "ends", "after starts"),
        ({"kind": "news"}, "kind", "announcement"),
    ],
)
def test_a_bad_announcement_field_is_refused_naming_it(front: dict, field: str, reason: str) -> None:
    with pytest.raises(InvalidArticle) as refused:
        parse(**front)
    assert refused.value.error.field == field and reason in refused.value.error.reason


# The site.


def test_an_active_announcement_shows_as_a_banner_on_every_page(site: TestClient) -> None:
    with time_machine.travel(DURING, tick=False):
        for url in ("/hc/en", "/hc/en/articles/sso-sign-in", "/hc/en/search?q=export", "/hc/en/articles/missing"):
            assert INCIDENT in banner_titles(site.get(url).text), url


def test_banners_go_most_severe_first(site: TestClient) -> None:
    with time_machine.travel(DURING, tick=False):
        assert banner_titles(site.get("/hc/en").text) == [INCIDENT, MAINTENANCE]


def test_no_banner_before_the_window_opens_or_after_it_closes(site: TestClient) -> None:
    with time_machine.travel(BEFORE, tick=False):
        assert INCIDENT not in banner_titles(site.get("/hc/en").text)
    with time_machine.travel(AFTER, tick=False):
        assert banner_titles(site.get("/hc/en").text) == []


def test_a_banner_is_in_the_readers_language_where_translated(site: TestClient) -> None:
    with time_machine.travel(DURING, tick=False):
        html = site.get("/hc/ja").text
    titles = banner_titles(html)
    assert INCIDENT_JA in titles and INCIDENT not in titles
    assert MAINTENANCE in titles, "an untranslated announcement still shows, in the language it was written in"
    assert f'lang="en" hreflang="en">{MAINTENANCE}</a>' in html


def test_a_banner_says_until_when_in_the_writers_offset(site: TestClient) -> None:
    with time_machine.travel(DURING, tick=False):
        html = site.get("/hc/en").text
    assert "until December 6, 2026, 12:00 UTC" in html


def test_a_segment_announcement_shows_only_to_that_segment(site: TestClient) -> None:
    assert ENTERPRISE not in banner_titles(site.get("/hc/en").text)
    token = issue_customer_token(secret=JWT_SECRET, subject="alice", segments=("enterprise",))
    signed_in = site.get("/hc/session", params={"jwt": token, "return_to": "/hc/en"})
    assert ENTERPRISE in banner_titles(signed_in.text)
    site.get("/hc/signout")


def test_a_past_announcement_stays_readable_and_says_it_ended(site: TestClient) -> None:
    with time_machine.travel(AFTER, tick=False):
        page = site.get("/hc/en/articles/sign-in-incident")
    assert page.status_code == 200 and INCIDENT in page.text
    assert "This announcement ended December 6, 2026, 12:00 UTC." in page.text


def test_a_scheduled_announcement_says_when_it_starts(site: TestClient) -> None:
    with time_machine.travel(BEFORE, tick=False):
        page = site.get("/hc/ja/articles/sign-in-incident").text
    assert "予定：2026年12月6日 09:00（UTC）から 2026年12月6日 12:00（UTC）まで" in page


# Agents and bots.

SSO_QUESTION = {"question": "I get error E2001 when I sign in with SSO"}


def test_a_bot_answer_gives_a_matching_active_announcement_first(site: TestClient) -> None:
    with time_machine.travel(DURING, tick=False):
        body = site.post("/v1/answers", json=SSO_QUESTION).json()
    first = body["announcements"][0]
    assert first["article_id"] == "sign-in-incident" and "E2001" in first["quote"]
    assert first["announcement"] == {
        "severity": "incident", "starts": "2026-12-06T09:00:00Z", "ends": "2026-12-06T12:00:00Z", "active": True,
    }  # fmt: skip


def test_a_bot_answer_names_no_announcement_once_its_window_closed(site: TestClient) -> None:
    with time_machine.travel(AFTER, tick=False):
        body = site.post("/v1/answers", json=SSO_QUESTION).json()
    assert body["announcements"] == []


def test_an_announcement_the_question_does_not_match_is_not_given(site: TestClient) -> None:
    with time_machine.travel(DURING, tick=False):
        body = site.post("/v1/answers", json={"question": "How do I sign in with single sign-on?"}).json()
    assert [a["article_id"] for a in body["announcements"]] in ([], ["sign-in-incident"])
    assert "exports-maintenance" not in str(body["announcements"])


def test_an_agents_suggestions_put_a_matching_active_announcement_first(site: TestClient) -> None:
    ticket = {"subject": "Cannot sign in", "body": "Signing in with single sign-on shows error E2001 since this morning."}
    with time_machine.travel(DURING, tick=False):
        during = site.post("/v1/suggestions", json=ticket, headers=key(site, "agent")).json()["suggestions"]
    assert during[0]["id"] == "sign-in-incident" and during[0]["announcement"]["active"] is True
    with time_machine.travel(AFTER, tick=False):
        after = site.post("/v1/suggestions", json=ticket, headers=key(site, "agent")).json()["suggestions"]
    past = next(s for s in after if s["id"] == "sign-in-incident")
    assert past["announcement"]["active"] is False
    assert all(s["announcement"] is None for s in after if s["id"] != "sign-in-incident" and s["id"] != "exports-maintenance")


def test_the_article_api_describes_an_announcements_window(site: TestClient) -> None:
    with time_machine.travel(DURING, tick=False):
        body = site.get("/v1/articles/exports-maintenance").json()
    assert body["announcement"] == {
        "severity": "maintenance", "starts": "2026-12-06T08:00:00+09:00", "ends": "2026-12-07T00:00:00Z", "active": True,
    }  # fmt: skip
    assert site.get("/v1/articles/sso-sign-in").json()["announcement"] is None
