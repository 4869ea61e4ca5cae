"""WCAG 2.1 A and AA by axe-core (from npm, `make install`) in a real Chromium: the help center's views and the
in-product widget, in both languages and both colour schemes, have no serious or critical violation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from playwright import sync_api

from api.app import create_app
from examples.product_page import serving_product_page
from kb.access.keys import create_key
from kb.core.settings import Settings
from search.encoder import Encoder
from tests.browser import Tab, launched, open_tab
from tests.conftest import _free_port, serve_in_thread, served_kb

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
"""Where `make install` puts axe-core (the version is pinned in the Makefile)."""

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}
SHOWN_NODES = 3

LOCALES = ["en", "ja"]
SCHEMES = ["light", "dark"]
QUERY = {"en": "password", "ja": "パスワード"}
NO_MATCH = {"en": "xylophone quasar", "ja": "宇宙船の操縦"}
HELP = {"en": "Help", "ja": "ヘルプ"}


@dataclass(frozen=True)
class View:
    path: str
    """Under /hc/{locale}; ``{query}`` and ``{no_match}`` are filled in per language."""
    shows: str
    """What only this view has, so the page checked is the one meant (results, no results, a 404...)."""
    status: int = 200
    opens: str | None = None
    """Clicked before the check: what the page holds behind a control is checked too."""


VIEWS = {
    "home": View("", ".hero h1"),
    "search": View("/search?q={query}", "ol.results"),
    "search-no-results": View("/search?q={no_match}", "#no-results-title"),
    "article": View("/articles/reset-password", "#article-title", opens=".vote-no summary"),
    "category": View("/categories/account", ".page-header h1"),
    "not-found": View("/articles/no-such-article", ".not-found h1", status=404),
}


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    yield from launched()


def axe_tab(browser: sync_api.Browser, base_url: str, scheme: str) -> Iterator[Tab]:
    """A tab in ``scheme``, its CSP bypassed: axe is a script the pages' policy rightly refuses."""
    assert AXE.exists(), f"axe-core is missing at {AXE}: run `make install`"
    yield from open_tab(browser, base_url, bypass_csp=True, color_scheme=scheme)


@pytest.fixture
def site_tab(browser: sync_api.Browser, live_server: str, scheme: str) -> Iterator[Tab]:
    yield from axe_tab(browser, live_server, scheme)


def serious_violations(page: sync_api.Page, context: object = None) -> list[dict[str, Any]]:
    """axe's serious and critical WCAG 2.1 A/AA violations in ``context`` (an axe context; None: the document)."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    options = {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]}
    results = page.evaluate("([context, options]) => axe.run(context ?? document, options)", [context, options])
    return [violation for violation in results["violations"] if violation["impact"] in BLOCKING]


def target(node: dict[str, Any]) -> str:
    """A node's selector; one inside a shadow root is a list, host first, written host >>> inner."""
    return " | ".join(" >>> ".join(part) if isinstance(part, list) else part for part in node["target"])


