"""Staff in the help center: a sign-in with an API key, and an article's staff view with its votes and comments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from kb.access import session_key, session_token
from kb.access.keys import create_key, revoke_key
from tests.conftest import article_text, served_kb

ARTICLE = "/hc/en/articles/export"
FILES = {
    "en/export.md": article_text("export", "Export your data", "## From the settings\n\nOpen Settings and choose Export."),
    "en/agents/refunds.md": article_text("refund-playbook", "Refund playbook", "Approve refunds under 500 EUR.", audience="agents"),
}


@pytest.fixture
def site(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(FILES, follow_redirects=False)


def sign_in(client: TestClient, role: str = "writer", *, return_to: str = ARTICLE) -> int:
    """Sign ``client`` in with a new key of ``role``; the key's id."""
    new = create_key(served_kb(client).engine, name=f"Dana ({role})", role=role)
    response = client.post("/hc/staff/signin", data={"key": new.secret, "return_to": return_to, "locale": "en"})
    assert response.status_code == 303, response.text
    return new.id


def vote(client: TestClient, outcome: str, **fields: str) -> None:
    response = client.post(f"{ARTICLE}/vote", data={"vote": outcome, **fields})
    assert response.status_code == 303, response.text


def test_a_staff_member_sees_an_articles_votes_reasons_and_comments(site: TestClient) -> None:
    vote(site, "not_helpful", reason="outdated", comment="The Export button moved to Data.")
    sign_in(site)
    page = site.get(ARTICLE).text
    assert "What readers said" in page
    assert "Not helpful (reader)" in page and "It is out of date" in page
    assert "The Export button moved to Data." in page
    assert "(current)" in page  # votes are counted per revision, the one shown marked


def test_readers_never_see_the_feedback(site: TestClient) -> None:
    vote(site, "not_helpful", reason="unclear", comment="Where is Settings?")
    page = site.get(ARTICLE).text
    assert "What readers said" not in page and "Where is Settings?" not in page


def test_a_new_vote_shows_on_the_staff_view_at_once(site: TestClient) -> None:
    sign_in(site)
    assert "No votes or feedback on this article yet." in site.get(ARTICLE).text
    site.cookies.delete("kb_votes")
    vote(site, "helpful")
    assert "Helpful (reader)" in site.get(ARTICLE).text


@pytest.mark.parametrize("path", [ARTICLE, "/hc/en", "/hc/en/search?q=refund", "/hc/en/categories/general"])
def test_a_staff_page_is_never_cached(site: TestClient, path: str) -> None:
    sign_in(site)
    response = site.get(path)
    assert response.headers["cache-control"] == "private, no-store" and "etag" not in response.headers


def test_staff_see_internal_articles_under_a_bar_that_says_so(site: TestClient) -> None:
    assert site.get("/hc/en/articles/refund-playbook").status_code == 404
    sign_in(site, "agent")
    page = site.get("/hc/en/articles/refund-playbook")
    assert page.status_code == 200 and "Staff view: internal articles and drafts are shown" in page.text


@pytest.mark.parametrize("role, status", [("bot", 403)])
def test_a_bot_key_is_refused_and_nothing_is_set(site: TestClient, role: str, status: int) -> None:
    new = create_key(served_kb(site).engine, name="helper", role=role)
    response = site.post("/hc/staff/signin", data={"key": new.secret, "locale": "en"})
    assert response.status_code == status and "A bot key reads as a customer" in response.text
    assert "kb_staff" not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize("key", ["", "kb_notakey", "kb_abcdefgh_" + "x" * 43])
def test_an_unknown_key_is_refused_naming_why(site: TestClient, key: str) -> None:
    response = site.post("/hc/staff/signin", data={"key": key, "locale": "en"})
    assert response.status_code == 401 and "That key is unknown, revoked or expired." in response.text
    assert 'aria-invalid="true"' in response.text


