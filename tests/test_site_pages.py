"""The help-center pages over the sample help center, in process: what a public reader sees and never sees."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from api.site.routes import SECURITY_HEADERS
from kb.core.knowledge_base import KnowledgeBase

HIDDEN = [
    ("en", "account-takeover-response"),  # internal: audience agents in its front matter
    ("en", "enterprise-sso-debugging"),
    ("en", "escalation-matrix"),  # internal: en/agents/* defaults to agents in .kb/access.yml
    ("en", "refund-approval-playbook"),
    ("ja", "escalation-matrix"),
    ("en", "data-residency"),  # segment-only: [enterprise]
    ("en", "beta-ai-summaries"),  # segment-only: [beta]
    ("en", "offline-mode"),  # draft
]
PROBE_QUERIES = [
    ("en", "reset password"),
    ("en", "data residency region EU"),
    ("en", "AI summaries beta"),
    ("en", "offline mode"),
    ("en", "escalation matrix"),
    ("en", "refund approval playbook"),
    ("en", "account takeover"),
    ("en", "enterprise SSO debugging"),
    ("ja", "パスワード"),
    ("ja", "エスカレーション"),
]
MISSING_ID = "no-such-article-anywhere"


class _Page(HTMLParser):
    """Links (href, text), ids, and the tags a CSP-clean page must not carry, from one HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.ids: set[str] = set()
        self.inline_scripts = 0
        self.style_attributes = 0
        self.style_elements = 0
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        self.style_attributes += "style" in values
        self.style_elements += tag == "style"
        # A JSON-LD block is data, never run, so CSP's script-src does not apply to it.
        self.inline_scripts += tag == "script" and not values.get("src") and values.get("type") != "application/ld+json"
        if tag == "a":
            self._href, self._text = values.get("href") or "", []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join("".join(self._text).split())))
            self._href = None


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def get_page(client: TestClient, url: str, status: int = 200) -> _Page:
    response = client.get(url)
    assert response.status_code == status, url
    assert response.headers["content-type"].startswith("text/html")
    return parse(response.text)


def article_links(page: _Page) -> set[str]:
    return {urlsplit(href).path for href, _ in page.links if "/articles/" in href}


@pytest.fixture(scope="module")
def hidden_titles(sample_kb: KnowledgeBase) -> set[str]:
    """Titles of the hidden articles, taken from the index so the test fails if one of them is not there at all."""
    titles = set()
    for locale, article_id in HIDDEN:
        article = sample_kb.snapshot.article(article_id, locale)
        assert article is not None, f"the sample should hold {locale}/{article_id}"
        titles.add(article.title)
    return titles


@pytest.fixture(scope="module")
def crawled(client: TestClient) -> dict[str, _Page]:
    """Every page a reader can reach from both home pages, plus search pages for queries aimed at hidden articles."""
    pages: dict[str, _Page] = {}
    queue = ["/hc/en", "/hc/ja"] + [f"/hc/{locale}/search?q={query}" for locale, query in PROBE_QUERIES]
    while queue:
        url = queue.pop()
        if url in pages:
            continue
        pages[url] = get_page(client, url)
        for href, _ in pages[url].links:
            path = urlsplit(href).path
            if path.startswith("/hc/") and ("/articles/" in path or "/categories/" in path) and path not in pages:
                queue.append(path)
    return pages


