"""Internal, segment-only and draft articles reach no response: hits, counts, snippets, lookups, listings, errors."""

from __future__ import annotations

import itertools

import pytest

from kb.access.rules import PUBLIC


@pytest.fixture(scope="module")
def hidden(sample_kb) -> list:
    articles = [a for a in sample_kb.snapshot.articles if not PUBLIC.can_see(a)]
    assert {a.front.status for a in articles} >= {"draft"}
    assert any(a.audience == "agents" for a in articles) and any(isinstance(a.audience, tuple) for a in articles)
    return articles


def _markers(article) -> list[str]:
    """Strings that would betray the article: its id, its title, and a sentence only it contains."""
    lead = next(s.text for s in article.sections if s.text)
    return [article.id, article.title, lead.split("\n")[0][:60]]


def test_hidden_articles_are_never_search_hits(client, hidden) -> None:
    for article, mode, locale in itertools.product(hidden, ["keyword", "semantic", "hybrid"], [None, "en", "ja"]):
        for query in (article.title, _markers(article)[2], article.id.replace("-", " ")):
            params = {"q": query, "mode": mode, "limit": 50} | ({"locale": locale} if locale else {})
            body = client.get("/v1/search", params=params).text
            for marker in _markers(article):
                assert f'"id":"{article.id}"' not in body
                assert marker not in body or marker in query, (article.id, mode, locale, marker)


def test_hidden_articles_do_not_count_in_totals(client, sample_kb, hidden) -> None:
    for article in hidden:
        body = client.get("/v1/search", params={"q": article.title, "mode": "keyword", "limit": 50}).json()
        assert body["total"] == len(body["hits"]) or body["total"] > 50
        assert article.id not in {h["id"] for h in body["hits"]}
    public = [a for a in sample_kb.snapshot.articles if PUBLIC.can_see(a)]
    assert client.get("/readyz").json()["articles"] == len(public)


def test_hidden_article_lookup_is_indistinguishable_from_a_missing_one(client, hidden) -> None:
    for article in hidden:
        found = client.get(f"/v1/articles/{article.id}", params={"locale": article.locale})
        missing = client.get("/v1/articles/zz-missing", params={"locale": article.locale})
        assert found.status_code == missing.status_code == 404
        assert found.json() | {"detail": ""} == missing.json() | {"detail": ""}
        assert found.json()["detail"] == missing.json()["detail"].replace("zz-missing", article.id)


def test_hidden_articles_are_not_listed(client, hidden) -> None:
    listed = client.get("/v1/articles", params={"limit": 100}).text
    listed += client.get(client.get("/v1/articles", params={"limit": 100}).json()["next"] or "/v1/articles?limit=1").text
    for article in hidden:
        assert f'"id":"{article.id}"' not in listed and article.title not in listed


def test_links_to_hidden_articles_do_not_reveal_them(client, sample_kb, hidden) -> None:
    hidden_ids = {a.id for a in hidden}
    for article in (a for a in sample_kb.snapshot.articles if PUBLIC.can_see(a)):
        html = client.get(f"/v1/articles/{article.id}", params={"locale": article.locale}).json()["html"]
        assert not any(f"/articles/{hidden_id}" in html for hidden_id in hidden_ids), article.id
