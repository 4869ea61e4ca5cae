"""The in-product widget in a real Chromium, on the example product page (`examples/widget/index.html`) served
from an origin of its own, against kb serving the sample help center with an incident announcement added."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import time_machine
from playwright import sync_api

from api.app import create_app
from examples.product_page import serving_product_page
from kb.access.tokens import issue_customer_token
from kb.core.settings import SAMPLE_CONTENT, SAMPLE_HISTORY
from search.encoder import Encoder
from tests.browser import Tab, launched, open_tab
from tests.conftest import JWT_SECRET, _free_port, article_text, make_settings, serve_in_thread
from tests.gitutil import USER_EMAIL, USER_NAME, commit_files, git
from versioning.bootstrap import create_repo_from_history

INCIDENT = "Sign-in errors with single sign-on"
DURING = dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.UTC)
AFTER = dt.datetime(2026, 12, 6, 13, 0, tzinfo=dt.UTC)
ANNOUNCEMENT = article_text(
    "sso-incident", INCIDENT,
    "Some customers see error E2001 when they sign in with single sign-on (SAML). We are working on a fix; signing in "
    "with a password still works.",
    kind="announcement", severity="incident", category="security", starts="2026-12-06T09:00:00Z", ends="2026-12-06T12:00:00Z",
)  # fmt: skip


@dataclass(frozen=True)
class Sites:
    kb: str
    product: str
    """The example product page's origin: listed in kb's KB_CORS_ORIGINS, as a company would list its app."""


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory, module_database_url: str, model: Encoder) -> Iterator[Sites]:
    root = tmp_path_factory.mktemp("widget")
    create_repo_from_history(SAMPLE_CONTENT, root / "content", history=SAMPLE_HISTORY).close()
    git(root / "content", "config", "user.name", USER_NAME)
    git(root / "content", "config", "user.email", USER_EMAIL)
    commit_files(root / "content", {"en/security/sso-incident.md": ANNOUNCEMENT}, "Announce the SSO incident")
    port = _free_port()
    product = f"http://127.0.0.1:{port}"
    settings = make_settings(
        data_dir=root / "data", repo_path=root / "content", database_url=module_database_url,
        cors_origins=(product,), jwt_secret=JWT_SECRET,
    )  # fmt: skip
    with serve_in_thread(create_app(settings, encoder=model)) as kb_url, serving_product_page(port, kb_url):
        yield Sites(kb=kb_url, product=product)


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    yield from launched()


@pytest.fixture
def tab(browser: sync_api.Browser, sites: Sites) -> Iterator[Tab]:
    yield from open_tab(browser, sites.product)


def open_panel(page: sync_api.Page) -> sync_api.Locator:
    page.goto("/settings/billing")
    page.get_by_role("button", name="Help", exact=True).click()
    panel = page.get_by_role("dialog", name="Help")
    sync_api.expect(panel).to_be_visible()
    return panel


def listed(panel: sync_api.Locator) -> sync_api.Locator:
    """The article links of the panel's list, once it has loaded."""
    links = panel.locator("ul.list a")
    sync_api.expect(links.first).to_be_visible()
    return links


def article_ids(links: sync_api.Locator) -> list[str]:
    return [re.sub(r".*/articles/([^#?]+).*", r"\1", links.nth(i).get_attribute("href") or "") for i in range(links.count())]


def test_the_widget_shows_the_articles_for_the_page(tab: Tab) -> None:
    ids = article_ids(listed(open_panel(tab.page)))
    assert {"change-your-plan", "update-payment-method", "download-invoices", "data-encryption"} <= set(ids)
    assert "reset-password" not in ids and "data-residency" not in ids
    assert tab.errors == []


def test_an_article_opens_inside_the_panel_and_back_returns_to_the_list(tab: Tab) -> None:
    page = tab.page
    panel = open_panel(page)
    listed(panel).filter(has_text="Upgrade or downgrade your plan").click()
    heading = panel.get_by_role("heading", name="Upgrade or downgrade your plan")
    sync_api.expect(heading).to_be_focused()
    sync_api.expect(panel.locator(".content")).to_contain_text("plan")
    assert page.url.endswith("/settings/billing"), "the host page stays where it was"
    panel.get_by_role("button", name="Back").click()
    sync_api.expect(listed(panel).filter(has_text="Upgrade or downgrade your plan")).to_be_focused()
    assert tab.errors == []


def test_instant_search_in_the_panel_finds_any_article(tab: Tab) -> None:
    panel = open_panel(tab.page)
    search = panel.get_by_role("searchbox", name="Search help articles")
    sync_api.expect(search).to_be_focused()
    search.press_sequentially("reset password", delay=20)
    sync_api.expect(panel.get_by_role("heading", name="Search results")).to_be_visible()
    sync_api.expect(panel.locator("ul.list a").first).to_have_attribute("href", re.compile(r"/hc/en/articles/reset-password"))
    assert tab.errors == []


