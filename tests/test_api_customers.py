"""Signed-in customers: tokens from the company's login, their segments, and every way a token can be wrong."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kb.access.keys import create_key
from kb.access.tokens import issue_customer_token
from kb.cli import app as cli
from tests.conftest import JWT_SECRET, article_text, served_kb
from tests.problems import assert_problem

ARTICLES = {
    ".kb/access.yml": "segments:\n  enterprise: Enterprise plan\n  beta: Private beta\n",
    "en/public.md": article_text("quokka-basics", "Quokka basics", "Every quokka workspace starts here."),
    "en/members.md": article_text("quokka-seats", "Quokka seats", "Signed-in quokka owners manage seats.", audience="signed_in"),
    "en/enterprise.md": article_text("quokka-saml", "Quokka SAML", "Enterprise quokka single sign-on.", audience="[enterprise]"),
    "en/beta.md": article_text("quokka-labs", "Quokka labs", "Beta quokka summaries.", audience="[beta]"),
    "en/draft.md": article_text("quokka-next", "Quokka next", "Unreleased quokka plans.", audience="signed_in", status="draft"),
}


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client(ARTICLES, jwt_secret=JWT_SECRET)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def customer(*segments: str, **options: Any) -> dict[str, str]:
    return bearer(issue_customer_token(secret=JWT_SECRET, subject="alice", segments=segments, **options))


def found(client: TestClient, headers: dict[str, str]) -> set[str]:
    body = client.get("/v1/search", params={"q": "quokka", "mode": "keyword", "limit": 50}, headers=headers).json()
    return {hit["id"] for hit in body["hits"]}


def signed(claims: dict[str, object], secret: str = JWT_SECRET, algorithm: str = "HS256") -> dict[str, str]:
    return bearer(jwt.encode(claims, secret, algorithm=algorithm))


def in_an_hour() -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)


def test_a_signed_in_customer_reads_signed_in_articles(client: TestClient) -> None:
    assert found(client, {}) == {"quokka-basics"}
    assert found(client, customer()) == {"quokka-basics", "quokka-seats"}


def test_a_segment_opens_its_own_articles_and_no_others(client: TestClient) -> None:
    assert found(client, customer("enterprise")) == {"quokka-basics", "quokka-seats", "quokka-saml"}
    assert found(client, customer("beta", "enterprise")) == {"quokka-basics", "quokka-seats", "quokka-saml", "quokka-labs"}
    assert client.get("/v1/articles/quokka-saml", headers=customer("beta")).status_code == 404
    assert client.get("/v1/articles/quokka-saml", headers=customer("enterprise")).status_code == 200


def test_customers_never_see_drafts_whatever_their_segments(client: TestClient) -> None:
    assert "quokka-next" not in found(client, customer("enterprise", "beta"))
    assert client.get("/v1/articles/quokka-next", headers=customer("enterprise")).status_code == 404


def test_an_expired_token_is_a_401_not_anonymous_access(client: TestClient) -> None:
    expired = customer("enterprise", lifetime=dt.timedelta(minutes=-5))
    body = assert_problem(client.get("/v1/search", params={"q": "quokka"}, headers=expired), 401)
    assert "expired" in body["detail"]


def test_a_token_signed_with_another_secret_is_a_401(client: TestClient) -> None:
    forged = signed({"sub": "mallory", "segments": ["enterprise"], "exp": in_an_hour()}, secret="x" * 40)
    body = assert_problem(client.get("/v1/articles/quokka-saml", headers=forged), 401)
    assert "signature" in body["detail"]


@pytest.mark.parametrize(
    ("claims", "words"),
    [
        ({"segments": ["enterprise"], "exp": "later"}, "sub"),
        ({"sub": "alice", "segments": ["enterprise"]}, "exp"),
        ({"sub": "alice", "segments": "enterprise", "exp": "later"}, "segments"),
        ({"sub": "alice", "segments": ["Enterprise Plan"], "exp": "later"}, "segments"),
        ({"sub": "alice", "exp": "later", "nbf": "later"}, "not valid yet"),
    ],
)
def test_a_token_with_missing_or_malformed_claims_is_a_401_naming_the_claim(client: TestClient, claims: dict, words: str) -> None:
    claims = {name: (in_an_hour() if value == "later" else value) for name, value in claims.items()}
    body = assert_problem(client.get("/v1/search", params={"q": "quokka"}, headers=signed(claims)), 401)
    assert words in body["detail"]


def test_an_unsigned_or_differently_signed_token_is_refused(client: TestClient) -> None:
    claims = {"sub": "mallory", "segments": ["enterprise"], "exp": in_an_hour()}
    unsigned = jwt.encode(claims, "", algorithm="none")  # PyJWT reads "" as no key: the token is unsigned
    assert_problem(client.get("/v1/search", params={"q": "quokka"}, headers=bearer(unsigned)), 401)
    hs512 = signed(claims, algorithm="HS512")
    assert "HS256" in assert_problem(client.get("/v1/search", params={"q": "quokka"}, headers=hs512), 401)["detail"]


@pytest.mark.parametrize("token", ["not-a-token", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30", "é" * 20])
def test_garbage_in_place_of_a_token_is_a_401_never_a_500(client: TestClient, token: str) -> None:
    assert_problem(client.get("/v1/search", params={"q": "quokka"}, headers={b"Authorization": f"Bearer {token}".encode()}), 401)


def test_audience_and_issuer_are_checked_when_configured(make_client) -> None:
    client = make_client(ARTICLES, jwt_secret=JWT_SECRET, jwt_audience="help-center", jwt_issuer="https://login.example.net")
    good = customer("enterprise", audience="help-center", issuer="https://login.example.net")
    assert "quokka-saml" in found(client, good)
    wrong_audience = customer("enterprise", audience="billing", issuer="https://login.example.net")
    assert "aud" in assert_problem(client.get("/v1/search", params={"q": "q"}, headers=wrong_audience), 401)["detail"]
    no_issuer = customer("enterprise", audience="help-center")
    assert "iss" in assert_problem(client.get("/v1/search", params={"q": "q"}, headers=no_issuer), 401)["detail"]


def test_customer_tokens_are_refused_while_kb_has_no_jwt_secret(make_client) -> None:
    client = make_client(ARTICLES)
    body = assert_problem(client.get("/v1/search", params={"q": "quokka"}, headers=customer("enterprise")), 401)
    assert "KB_JWT_SECRET" in body["detail"]


def test_a_bot_answering_a_customer_reads_as_that_customer(client: TestClient) -> None:
    bot = bearer(create_key(served_kb(client).engine, name="chatbot", role="bot").secret)
    assert found(client, bot) == {"quokka-basics"}
    forwarded = bot | {"X-KB-Customer-Token": customer("enterprise")["Authorization"].removeprefix("Bearer ")}
    assert found(client, forwarded) == {"quokka-basics", "quokka-seats", "quokka-saml"}


def test_a_bot_forwarding_a_bad_customer_token_is_refused(client: TestClient) -> None:
    bot = bearer(create_key(served_kb(client).engine, name="chatbot", role="bot").secret)
    expired = customer(lifetime=dt.timedelta(minutes=-5))["Authorization"].removeprefix("Bearer ")
    body = assert_problem(client.get("/v1/search", params={"q": "q"}, headers=bot | {"X-KB-Customer-Token": expired}), 401)
    assert "X-KB-Customer-Token" in body["detail"]


def test_only_bot_keys_may_forward_a_customer_token(client: TestClient) -> None:
    agent = bearer(create_key(served_kb(client).engine, name="helpdesk", role="agent").secret)
    token = customer()["Authorization"].removeprefix("Bearer ")
    assert_problem(client.get("/v1/search", params={"q": "q"}, headers=agent | {"X-KB-Customer-Token": token}), 400)


def test_each_segment_gets_its_own_totals_from_one_cached_snapshot(client: TestClient) -> None:
    """Allow-lists are cached per view: the second reader must not get the first one's."""
    params: dict[str, str | int] = {"q": "quokka", "mode": "keyword", "limit": 50}
    enterprise = client.get("/v1/search", params=params, headers=customer("enterprise")).json()
    beta = client.get("/v1/search", params=params, headers=customer("beta")).json()
    anonymous = client.get("/v1/search", params=params).json()
    assert (enterprise["total"], beta["total"], anonymous["total"]) == (3, 3, 1)
    assert enterprise["facets"]["locale"] == {"en": 3}