def test_the_sign_in_form_posted_from_another_site_is_refused(site: TestClient) -> None:
    new = create_key(served_kb(site).engine, name="Dana", role="writer")
    response = site.post("/hc/staff/signin", data={"key": new.secret}, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403 and "kb_staff" not in response.headers.get("set-cookie", "")


def test_sign_in_returns_only_to_a_page_of_this_help_center(site: TestClient) -> None:
    new = create_key(served_kb(site).engine, name="Dana", role="writer")
    response = site.post("/hc/staff/signin", data={"key": new.secret, "return_to": "https://evil.example/", "locale": "ja"})
    assert response.headers["location"] == "/hc/ja"


def test_the_cookie_holds_no_key_and_is_kept_to_the_help_center(site: TestClient) -> None:
    new = create_key(served_kb(site).engine, name="Dana", role="writer")
    response = site.post("/hc/staff/signin", data={"key": new.secret, "locale": "en"})
    cookie = response.headers["set-cookie"]
    assert new.secret not in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/hc" in cookie


def test_revoking_the_key_ends_its_sessions(site: TestClient) -> None:
    key_id = sign_in(site)
    revoke_key(served_kb(site).engine, key_id)
    response = site.get(ARTICLE)
    assert response.status_code == 401
    assert 'kb_staff=""' in response.headers["set-cookie"] or "kb_staff=;" in response.headers["set-cookie"]
    assert "What readers said" not in site.get(ARTICLE).text


def test_a_forged_session_is_refused(site: TestClient) -> None:
    key_id = sign_in(site)
    ends = int(dt.datetime.now(dt.UTC).timestamp()) + 3600
    site.cookies.clear()
    site.cookies.set("kb_staff", f"{key_id}.{ends}.{'0' * 64}")
    assert site.get(ARTICLE).status_code == 401


def test_a_session_ends_after_its_hours(site: TestClient) -> None:
    kb = served_kb(site)
    new = create_key(kb.engine, name="Dana", role="writer")
    token = session_token(new.record, secret=kb.session_secret)
    assert session_key(kb.engine, token, secret=kb.session_secret) is not None
    assert session_key(kb.engine, token, secret=kb.session_secret, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=13)) is None


def test_the_database_alone_cannot_forge_a_session(site: TestClient) -> None:
    """Whoever reads the keys' digests (a copy of the database) still lacks the secret kept outside it."""
    kb = served_kb(site)
    new = create_key(kb.engine, name="Dana", role="writer")
    site.cookies.set("kb_staff", session_token(new.record, secret=b"guessed from a database dump"))
    assert site.get(ARTICLE).status_code == 401


def test_the_session_secret_is_kept_in_the_data_folder_for_the_owner_only(site: TestClient) -> None:
    kb = served_kb(site)
    secret_file = kb.settings.data_dir / "session-secret"
    assert kb.session_secret == secret_file.read_text().strip().encode() and len(kb.session_secret) >= 32
    assert secret_file.stat().st_mode & 0o777 == 0o600


def test_staff_are_not_asked_to_vote(site: TestClient) -> None:
    sign_in(site)
    assert 'id="vote"' not in site.get(ARTICLE).text


def test_signing_out_from_another_site_is_refused(site: TestClient) -> None:
    sign_in(site)
    response = site.post("/hc/staff/signout", data={"locale": "en"}, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403 and "What readers said" in site.get(ARTICLE).text


def test_signing_out_leaves_the_staff_view(site: TestClient) -> None:
    sign_in(site)
    response = site.post("/hc/staff/signout", data={"locale": "en"})
    assert response.status_code == 303 and response.headers["location"] == "/hc/en"
    assert "What readers said" not in site.get(ARTICLE).text


def test_the_sign_in_page_is_in_the_readers_language(site: TestClient) -> None:
    page = site.get("/hc/staff/signin", params={"locale": "ja"})
    assert page.status_code == 200 and "スタッフのサインイン" in page.text and 'type="password"' in page.text


@pytest.mark.parametrize("value", ["%00", "%ED%A0%80", "%1B%5B2J", "k" * 100_000, "kb_" + "%CC%81" * 50])
def test_hostile_text_in_the_sign_in_form_is_refused_never_a_500(site: TestClient, value: str) -> None:
    """Sent as the browser would, percent-encoded (a lone surrogate as the bytes of one, %ED%A0%80)."""
    fields = {"key": "kb_x", "locale": "en", "return_to": ARTICLE}
    for field in fields:
        body = "&".join(f"{name}={value if name == field else text}" for name, text in fields.items())
        response = site.post("/hc/staff/signin", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert 400 <= response.status_code < 500, (field, response.status_code)
        assert "kb_staff" not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize("cookie", ["\x7f", "1.2.3", "9" * 40 + ".1." + "0" * 64, "-1.-1." + "0" * 64])
def test_a_malformed_staff_cookie_is_a_401_never_a_500(site: TestClient, cookie: str) -> None:
    site.cookies.set("kb_staff", cookie)
    assert site.get(ARTICLE).status_code == 401
