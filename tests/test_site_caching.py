"""Article pages are rendered once per commit, locale, view and what they show, and carry an ETag, so a
reader's browser revalidates for a 304 until something the page shows changes."""

from __future__ import annotations

import datetime as dt

import time_machine
from fastapi.testclient import TestClient

from kb.access.tokens import issue_customer_token
from tests.conftest import JWT_SECRET, article_text, served_kb
from tests.gitutil import commit_files

ARTICLES = {
    "en/guide.md": article_text("guide", "Export a project", "Choose Export in the project menu."),
    "en/notice.md": article_text(
        "notice", "Exports paused tonight", "Exports are paused during maintenance.",
        kind="announcement", severity="maintenance", starts="2026-12-06T20:00:00Z", ends="2026-12-06T22:00:00Z",
    ),
    "en/vip.md": article_text("vip", "Enterprise exports", "Scheduled exports.", audience="[enterprise]"),
}  # fmt: skip


def test_an_article_page_carries_an_etag_and_asks_browsers_to_revalidate(make_client) -> None:
    site = make_client(ARTICLES)
    page = site.get("/hc/en/articles/guide")
    assert page.headers["etag"].startswith('"') and page.headers["cache-control"] == "no-cache"
    again = site.get("/hc/en/articles/guide")
    assert again.headers["etag"] == page.headers["etag"] and again.content == page.content


def test_an_unchanged_page_answers_304_without_a_body(make_client) -> None:
    site = make_client(ARTICLES)
    etag = site.get("/hc/en/articles/guide").headers["etag"]
    unchanged = site.get("/hc/en/articles/guide", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b"" and unchanged.headers["etag"] == etag
    assert site.get("/hc/en/articles/guide", headers={"If-None-Match": '"something-else"'}).status_code == 200


def test_a_new_commit_changes_the_page_and_its_etag(make_client) -> None:
    site = make_client(ARTICLES)
    before = site.get("/hc/en/articles/guide")
    kb = served_kb(site)
    commit_files(kb.settings.content_path, {"en/guide.md": article_text("guide", "Export a project", "Choose Export, then CSV.")})
    kb.refresh()
    after = site.get("/hc/en/articles/guide", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and "then CSV" in after.text and after.headers["etag"] != before.headers["etag"]


def test_an_announcement_opening_changes_the_page(make_client) -> None:
    site = make_client(ARTICLES)
    with time_machine.travel(dt.datetime(2026, 12, 6, 19, 0, tzinfo=dt.UTC)):
        quiet = site.get("/hc/en/articles/guide")
    with time_machine.travel(dt.datetime(2026, 12, 6, 21, 0, tzinfo=dt.UTC)):
        during = site.get("/hc/en/articles/guide", headers={"If-None-Match": quiet.headers["etag"]})
    assert during.status_code == 200 and '<aside class="announcements"' in during.text
    assert '<aside class="announcements"' not in quiet.text


def test_a_signed_in_readers_page_is_never_anyone_elses(make_client) -> None:
    site = make_client(ARTICLES, jwt_secret=JWT_SECRET)
    anonymous = site.get("/hc/en/articles/guide")
    token = issue_customer_token(secret=JWT_SECRET, subject="alice", segments=("enterprise",))
    signed_in = site.get("/hc/en/articles/guide", headers={"Authorization": f"Bearer {token}"})
    assert signed_in.headers["etag"] != anonymous.headers["etag"]
    assert signed_in.headers["cache-control"] == "private, no-store"
    again = site.get("/hc/en/articles/guide", headers={"If-None-Match": signed_in.headers["etag"]})
    assert again.status_code == 200 and again.content == anonymous.content


def test_a_page_in_another_language_or_vote_state_is_its_own(client: TestClient) -> None:
    tags = {client.get(url).headers["etag"] for url in (
        "/hc/en/articles/reset-password", "/hc/ja/articles/reset-password", "/hc/en/articles/reset-password?voted=thanks",
    )}  # fmt: skip
    assert len(tags) == 3
