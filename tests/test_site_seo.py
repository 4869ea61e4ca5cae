"""What search engines and link previews read: sitemap.xml, robots.txt, canonical and hreflang links, Open
Graph and JSON-LD — only ever about pages a public reader may open."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from kb.access import PUBLIC
from kb.core import Settings
from tests.conftest import article_text, served_kb
from tests.test_site_pages import HIDDEN

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
ORIGIN = "http://testserver"


def sitemap_entries(client: TestClient) -> dict[str, ElementTree.Element]:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    root = ElementTree.fromstring(response.content)
    return {url.findtext("s:loc", namespaces=NS) or "": url for url in root.findall("s:url", NS)}


def head_links(html: str, rel: str) -> dict[str, str]:
    """``<link rel=… hreflang=… href=…>`` of a page, by hreflang (canonical under "")."""
    found = re.findall(rf'<link rel="{rel}"(?: hreflang="([^"]+)")? href="([^"]+)">', html)
    return dict(found)


def meta_property(html: str, name: str) -> list[str]:
    return re.findall(rf'<meta (?:property|name)="{re.escape(name)}" content="([^"]*)">', html)


def structured_data(html: str) -> list[dict]:
    return [json.loads(block) for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html)]


def test_sitemap_lists_every_public_article_in_each_locale(client: TestClient) -> None:
    entries = sitemap_entries(client)
    public = served_kb(client).articles(view=PUBLIC)
    assert public
    for article in public:
        assert f"{ORIGIN}/hc/{article.locale}/articles/{article.id}" in entries


def test_sitemap_lists_no_hidden_or_draft_article(client: TestClient) -> None:
    entries = sitemap_entries(client)
    for locale, article_id in HIDDEN:
        assert f"{ORIGIN}/hc/{locale}/articles/{article_id}" not in entries
    assert not any(article_id in loc for _, article_id in HIDDEN for loc in entries)


def test_sitemap_lastmod_is_the_articles_last_commit(client: TestClient) -> None:
    article = served_kb(client).article("reset-password", locale="en", view=PUBLIC)
    assert article is not None and article.updated_at is not None
    entry = sitemap_entries(client)[f"{ORIGIN}/hc/en/articles/reset-password"]
    assert datetime.fromisoformat(entry.findtext("s:lastmod", namespaces=NS) or "") == article.updated_at.replace(microsecond=0)


def test_sitemap_links_each_article_to_its_translations(client: TestClient) -> None:
    entry = sitemap_entries(client)[f"{ORIGIN}/hc/ja/articles/reset-password"]
    alternates = {link.get("hreflang"): link.get("href") for link in entry.findall("x:link", NS)}
    assert alternates == {"en": f"{ORIGIN}/hc/en/articles/reset-password", "ja": f"{ORIGIN}/hc/ja/articles/reset-password"}


def test_sitemap_lists_homes_and_categories(client: TestClient) -> None:
    entries = sitemap_entries(client)
    assert {f"{ORIGIN}/hc/en", f"{ORIGIN}/hc/ja", f"{ORIGIN}/hc/en/categories/account"} <= entries.keys()


def test_robots_txt_points_at_the_sitemap_and_keeps_crawlers_off_search_and_the_api(client: TestClient) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert "User-agent: *" in lines
    assert {"Disallow: /hc/*/search", "Disallow: /v1/"} <= set(lines)
    assert f"Sitemap: {ORIGIN}/sitemap.xml" in lines


def test_article_page_names_its_canonical_address_and_every_translation(client: TestClient) -> None:
    html = client.get("/hc/en/articles/reset-password").text
    assert head_links(html, "canonical") == {"": f"{ORIGIN}/hc/en/articles/reset-password"}
    assert head_links(html, "alternate") == {
        "en": f"{ORIGIN}/hc/en/articles/reset-password",
        "ja": f"{ORIGIN}/hc/ja/articles/reset-password",
        "x-default": f"{ORIGIN}/hc/en/articles/reset-password",
    }


def test_article_page_carries_open_graph_and_twitter_card_metadata(client: TestClient) -> None:
    html = client.get("/hc/ja/articles/reset-password").text
    title = served_kb(client).article("reset-password", locale="ja", view=PUBLIC).title  # type: ignore[union-attr]
    assert meta_property(html, "og:type") == ["article"]
    assert meta_property(html, "og:title") == [title]
    assert meta_property(html, "og:url") == [f"{ORIGIN}/hc/ja/articles/reset-password"]
    assert meta_property(html, "og:locale") == ["ja_JP"] and meta_property(html, "og:locale:alternate") == ["en_US"]
    assert meta_property(html, "og:description") and meta_property(html, "twitter:card") == ["summary"]


def test_article_page_describes_itself_as_a_schema_org_article_with_its_breadcrumb(client: TestClient) -> None:
    article, trail = structured_data(client.get("/hc/en/articles/reset-password").text)
    assert article["@type"] == "Article" and article["headline"] == "Reset your password"
    assert article["inLanguage"] == "en" and article["url"] == f"{ORIGIN}/hc/en/articles/reset-password"
    assert datetime.fromisoformat(article["dateModified"]).tzinfo is not None
    assert trail["@type"] == "BreadcrumbList"
    assert [item["item"] for item in trail["itemListElement"]] == [
        f"{ORIGIN}/hc/en",
        f"{ORIGIN}/hc/en/categories/account",
        f"{ORIGIN}/hc/en/articles/reset-password",
    ]


def test_search_and_error_pages_ask_not_to_be_indexed(client: TestClient) -> None:
    for url, status in (("/hc/en/search?q=password", 200), ("/hc/en/articles/no-such-article", 404)):
        response = client.get(url)
        assert response.status_code == status
        assert meta_property(response.text, "robots") == ["noindex"], url
    assert meta_property(client.get("/hc/en").text, "robots") == []


def test_home_page_links_its_other_language(client: TestClient) -> None:
    html = client.get("/hc/ja").text
    assert head_links(html, "canonical") == {"": f"{ORIGIN}/hc/ja"}
    assert head_links(html, "alternate") == {"en": f"{ORIGIN}/hc/en", "ja": f"{ORIGIN}/hc/ja", "x-default": f"{ORIGIN}/hc/en"}
    assert meta_property(html, "og:type") == ["website"]


FAQ = """Answers to what new customers ask most.

