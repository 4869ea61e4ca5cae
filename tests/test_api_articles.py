"""GET /v1/articles (cursor-paged) and /v1/articles/{id}; health and OpenAPI."""

from __future__ import annotations

from tests.problems import assert_problem


def test_article_lookup_returns_metadata_html_and_sections(client) -> None:
    body = client.get("/v1/articles/reset-password", params={"locale": "en"}).json()
    assert body["id"] == "reset-password" and body["locale"] == "en" and body["category"] == "account"
    assert "<h2" in body["html"] and "<script" not in body["html"]
    anchors = [s["anchor"] for s in body["sections"] if s["anchor"]]
    assert anchors and all(f'id="{anchor}"' in body["html"] for anchor in anchors)
    assert {"locale": "ja", "url": "/hc/ja/articles/reset-password"} in body["translations"]
    assert len(body["revision"]) == 40 and body["updated_at"]


def test_article_without_locale_defaults_to_english(client) -> None:
    assert client.get("/v1/articles/reset-password").json()["locale"] == "en"


def test_japanese_article_is_served_in_japanese(client) -> None:
    body = client.get("/v1/articles/reset-password", params={"locale": "ja"}).json()
    assert body["locale"] == "ja" and "パスワード" in body["title"]


def test_links_between_articles_point_at_their_pages(client) -> None:
    html = client.get("/v1/articles/e2001-saml-assertion-invalid", params={"locale": "en"}).json()["html"]
    assert 'href="/hc/en/articles/single-sign-on-saml' in html
    assert ".md" not in html


def test_missing_article_is_a_problem_404(client) -> None:
    assert_problem(client.get("/v1/articles/no-such-article"), 404)


def test_unknown_locale_on_lookup_is_a_422(client) -> None:
    assert_problem(client.get("/v1/articles/reset-password", params={"locale": "xx"}), 422, field="locale")


def test_listing_pages_with_a_cursor_and_a_link_header(client) -> None:
    first = client.get("/v1/articles", params={"limit": 5})
    assert len(first.json()["items"]) == 5
    assert first.headers["link"] == f'<{first.json()["next"]}>; rel="next"'
    second = client.get(first.json()["next"]).json()
    keys = [(i["id"], i["locale"]) for i in first.json()["items"] + second["items"]]
    assert keys == sorted(keys) and len(set(keys)) == 10


def test_walking_every_page_lists_each_public_article_once(client, sample_kb) -> None:
    seen, url = [], "/v1/articles?limit=7"
    while url:
        page = client.get(url).json()
        seen += [(i["id"], i["locale"]) for i in page["items"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == client.get("/readyz").json()["articles"]


def test_listing_filters_by_locale_and_category(client) -> None:
    items = client.get("/v1/articles", params={"locale": "ja", "category": "billing", "limit": 100}).json()["items"]
    assert items and all(i["locale"] == "ja" and i["category"] == "billing" for i in items)


def test_bad_cursor_and_bad_limit_are_422s(client) -> None:
    assert_problem(client.get("/v1/articles", params={"cursor": "%%%"}), 422, field="cursor")
    assert_problem(client.get("/v1/articles", params={"limit": 1000}), 422, field="limit")


def test_readyz_reports_the_commit_and_counts(client) -> None:
    body = client.get("/readyz").json()
    assert body["status"] == "ready" and len(body["commit"]) == 40
    assert body["articles"] > 40 and body["chunks"] > body["articles"]


def test_healthz_answers(client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_openapi_documents_the_endpoints(client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/search", "/v1/articles", "/v1/articles/{article_id}", "/readyz"} <= set(paths)
    assert client.get("/docs").status_code == 200
