"""Two languages on the site: the language switch, articles offered before they are translated, and
translations that have fallen behind their original."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from tests.conftest import article_text, served_kb
from tests.gitutil import commit_files


def switch_link(html: str, locale: str) -> str:
    found = re.search(rf'<a href="([^"]+)" hreflang="{locale}" lang="{locale}"', html)
    assert found is not None
    return found.group(1)


def test_the_language_switch_lands_on_the_same_article_when_it_is_translated(client: TestClient) -> None:
    assert switch_link(client.get("/hc/en/articles/reset-password").text, "ja") == "/hc/ja/articles/reset-password"


def test_the_language_switch_lands_on_that_languages_home_with_a_note_otherwise(client: TestClient) -> None:
    target = switch_link(client.get("/hc/en/articles/tax-and-vat").text, "ja")
    assert target == "/hc/ja?untranslated=1"
    assert "お探しのページは日本語では提供されていないため" in client.get(target).text
    assert "お探しのページ" not in client.get("/hc/ja").text


def test_an_untranslated_article_is_offered_in_the_default_language_with_a_note(client: TestClient) -> None:
    page = client.get("/hc/ja/articles/tax-and-vat")
    assert page.status_code == 200
    html = page.text
    assert '<html lang="ja">' in html and 'class="article" aria-labelledby="article-title" lang="en"' in html
    assert "この記事はまだ日本語に翻訳されていないため、英語で表示しています。" in html
    assert '<link rel="canonical" href="http://testserver/hc/en/articles/tax-and-vat">' in html
    assert '<meta name="robots" content="noindex">' in html


def test_a_languages_listings_offer_untranslated_articles_marked_with_their_language(client: TestClient) -> None:
    html = client.get("/hc/ja/categories/billing").text
    assert '<a href="/hc/ja/articles/tax-and-vat" lang="en">Sales tax, VAT and tax IDs</a> <span class="language-label">英語</span>' in html
    assert '<a href="/hc/ja/articles/update-payment-method">' in html, "a translated article is listed in the page's language"
    assert "language-label" not in client.get("/hc/en/categories/billing").text


def test_an_article_hidden_in_every_language_is_not_offered_in_another(client: TestClient) -> None:
    assert client.get("/hc/ja/articles/data-residency").status_code == 404  # en only, for the enterprise segment


def test_a_vote_on_an_untranslated_article_counts_for_the_article_shown(client: TestClient) -> None:
    from tests.conftest import served_app

    voter = TestClient(served_app(client), follow_redirects=False)
    response = voter.post("/hc/ja/articles/tax-and-vat/vote", data={"vote": "helpful"})
    assert response.status_code == 303 and response.headers["location"].startswith("/hc/ja/articles/tax-and-vat")


def test_a_translation_older_than_its_original_says_so_with_the_originals_date(make_client) -> None:
    early = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    later = datetime(2026, 5, 20, 10, 0, tzinfo=UTC)
    site = make_client()
    repo = served_kb(site).settings.content_path
    commit_files(repo, {"en/plan.md": article_text("plan", "Plans", "Three plans."),
                        "ja/plan.md": article_text("plan", "プラン", "3 つのプラン。")}, date=early)  # fmt: skip
    commit_files(repo, {"en/plan.md": article_text("plan", "Plans", "Four plans now.")}, date=later)
    served_kb(site).refresh()
    html = site.get("/hc/ja/articles/plan").text
    assert "この翻訳は最新ではない可能性があります。原文（英語）は2026年5月20日に更新されました。" in html
    assert '<a href="/hc/en/articles/plan" hreflang="en">原文を読む</a>' in html
    assert "translation-note" not in site.get("/hc/en/articles/plan").text, "the original is never behind itself"
    commit_files(repo, {"ja/plan.md": article_text("plan", "プラン", "4 つのプラン。")}, date=later.replace(day=21))
    served_kb(site).refresh()
    assert "translation-note" not in site.get("/hc/ja/articles/plan").text