def report(violations: list[dict[str, Any]], where: str) -> str:
    """What a developer needs to fix each violation: rule, impact, help, the elements (with contrast figures)."""
    lines = [f"{len(violations)} serious or critical WCAG 2.1 A/AA violation(s) on {where}:"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"][:SHOWN_NODES]:
            lines.append(f"    {target(node)}  {node['html'][:160]}")
            lines.extend(f"      {check['message']}" for check in node["any"] + node["all"] + node["none"] if check.get("message"))
        if len(violation["nodes"]) > SHOWN_NODES:
            lines.append(f"    …and {len(violation['nodes']) - SHOWN_NODES} more element(s)")
    return "\n".join(lines)


def assert_no_serious_violation(page: sync_api.Page, where: str, context: object = None) -> None:
    found = serious_violations(page, context)
    assert not found, report(found, where)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", list(VIEWS))
def test_a_site_view_has_no_serious_violation(site_tab: Tab, name: str, locale: str, scheme: str) -> None:
    view, page = VIEWS[name], site_tab.page
    path = f"/hc/{locale}" + view.path.format(query=quote(QUERY[locale]), no_match=quote(NO_MATCH[locale]))
    response = page.goto(path)
    assert response is not None and response.status == view.status
    sync_api.expect(page.locator(view.shows)).to_be_visible()
    if view.opens:
        page.locator(view.opens).click()
    assert_no_serious_violation(page, f"{path} ({scheme})")


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("locale", LOCALES)
def test_the_search_suggestions_have_no_serious_violation(site_tab: Tab, locale: str, scheme: str) -> None:
    page = site_tab.page
    page.goto(f"/hc/{locale}")
    page.locator("#search-hero").fill(QUERY[locale])
    sync_api.expect(page.locator("#search-hero-listbox mark").first).to_be_visible()
    assert_no_serious_violation(page, f"/hc/{locale}'s search suggestions ({scheme})")


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("locale", LOCALES)
def test_the_staff_sign_in_and_an_articles_staff_view_have_no_serious_violation(
    site_tab: Tab, client: TestClient, locale: str, scheme: str
) -> None:
    """The sign-in form, then an article with what readers said of it (a comment cast first, so the whole panel shows)."""
    page = site_tab.page
    article = f"/hc/{locale}/articles/reset-password"
    page.goto(article)
    page.locator(".vote-no summary").click()
    page.locator("#vote-comment").fill(f"axe {locale} {scheme}")
    page.locator(".vote-no button[type=submit]").click()
    sync_api.expect(page.locator(".vote-status")).not_to_be_empty()
    page.goto(f"/hc/staff/signin?locale={locale}&return_to={article}")
    assert_no_serious_violation(page, f"the staff sign-in ({locale}, {scheme})")
    page.locator("#staff-key").fill(create_key(served_kb(client).engine, name="axe", role="writer").secret)
    page.locator("form.contact-form button").click()
    sync_api.expect(page.locator(".feedback-comments")).to_be_visible()
    assert_no_serious_violation(page, f"{article}'s staff view ({scheme})")


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("locale", LOCALES)
def test_the_staff_dashboard_and_history_have_no_serious_violation(site_tab: Tab, client: TestClient, locale: str, scheme: str) -> None:
    """The dashboard with something in its tables (a search that found nothing, one that did, an article read), then
    an article's history with its restore buttons."""
    page = site_tab.page
    page.goto(f"/hc/{locale}/search?q=axe+{scheme}+zzqx")
    page.goto(f"/hc/{locale}/search?q=password")
    page.goto(f"/hc/{locale}/articles/reset-password")
    page.goto(f"/hc/staff/signin?locale={locale}&return_to=/hc/{locale}/staff/dashboard")
    page.locator("#staff-key").fill(create_key(served_kb(client).engine, name="axe", role="admin").secret)
    page.locator("form.contact-form button").click()
    page.wait_for_url(f"**/hc/{locale}/staff/dashboard")
    sync_api.expect(page.locator(".dash-chart svg")).to_be_visible()
    page.locator(".dash-days summary").click()
    assert_no_serious_violation(page, f"the staff dashboard ({locale}, {scheme})")
    page.goto(f"/hc/{locale}/articles/reset-password/history")
    sync_api.expect(page.locator(".history li").first).to_be_visible()
    assert_no_serious_violation(page, f"an article's history for staff ({locale}, {scheme})")


@dataclass(frozen=True)
class Sites:
    kb: str
    product: str


@pytest.fixture(scope="module")
def sites(sample_settings: Settings, live_server: str, model: Encoder) -> Iterator[Sites]:
    """The example product page on an origin of its own, and kb over the sample allowing that origin.

    ``live_server`` first: it has saved the sample's snapshot, which this second server then only loads.
    """
    port = _free_port()
    product = f"http://127.0.0.1:{port}"
    settings = sample_settings.model_copy(update={"cors_origins": (product,)})
    with serve_in_thread(create_app(settings, encoder=model)) as kb_url, serving_product_page(port, kb_url):
        yield Sites(kb=kb_url, product=product)


@pytest.fixture
def widget_tab(browser: sync_api.Browser, sites: Sites, scheme: str) -> Iterator[Tab]:
    yield from axe_tab(browser, sites.product, scheme)


WIDGET = {"include": [["[data-kb-widget]"]]}
"""The widget's host element and its open shadow root: the example product page around it is not kb's."""


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("locale", LOCALES)
def test_the_widget_has_no_serious_violation(widget_tab: Tab, locale: str, scheme: str) -> None:
    """The panel as it opens (the page's articles), with search results, and with an article open in it."""
    page = widget_tab.page
    page.goto(f"/settings/billing?lang={locale}")
    page.get_by_role("button", name=HELP[locale], exact=True).click()
    panel = page.get_by_role("dialog", name=HELP[locale])
    sync_api.expect(panel.locator("ul.list a").first).to_be_visible()
    assert_no_serious_violation(page, f"the widget's panel ({locale}, {scheme})", WIDGET)
    panel.get_by_role("searchbox").fill(QUERY[locale])
    sync_api.expect(panel.locator("ul.list mark").first).to_be_visible()
    assert_no_serious_violation(page, f"the widget's search results ({locale}, {scheme})", WIDGET)
    panel.locator("ul.list a").first.click()
    sync_api.expect(panel.locator(".reader .content")).not_to_be_empty()
    assert_no_serious_violation(page, f"an article open in the widget's panel ({locale}, {scheme})", WIDGET)