## Can I change my plan later?

Yes: upgrade or downgrade from **Billing** at any time.

## Do you offer refunds?

Within 14 days of a charge.

### For annual plans

Pro-rated after 14 days.
"""


def test_a_page_of_questions_is_a_schema_org_faq_page(make_client) -> None:
    site = make_client({"en/faq.md": article_text("faq", "Billing questions", FAQ)})
    faq, _ = structured_data(site.get("/hc/en/articles/faq").text)
    assert faq["@type"] == "FAQPage"
    questions = {q["name"]: q["acceptedAnswer"]["text"] for q in faq["mainEntity"]}
    assert list(questions) == ["Can I change my plan later?", "Do you offer refunds?"]
    assert "Within 14 days" in questions["Do you offer refunds?"] and "Pro-rated" in questions["Do you offer refunds?"]


def test_an_article_only_in_english_names_no_japanese_alternate(make_client) -> None:
    site = make_client()
    html = site.get("/hc/en/articles/start").text
    assert set(head_links(html, "alternate")) == {"en", "x-default"}
    assert meta_property(html, "og:locale:alternate") == []


def test_a_title_cannot_close_the_structured_data_script(make_client) -> None:
    title = 'Tags </script><script>alert(1)</script> & "quotes"'
    site = make_client({"en/hostile.md": article_text("hostile", title, "Body text.")})
    html = site.get("/hc/en/articles/hostile").text
    assert "<script>alert(1)" not in html
    article, _ = structured_data(html)
    assert article["headline"] == title


def test_site_url_setting_is_the_origin_of_every_absolute_link(make_client) -> None:
    site = make_client(site_url="https://help.example.com/")
    assert head_links(site.get("/hc/en/articles/start").text, "canonical") == {"": "https://help.example.com/hc/en/articles/start"}
    assert "https://help.example.com/hc/en/articles/start" in sitemap_entries(site)
    assert "Sitemap: https://help.example.com/sitemap.xml" in site.get("/robots.txt").text


@pytest.mark.parametrize("value", ["help.example.com", "https://help.example.com/hc", "ftp://help.example.com", "https://"])
def test_site_url_must_be_an_origin(value: str) -> None:
    with pytest.raises(ValidationError, match="site_url"):
        Settings(site_url=value)


def test_sitemap_follows_a_new_commit(make_client) -> None:
    site = make_client()
    kb = served_kb(site)
    from tests.gitutil import commit_files

    when = datetime.now(timezone(timedelta(hours=9))).replace(microsecond=0)
    commit_files(kb.settings.content_path, {"en/new.md": article_text("new-page", "A new page", "Fresh text.")}, date=when)
    kb.refresh()
    entry = sitemap_entries(site)[f"{ORIGIN}/hc/en/articles/new-page"]
    assert datetime.fromisoformat(entry.findtext("s:lastmod", namespaces=NS) or "") == when