def test_root_redirects_to_the_english_help_center(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/hc/en"


def test_home_lists_categories_and_their_public_articles(client: TestClient) -> None:
    response = client.get("/hc/en")
    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    page = parse(response.text)
    links = set(page.links)
    assert ("/hc/en/categories/account", "Account & sign-in") in links
    assert ("/hc/en/categories/troubleshooting", "Troubleshooting") in links
    assert ("/hc/en/articles/reset-password", "Reset your password") in links
    assert ("/hc/en/articles/cancel-subscription", "Cancel your subscription") in links
    assert ("/hc/en/categories/account", "See all 7 articles") in links
    assert not [href for href, _ in links if "/categories/agents" in href]  # a category of internal articles only
    assert 'name="q"' in response.text and 'action="/hc/en/search"' in response.text


def test_japanese_home_is_in_japanese(client: TestClient) -> None:
    response = client.get("/hc/ja")
    assert '<html lang="ja">' in response.text
    assert "どのようなことでお困りですか" in response.text
    assert ("/hc/ja/articles/reset-password", "パスワードを再設定する") in parse(response.text).links
    assert all(path.startswith("/hc/ja/") for path in article_links(parse(response.text)))


def test_category_page_lists_every_public_article_of_the_category(client: TestClient, sample_kb: KnowledgeBase) -> None:
    from kb.access.rules import PUBLIC
    from search.snapshot import Filters

    expected = {f"/hc/en/articles/{a.id}" for a in sample_kb.articles(view=PUBLIC, filters=Filters(locale="en", category="security"))}
    page = get_page(client, "/hc/en/categories/security")
    assert article_links(page) == expected
    assert "/hc/en/articles/data-residency" not in expected and expected


def test_unknown_and_internal_categories_are_not_found(client: TestClient) -> None:
    missing = client.get("/hc/en/categories/no-such-category")
    internal = client.get("/hc/en/categories/agents")
    assert missing.status_code == internal.status_code == 404
    assert missing.text == internal.text


def test_article_page_renders_html_with_anchors_toc_and_translations(client: TestClient) -> None:
    response = client.get("/hc/en/articles/reset-password")
    assert response.status_code == 200
    html = response.text
    page = parse(html)
    assert '<h1 id="article-title">Reset your password</h1>' in html
    assert '<h2 id="reset-a-forgotten-password">Reset a forgotten password</h2>' in html
    assert "<strong>Forgot password?</strong>" in html  # rendered Markdown, not escaped source
    toc = [href[1:] for href, _ in page.links if href.startswith("#") and href != "#main"]
    assert "reset-a-forgotten-password" in toc and "password-requirements" in toc
    assert set(toc) <= page.ids, "every table-of-contents entry points at a heading on the page"
    translations = [(href, text) for href, text in page.links if href == "/hc/ja/articles/reset-password"]
    assert ("/hc/ja/articles/reset-password", "日本語") in translations
    assert '<link rel="alternate" hreflang="ja" href="http://testserver/hc/ja/articles/reset-password">' in html
    assert '<time datetime="' in html and "Updated " in html
    assert ("/hc/en/categories/account", "Account & sign-in") in page.links  # breadcrumb


def test_japanese_article_links_back_to_english(client: TestClient) -> None:
    response = client.get("/hc/ja/articles/reset-password")
    assert '<html lang="ja">' in response.text
    assert "パスワードを再設定する" in response.text
    assert ("/hc/en/articles/reset-password", "English") in parse(response.text).links


def test_pages_are_csp_clean(crawled: dict[str, _Page]) -> None:
    for url, page in crawled.items():
        assert (page.inline_scripts, page.style_attributes, page.style_elements) == (0, 0, 0), url


def test_search_page_highlights_matches(client: TestClient) -> None:
    response = client.get("/hc/en/search", params={"q": "reset password"})
    assert response.status_code == 200
    page = parse(response.text)
    assert "/hc/en/articles/reset-password" in article_links(page)
    assert "<mark>password</mark>" in response.text or "<mark>passwords</mark>" in response.text
    assert " results for “reset password”" in response.text
    assert 'value="reset password"' in response.text


def test_japanese_search_page_highlights_matches(client: TestClient) -> None:
    response = client.get("/hc/ja/search", params={"q": "パスワード"})
    assert response.status_code == 200
    assert '<html lang="ja">' in response.text
    assert "<mark>パスワード</mark>" in response.text
    assert "/hc/ja/articles/reset-password" in article_links(parse(response.text))
    assert "「パスワード」の検索結果" in response.text


def test_search_results_are_paged(client: TestClient) -> None:
    first = parse(client.get("/hc/en/search", params={"q": "reset password"}).text)
    second_response = client.get("/hc/en/search", params={"q": "reset password", "page": "2"})
    second = parse(second_response.text)
    assert ("/hc/en/search?q=reset+password&page=2", "Next") in first.links
    assert ("/hc/en/search?q=reset+password", "Previous") in second.links
    assert article_links(first).isdisjoint(article_links(second))


def test_search_without_results_gives_a_hint(client: TestClient) -> None:
    response = client.get("/hc/en/search", params={"q": "qwxzv plorkh"})
    assert response.status_code == 200
    assert "No results for “qwxzv plorkh”" in response.text
    assert "try fewer or more general words" in response.text
    assert 'id="result-count"' not in response.text
    page = parse(response.text)
    assert ("/hc/en/categories/account", "Account & sign-in") in page.links
    assert not article_links(page)


def test_japanese_search_without_results(client: TestClient) -> None:
    response = client.get("/hc/ja/search", params={"q": "ほげほげふがふが"})
    assert "「ほげほげふがふが」に一致する記事は見つかりませんでした" in response.text


def test_search_query_is_escaped(client: TestClient) -> None:
    response = client.get("/hc/en/search", params={"q": '<script>alert("x")</script>'})
    assert response.status_code == 200
    assert "<script>alert" not in response.text
    assert "&lt;script&gt;alert" in response.text


@pytest.mark.parametrize(("params", "status", "text"), [
    ({}, 200, "Type a question"),
    ({"q": "   "}, 200, "Type a question"),
    ({"q": "x" * 1001}, 400, "the limit is 1000"),
    ({"q": "reset password", "page": "not-a-number"}, 200, 'aria-current="page">1<'),
    ({"q": "reset password", "page": "99999"}, 200, 'rel="prev"'),  # redirected to the last page
])  # fmt: skip
def test_odd_search_input_gets_a_page_not_an_error(client: TestClient, params: dict, status: int, text: str) -> None:
    response = client.get("/hc/en/search", params=params)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert text in response.text


def test_hidden_articles_never_appear_on_any_page(crawled: dict[str, _Page], hidden_titles: set[str]) -> None:
    assert len(crawled) > 60, "the crawl should reach every public article"
    hidden_paths = {f"/hc/{locale}/articles/{article_id}" for locale, article_id in HIDDEN}
    for url, page in crawled.items():
        assert not article_links(page) & hidden_paths, url
        # Text inside a public article may still name a hidden one; rendering points such links at "#".
        assert not {text for href, text in page.links if "/articles/" in href} & hidden_titles, url


@pytest.mark.parametrize(("locale", "article_id"), HIDDEN)
def test_hidden_article_is_exactly_as_absent_as_a_missing_one(client: TestClient, locale: str, article_id: str) -> None:
    hidden = client.get(f"/hc/{locale}/articles/{article_id}")
    missing = client.get(f"/hc/{locale}/articles/{MISSING_ID}")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.text == missing.text
    assert dict(hidden.headers) == dict(missing.headers)


def test_not_found_page_is_friendly(client: TestClient) -> None:
    response = client.get(f"/hc/en/articles/{MISSING_ID}")
    assert response.headers["content-type"].startswith("text/html")
    assert "We couldn’t find that page" in response.text
    assert 'action="/hc/en/search"' in response.text
    assert MISSING_ID not in response.text


@pytest.mark.parametrize(
    "url", ["/hc/fr", "/hc/fr/articles/reset-password", "/hc/fr/search?q=password", "/hc/fr/categories/account", "/hc/en/nothing/here"]
)
def test_unknown_locale_or_page_is_not_found(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="en">' in response.text and "We couldn’t find that page" in response.text


@pytest.mark.parametrize(
    "url",
    [
        "/", "/hc/en", "/hc/ja/articles/reset-password", "/hc/en/search?q=invoice", "/hc/en/articles/offline-mode", "/hc/xx",
        "/hc/static/site.css", "/hc/static/search.js",
    ],
)
def test_security_headers(client: TestClient, url: str) -> None:
    response = client.get(url, follow_redirects=False)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, (url, name)
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "style-src 'self'" in policy and "unsafe-inline" not in policy


def test_static_files_are_served_with_their_types(client: TestClient) -> None:
    css = client.get("/hc/static/site.css")
    js = client.get("/hc/static/search.js")
    assert css.status_code == js.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "javascript" in js.headers["content-type"]
    assert client.get("/hc/static/nothing.css").status_code == 404
