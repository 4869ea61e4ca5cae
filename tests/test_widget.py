"""The in-product widget's side of the API: `contexts:` in front matter, GET /v1/widget for a product page,
and the script itself — over the sample help center, whose billing and data articles name their pages."""

from __future__ import annotations

import gzip

import pytest
from fastapi.testclient import TestClient

from api.site.routes import STATIC_DIR
from articles.contexts import match_strength
from articles.parse import InvalidArticle, parse_article
from kb.access.tokens import issue_customer_token
from tests.conftest import JWT_SECRET, article_text
from tests.problems import assert_problem

BILLING_PAGE = {"path": "/settings/billing", "areas": "billing,data-privacy"}
WIDGET_GZIP_BUDGET = 8 * 1024
"""The widget's whole script, gzipped as a server sends it: a small fraction of a product page's weight."""


def widget_ids(client: TestClient, *, token: str | None = None, **params: str) -> list[str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.get("/v1/widget", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [article["id"] for article in response.json()["articles"]]


# contexts: in front matter.


@pytest.mark.parametrize(
    ("contexts", "path", "areas", "strength"),
    [
        (("/settings/billing/**",), "/settings/billing", frozenset(), len("/settings/billing/")),
        (("/settings/billing/**",), "/settings/billing/invoices/7", frozenset(), len("/settings/billing/")),
        (("/settings/*",), "/settings/billing/invoices", frozenset(), 0),
        (("/projects/*/export",), "/projects/42/export", frozenset(), len("/projects//export")),
        (("billing",), "/anything", frozenset({"billing"}), len("billing")),
        (("billing",), "/settings/billing", frozenset(), 0),
    ],
)
def test_a_context_matches_a_page_by_path_glob_or_declared_area(contexts, path, areas, strength) -> None:
    assert match_strength(contexts, path=path, areas=areas) == strength


@pytest.mark.parametrize("bad", ["Billing", "settings/billing", "/settings billing", "/a\\b", ""])
def test_a_context_that_is_neither_a_path_nor_an_area_is_refused_naming_the_field(bad: str) -> None:
    text = article_text("help", "Help", "Text.", contexts=f'["{bad}"]')
    with pytest.raises(InvalidArticle) as refused:
        parse_article("en/help.md", text.encode())
    assert refused.value.error.field == "contexts"


# GET /v1/widget.


def test_the_widget_lists_the_articles_whose_contexts_match_the_page(client: TestClient) -> None:
    ids = widget_ids(client, locale="en", **BILLING_PAGE)
    assert {"change-your-plan", "update-payment-method", "download-invoices", "e3007-payment-declined", "data-encryption"} <= set(ids)
    assert "reset-password" not in ids


def test_the_most_specific_match_comes_first(make_client) -> None:
    site = make_client(
        {"en/any.md": article_text("any-settings", "Settings overview", "Text.", contexts="[/settings/**]"),
         "en/invoices.md": article_text("invoices", "Invoices", "Text.", contexts="[/settings/billing/invoices]"),
         "en/area.md": article_text("billing-area", "Billing", "Text.", contexts="[billing]")},
    )  # fmt: skip
    assert widget_ids(site, path="/settings/billing/invoices", areas="billing") == ["invoices", "any-settings", "billing-area"]
    assert widget_ids(site, path="/projects") == []


def test_an_articles_path_context_does_not_match_a_page_by_its_area(client: TestClient) -> None:
    assert "e3007-payment-declined" not in widget_ids(client, locale="en", path="/elsewhere", areas="billing")


def test_a_segment_article_shows_in_the_widget_only_with_that_customers_token(make_client) -> None:
    site = make_client(
        {"en/residency.md": article_text("residency", "Data region", "Text.", audience="[enterprise]", contexts="[data-privacy]"),
         "en/encryption.md": article_text("encryption", "Encryption at rest", "Text.", contexts="[data-privacy]")},
        jwt_secret=JWT_SECRET,
    )  # fmt: skip
    assert widget_ids(site, areas="data-privacy") == ["encryption"]
    token = issue_customer_token(secret=JWT_SECRET, subject="alice", segments=("enterprise",))
    assert set(widget_ids(site, token=token, areas="data-privacy")) == {"encryption", "residency"}


def test_the_widget_reads_the_readers_language_where_translated(client: TestClient) -> None:
    articles = client.get("/v1/widget", params={"locale": "ja", **BILLING_PAGE}).json()["articles"]
    locales = {article["id"]: article["locale"] for article in articles}
    assert locales["update-payment-method"] == "ja"
    assert locales["tax-and-vat"] == "en", "an article not yet translated is offered in the language it was written in"


def test_the_widget_links_to_the_help_center_in_its_language(client: TestClient) -> None:
    assert client.get("/v1/widget", params={"locale": "ja"}).json()["help_center"] == "/hc/ja"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"locale": "fr"}, "locale"),
        ({"path": "settings/billing"}, "path"),
        ({"path": "/" + "a" * 3000}, "path"),
        ({"areas": "Billing"}, "areas"),
        ({"areas": ",".join(f"a{n}" for n in range(30))}, "areas"),
        ({"path": "/x\x00y"}, "path"),
    ],
)
def test_bad_widget_parameters_are_refused_naming_them(client: TestClient, params: dict, field: str) -> None:
    assert_problem(client.get("/v1/widget", params=params), 422, field=field)


def test_a_page_listed_in_cors_origins_may_call_the_widget_api(make_client) -> None:
    site = make_client(cors_origins=("https://app.example.com",))
    allowed = site.get("/v1/widget", headers={"Origin": "https://app.example.com"})
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    other = site.get("/v1/widget", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


# The script.


def test_the_widget_script_is_served_as_javascript(client: TestClient) -> None:
    response = client.get("/hc/static/widget.js")
    assert response.status_code == 200 and "javascript" in response.headers["content-type"]


def test_the_widget_script_stays_small() -> None:
    script = (STATIC_DIR / "widget.js").read_bytes()
    assert len(gzip.compress(script, 9)) < WIDGET_GZIP_BUDGET
