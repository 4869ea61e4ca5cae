"""redirect_from: an article whose id changed still answers at its old id, on the API and the site."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kb.access.keys import create_key
from tests.conftest import article_text, served_kb
from tests.problems import assert_problem


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client({
        "en/reset-password.md": article_text("reset-password", "Reset your password", "Use the link.",
                                             redirect_from="[password-help, forgot-password, start-here]"),
        "en/playbook.md": article_text("playbook", "Playbook", "Internal.", audience="agents",
                                       redirect_from="[old-playbook]"),
        "en/start-here.md": article_text("start-here", "Start here", "Welcome."),
    }, follow_redirects=False)


def test_an_old_id_on_the_api_is_a_permanent_redirect_to_the_article(client: TestClient) -> None:
    response = client.get("/v1/articles/password-help", params={"locale": "en"})
    assert response.status_code == 308
    assert response.headers["location"] == "/v1/articles/reset-password?locale=en"
    assert client.get(response.headers["location"]).json()["id"] == "reset-password"


def test_an_old_id_without_a_locale_redirects_too(client: TestClient) -> None:
    response = client.get("/v1/articles/forgot-password")
    assert response.status_code == 308 and response.headers["location"].startswith("/v1/articles/reset-password")


def test_an_old_url_on_the_site_is_a_301_to_the_article_page(client: TestClient) -> None:
    response = client.get("/hc/en/articles/password-help")
    assert response.status_code == 301 and response.headers["location"] == "/hc/en/articles/reset-password"


def test_a_live_article_wins_over_another_articles_redirect(client: TestClient) -> None:
    response = client.get("/v1/articles/start-here")
    assert response.status_code == 200 and response.json()["id"] == "start-here"
    assert client.get("/hc/en/articles/start-here").status_code == 200


def test_a_hidden_article_holding_or_claiming_an_old_id_does_not_change_the_answer(make_client) -> None:
    """Whether an internal article has the id, or lists it first, must not show: the redirect is chosen among visible ones."""
    client = make_client({
        "en/a-internal.md": article_text("reset-password", "Internal reset runbook", "Staff only.", audience="agents",
                                         redirect_from="[password-help]"),
        "en/b-public.md": article_text("account-recovery", "Recover your account", "Use the link.",
                                       redirect_from="[reset-password, password-help]"),
    }, follow_redirects=False)
    for old in ("reset-password", "password-help"):
        response = client.get(f"/v1/articles/{old}", params={"locale": "en"})
        assert response.status_code == 308, old
        assert response.headers["location"] == "/v1/articles/account-recovery?locale=en"
    agent = {"Authorization": "Bearer " + create_key(served_kb(client).engine, name="a", role="agent").secret}
    assert client.get("/v1/articles/reset-password", params={"locale": "en"}, headers=agent).json()["title"] == "Internal reset runbook"


def test_an_old_id_of_a_hidden_article_is_a_404_like_any_missing_one(client: TestClient) -> None:
    body = assert_problem(client.get("/v1/articles/old-playbook"), 404)
    assert "playbook" not in body["detail"].replace("old-playbook", "")
    assert client.get("/hc/en/articles/old-playbook").status_code == 404
