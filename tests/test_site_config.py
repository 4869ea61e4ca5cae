""".kb/site.yml: the company's name, logo, colours, links, default language and categories — read from the
content repository at the served commit, checked by `kb check`, and never a reason for the site to fail."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from kb.core import SiteConfigError, parse_site_config
from kb.writing.checks import check_folder
from tests.conftest import article_text

SITE = """
name: {en: Acme Help, ja: Acme ヘルプ}
logo: .kb/logo.svg
colors: {brand: "#0f766e"}
default_locale: ja
contact: {label: {en: Contact us, ja: お問い合わせ}, url: "https://acme.example/contact"}
footer_links:
  - {label: Status, url: "https://status.acme.example"}
categories:
  - {slug: zeta, name: {en: Zeta first, ja: ゼータ}, description: {en: "The last letter, first."}}
  - {slug: alpha, name: Alpha}
"""
LOGO = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><rect width="8" height="8" fill="#0f766e"/></svg>'
ARTICLES = {
    "en/a.md": article_text("a", "In alpha", "Text.", category="alpha"),
    "en/z.md": article_text("z", "In zeta", "Text.", category="zeta"),
    "en/m.md": article_text("m", "In middle", "Text.", category="middle", promoted=2),
    "en/p.md": article_text("p", "Promoted first", "Text.", category="alpha", promoted=1),
    "ja/a.md": article_text("a", "アルファの記事", "本文。", category="alpha"),
}


@pytest.fixture
def site(make_client) -> TestClient:
    return make_client({".kb/site.yml": SITE, ".kb/logo.svg": LOGO, **ARTICLES}, follow_redirects=False)


def category_names(html: str) -> list[str]:
    return [name.strip() for name in re.findall(r'<h3 class="category-name">\s*(?:<a [^>]*>)?([^<]+)', html)]


# The file.


def test_no_site_file_means_the_defaults() -> None:
    site = parse_site_config(None)
    assert site.site_name("en") == "Help Center" and site.site_name("ja") == "ヘルプセンター" and site.default_locale == "en"


def test_a_text_missing_in_a_language_falls_back_to_the_default_one() -> None:
    site = parse_site_config(b"name: {en: Acme Help}\n")
    assert site.site_name("ja") == "Acme Help"


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ('colors: {brand: "#a5b4fc"}', "colors.brand", "contrast"),
        ('colors: {brand_on_dark: "#312e81"}', "colors.brand_on_dark", "contrast"),
        ("colors: {brand: teal}", "colors.brand", "#rrggbb"),
        ("logo: ../../etc/passwd.png", "logo", "content repository"),
        ("logo: .kb/logo.gif", "logo", "svg"),
        ("name: {fr: Aide}", "name", "unknown locale"),
        ("contact: {label: Help, url: 'javascript:alert(1)'}", "contact.url", "not a link"),
        ("categories: [{slug: a, name: A}, {slug: a, name: B}]", "categories", "more than once"),
        ("categories: [{slug: Billing Stuff, name: B}]", "categories.0.slug", "lowercase"),
        ("colours: {brand: '#000000'}", "colours", "Extra inputs"),
        ("default_locale: fr", "default_locale", "'en'"),
        ("- a list", "", "mapping"),
        ("name: [unclosed", "", "YAML"),
    ],
)
def test_a_broken_site_file_is_refused_naming_the_field(text: str, field: str, reason: str) -> None:
    with pytest.raises(SiteConfigError) as refused:
        parse_site_config(text.encode())
    assert refused.value.field == field and reason in refused.value.reason


def test_kb_check_reports_a_broken_site_file_and_a_missing_logo(tmp_path) -> None:
    (tmp_path / ".kb").mkdir()
    (tmp_path / ".kb" / "site.yml").write_text('colors: {brand: "#ffff00"}\n')
    assert [(e.path, e.field) for e in check_folder(tmp_path).errors] == [(".kb/site.yml", "colors.brand")]
    (tmp_path / ".kb" / "site.yml").write_text("logo: .kb/missing.svg\n")
    assert [(e.path, e.field) for e in check_folder(tmp_path).errors] == [(".kb/site.yml", "logo")]


# The site.


def test_the_site_wears_the_companys_name(site: TestClient) -> None:
    html = site.get("/hc/en").text
    assert "<title>How can we help? · Acme Help</title>" in html and '<span class="brand-name">Acme Help</span>' in html
    assert '<span class="brand-name">Acme ヘルプ</span>' in site.get("/hc/ja").text


def test_categories_follow_the_site_files_order_and_names(site: TestClient) -> None:
    html = site.get("/hc/en").text
    assert category_names(html) == ["Zeta first", "Alpha", "Middle", "Other articles"], "listed ones in order, then the others by slug"
    assert "The last letter, first." in html
    assert category_names(site.get("/hc/ja").text) == ["Alpha"]


def test_the_home_page_lists_promoted_articles_in_order(site: TestClient) -> None:
    html = site.get("/hc/en").text
    popular = re.search(r'<ul class="popular-list">(.*?)</ul>', html, re.S)
    assert popular is not None
    assert re.findall(r">([^<]+)</a>", popular.group(1)) == ["Promoted first", "In middle"]


def test_contact_and_footer_links_show_in_the_readers_language(site: TestClient) -> None:
    html = site.get("/hc/ja").text
    assert '<a href="https://acme.example/contact">お問い合わせ</a>' in html
    assert '<a href="https://status.acme.example">Status</a>' in html


def test_the_default_language_is_where_the_help_center_opens(site: TestClient) -> None:
    assert site.get("/").headers["location"] == "/hc/ja"
    assert site.get("/hc").headers["location"] == "/hc/ja"


def test_the_brand_colours_are_a_stylesheet(site: TestClient) -> None:
    link = re.search(r'<link rel="stylesheet" href="(/hc/brand\.css\?v=[0-9a-f]+)">', site.get("/hc/en").text)
    assert link is not None
    css = site.get(link.group(1))
    assert css.headers["content-type"].startswith("text/css") and "--brand: #0f766e" in css.text
    assert "--brand-on-dark: #a5b4fc" in css.text


def test_the_logo_is_served_from_the_repository_unable_to_run_script(site: TestClient) -> None:
    src = re.search(r'<img class="brand-logo" src="([^"]+)"', site.get("/hc/en").text)
    assert src is not None
    logo = site.get(src.group(1))
    assert logo.status_code == 200 and logo.headers["content-type"] == "image/svg+xml" and logo.text == LOGO
    assert "sandbox" in logo.headers["content-security-policy"]


def test_a_broken_site_file_leaves_the_site_up_with_the_defaults(make_client) -> None:
    site = make_client({".kb/site.yml": 'colors: {brand: "#ffff00"}\n', **ARTICLES})
    home = site.get("/hc/en")
    assert home.status_code == 200 and '<span class="brand-name">Help Center</span>' in home.text
    assert site.get("/hc/brand/logo").status_code == 404


def test_a_promoted_rank_must_be_a_positive_number(make_client) -> None:
    from articles.parse import InvalidArticle, parse_article

    with pytest.raises(InvalidArticle) as refused:
        parse_article("en/x.md", article_text("x", "X", "Text.", promoted=0).encode())
    assert refused.value.error.field == "promoted"