def test_escape_closes_the_panel_and_returns_focus_to_the_launcher(tab: Tab) -> None:
    page = tab.page
    open_panel(page)
    launcher = page.get_by_role("button", name="Help", exact=True)
    sync_api.expect(launcher).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Escape")
    sync_api.expect(page.get_by_role("dialog", name="Help")).to_be_hidden()
    sync_api.expect(launcher).to_be_focused()
    sync_api.expect(launcher).to_have_attribute("aria-expanded", "false")


HOST_STYLES = """() => {
  const pick = (selector, ...names) => { const style = getComputedStyle(document.querySelector(selector));
    return names.map((name) => style.getPropertyValue(name)).join("|"); };
  return [pick("body", "font-family", "background-color", "color"), pick("h2", "color", "font-size", "border-bottom-color"),
          pick("#change-plan", "background-color", "color", "padding"), pick("a", "color")];
}"""


def test_the_widget_leaves_the_host_pages_styles_and_scripts_untouched(browser: sync_api.Browser, sites: Sites) -> None:
    with contextlib.contextmanager(open_tab)(browser, sites.product) as without:
        without.page.route("**/widget.js", lambda route: route.abort())
        without.page.goto("/settings/billing")
        baseline_styles = without.page.evaluate(HOST_STYLES)
        baseline_globals = set(without.page.evaluate("Object.keys(window)"))
    with contextlib.contextmanager(open_tab)(browser, sites.product) as with_widget:
        page = with_widget.page
        open_panel(page)
        assert page.evaluate(HOST_STYLES) == baseline_styles
        assert set(page.evaluate("Object.keys(window)")) - baseline_globals == {"kbWidget"}
        sync_api.expect(page.locator("#product-status")).to_have_text("The product's own script ran.")
        page.locator("#change-plan").click()
        sync_api.expect(page.locator("#product-status")).to_have_text("Plan dialog opened 1 time(s).")
        assert page.evaluate("window.orbitly.clicks") == 1
        assert with_widget.errors == []


def test_a_segment_article_shows_only_after_the_customers_token_is_handed_over(tab: Tab) -> None:
    page = tab.page
    panel = open_panel(page)
    assert "data-residency" not in article_ids(listed(panel))
    token = issue_customer_token(secret=JWT_SECRET, subject="alice", segments=("enterprise",))
    page.evaluate("(token) => kbWidget.identify(token)", token)
    sync_api.expect(panel.locator('ul.list a[href$="/hc/en/articles/data-residency"]')).to_be_visible()
    assert tab.errors == []


def test_an_active_incident_shows_on_the_site_in_the_widget_and_first_in_a_bot_answer(tab: Tab, sites: Sites) -> None:
    page = tab.page
    with time_machine.travel(DURING):
        panel = open_panel(page)
        sync_api.expect(panel.get_by_role("list", name="Service announcements")).to_contain_text(INCIDENT)
        page.goto(f"{sites.kb}/hc/en")
        sync_api.expect(page.get_by_role("complementary", name="Service announcements")).to_contain_text(INCIDENT)
        answer = page.request.post(f"{sites.kb}/v1/answers", data={"question": "Error E2001 when I sign in with SSO"}).json()
        assert answer["announcements"][0]["article_id"] == "sso-incident"
    with time_machine.travel(AFTER):
        panel = open_panel(page)
        listed(panel)
        sync_api.expect(panel.get_by_role("list", name="Service announcements")).to_be_hidden()
        page.goto(f"{sites.kb}/hc/en")
        sync_api.expect(page.get_by_role("complementary", name="Service announcements")).to_have_count(0)
        answer = page.request.post(f"{sites.kb}/v1/answers", data={"question": "Error E2001 when I sign in with SSO"}).json()
        assert answer["announcements"] == []
    assert tab.errors == []


def test_the_widgets_contact_link_carries_the_search_and_the_articles_read(tab: Tab, sites: Sites) -> None:
    panel = open_panel(tab.page)
    contact = panel.get_by_role("link", name="Contact support")
    sync_api.expect(contact).to_have_attribute("href", f"{sites.kb}/hc/en/contact")
    listed(panel).filter(has_text="Upgrade or downgrade your plan").click()
    panel.get_by_role("button", name="Back").click()
    panel.get_by_role("searchbox", name="Search help articles").fill("refund")
    sync_api.expect(contact).to_have_attribute("href", f"{sites.kb}/hc/en/contact?q=refund&read=change-your-plan")
    assert tab.errors == []