def test_segment_names_follow_one_rule_in_articles_and_tokens(make_client) -> None:
    """Underscores are allowed in both places; the audience keywords can never be segments."""
    client = make_client({
        ".kb/access.yml": "segments:\n  early_access: Early access\n",
        "en/early.md": article_text("quokka-early", "Quokka early", "Early quokka access.", audience="[early_access]"),
        "en/sneaky.md": article_text("quokka-sneaky", "Quokka sneaky", "Internal quokka notes.", audience="[agents]"),
    }, jwt_secret=JWT_SECRET)
    assert "quokka-early" in found(client, customer("early_access"))
    assert client.get("/v1/articles/quokka-sneaky", headers=customer("agents")).status_code == 404  # not indexed
    assert any(error.path == "en/sneaky.md" for error in served_kb(client).snapshot.errors)


def test_kb_token_signs_what_the_api_accepts(client: TestClient, tmp_path) -> None:
    env = {"KB_DATA_DIR": str(tmp_path), "KB_JWT_SECRET": JWT_SECRET}
    result = CliRunner().invoke(cli, ["token", "--sub", "bob", "--segments", "enterprise, beta"], env=env)
    assert result.exit_code == 0, result.output
    signed = result.stdout.strip().splitlines()[0]
    assert "/hc/session?jwt=" in result.stderr
    assert found(client, bearer(signed)) == {"quokka-basics", "quokka-seats", "quokka-saml", "quokka-labs"}


def test_kb_token_without_a_secret_or_with_a_bad_lifetime_says_so(tmp_path) -> None:
    unset = CliRunner().invoke(cli, ["token", "--sub", "bob"], env={"KB_DATA_DIR": str(tmp_path), "KB_JWT_SECRET": ""})
    assert unset.exit_code == 2 and "KB_JWT_SECRET" in unset.output
    bad = CliRunner().invoke(cli, ["token", "--sub", "bob", "--expires-in", "soon"], env={"KB_JWT_SECRET": JWT_SECRET})
    assert bad.exit_code == 2 and "--expires-in" in bad.output
