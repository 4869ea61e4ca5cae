"""Customers on the help-center site: signed in through /hc/session, their articles shown, signed out on expiry."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from api.deps import SESSION_COOKIE
from kb.access.tokens import issue_customer_token
from tests.conftest import JWT_SECRET, article_text

ARTICLES = {
    ".kb/access.yml": "segments:\n  enterprise: Enterprise plan\n",
    "en/public.md": article_text("quokka-basics", "Quokka basics", "Every quokka workspace starts here.", category="start"),
    "en/enterprise.md": article_text(
        "quokka-saml", "Quokka SAML", "Enterprise quokka single sign-on.", audience="[enterprise]", category="start"
    ),
}


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client(ARTICLES, jwt_secret=JWT_SECRET, follow_redirects=False)


def token(*segments: str, lifetime: dt.timedelta = dt.timedelta(hours=1)) -> str:
    return issue_customer_token(secret=JWT_SECRET, subject="alice", segments=segments, lifetime=lifetime)


def test_signing_in_sets_an_http_only_cookie_and_returns_to_the_page(client: TestClient) -> None:
    response = client.get("/hc/session", params={"jwt": token("enterprise"), "return_to": "/hc/en/articles/quokka-saml"})
    assert response.status_code == 307
    assert response.headers["location"] == "/hc/en/articles/quokka-saml"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie


@pytest.mark.parametrize("target", ["https://evil.example/hc", "//evil.example/hc", "/\\evil.example", "/v1/articles"])
def test_signing_in_never_sends_the_reader_off_the_help_center(client: TestClient, target: str) -> None:
    response = client.get("/hc/session", params={"jwt": token(), "return_to": target})
    assert response.headers["location"] == "/hc/en"


def test_a_signed_in_customer_sees_their_segments_articles_on_the_site(client: TestClient) -> None:
    assert client.get("/hc/en/articles/quokka-saml").status_code == 404
    client.get("/hc/session", params={"jwt": token("enterprise")})
    page = client.get("/hc/en/articles/quokka-saml")
    assert page.status_code == 200 and "Quokka SAML" in page.text
    assert "Quokka SAML" in client.get("/hc/en/categories/start").text
    assert "quokka-saml" in client.get("/v1/search", params={"q": "quokka", "locale": "en", "limit": 5}).text  # search.js
    assert "/hc/signout" in page.text


def test_an_expired_session_gets_a_401_page_that_signs_the_reader_out(client: TestClient) -> None:
    client.cookies.set(SESSION_COOKIE, token("enterprise", lifetime=dt.timedelta(minutes=-5)))
    page = client.get("/hc/ja/articles/quokka-saml")
    assert page.status_code == 401
    assert page.headers["content-type"].startswith("text/html")
    assert "もう一度サインインしてください" in page.text
    assert f'{SESSION_COOKIE}=""' in page.headers["set-cookie"] and "Max-Age=0" in page.headers["set-cookie"]
    assert "Quokka SAML" not in page.text


def test_a_bad_token_at_sign_in_is_a_401_page_and_sets_no_cookie(client: TestClient) -> None:
    page = client.get("/hc/session", params={"jwt": "not-a-token"})
    assert page.status_code == 401 and "Please sign in again" in page.text
    assert f"{SESSION_COOKIE}=\"\"" in page.headers["set-cookie"]


def test_signing_out_clears_the_cookie(client: TestClient) -> None:
    client.get("/hc/session", params={"jwt": token("enterprise")})
    response = client.get("/hc/signout", params={"locale": "ja"})
    assert response.headers["location"] == "/hc/ja"
    assert "Max-Age=0" in response.headers["set-cookie"]
    assert client.get("/hc/en/articles/quokka-saml").status_code == 404


def test_a_return_address_that_cannot_be_parsed_goes_home(client: TestClient) -> None:
    response = client.get("/hc/session", params={"jwt": token(), "return_to": "//[x"})
    assert response.status_code == 307 and response.headers["location"] == "/hc/en"
    assert response.headers["cache-control"] == "no-store"
