"""The help-center site in a real headless Chromium (Debian's, driven by Playwright) against a real server."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright import sync_api

from kb.access.keys import create_key
from kb.assist import feedback_summary
from tests.browser import Tab, launched, open_tab
from tests.conftest import served_kb

SCREENSHOTS = Path("/tmp")


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    yield from launched()


@pytest.fixture
def tab(browser: sync_api.Browser, live_server: str) -> Iterator[Tab]:
    yield from open_tab(browser, live_server)


@pytest.fixture
def no_js_tab(browser: sync_api.Browser, live_server: str) -> Iterator[Tab]:
    yield from open_tab(browser, live_server, java_script_enabled=False)


def suggestions(page: sync_api.Page, box: str) -> sync_api.Locator:
    """The options of the listbox the box controls, once they show."""
    listbox = page.locator(f"#{page.locator(box).get_attribute('aria-controls')}")
    sync_api.expect(listbox).to_be_visible()
    return listbox.locator("[role=option]")


def option_index(options: sync_api.Locator, href_part: str) -> int:
    hrefs = [options.nth(i).get_attribute("data-href") or "" for i in range(options.count())]
    matching = [i for i, href in enumerate(hrefs) if href_part in href]
    assert matching, f"no suggestion for {href_part} among {hrefs}"
    return matching[0]


def test_typing_shows_suggestions_and_enter_opens_the_article(tab: Tab) -> None:
    page = tab.page
    page.goto("/hc/en")
    box = page.locator("#search-hero")
    box.press_sequentially("reset password", delay=30)  # keystroke by keystroke: debounce and aborts at work
    options = suggestions(page, "#search-hero")
    sync_api.expect(box).to_have_attribute("aria-expanded", "true")
    assert options.count() <= 6  # five suggestions and "see all results"
    target = option_index(options, "/hc/en/articles/reset-password")
    for _ in range(target + 1):
        box.press("ArrowDown")
    chosen = options.nth(target)
    sync_api.expect(chosen).to_have_attribute("aria-selected", "true")
    sync_api.expect(box).to_have_attribute("aria-activedescendant", chosen.get_attribute("id") or "")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/hc/en/articles/reset-password"))
    sync_api.expect(page.locator("h1")).to_have_text("Reset your password")
    assert tab.errors == []


def test_clicking_a_japanese_suggestion_opens_the_article(tab: Tab) -> None:
    page = tab.page
    page.goto("/hc/ja")
    page.locator("#search-hero").fill("パスワード")
    options = suggestions(page, "#search-hero")
    options.nth(option_index(options, "/hc/ja/articles/reset-password")).click()
    page.wait_for_url(re.compile(r"/hc/ja/articles/reset-password"))
    sync_api.expect(page.locator("h1")).to_have_text("パスワードを再設定する")
    assert tab.errors == []


def test_arrow_up_reaches_see_all_results_and_escape_closes(tab: Tab) -> None:
    page = tab.page
    page.goto("/hc/en/search")
    box = page.locator("#search-page")
    box.fill("invoice")
    options = suggestions(page, "#search-page")
    box.press("Escape")
    sync_api.expect(page.locator("#search-page-listbox")).to_be_hidden()
    sync_api.expect(box).to_have_attribute("aria-expanded", "false")
    box.press("ArrowUp")  # reopens, and from nothing chosen goes to the last option
    sync_api.expect(options.last).to_have_attribute("aria-selected", "true")
    sync_api.expect(options.last).to_contain_text("See all results for “invoice”")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/hc/en/search\?q=invoice$"))
    sync_api.expect(page.locator(".result-count")).to_contain_text("results for “invoice”")
    assert tab.errors == []


def test_suggestions_never_offer_hidden_articles(tab: Tab) -> None:
    page = tab.page
    page.goto("/hc/en")
    box = page.locator("#search-hero")
    for query in ("offline mode", "data residency", "escalation matrix"):
        box.fill(query)
        options = suggestions(page, "#search-hero")
        sync_api.expect(options.last).to_contain_text(query)  # the answer for this query has arrived
        hrefs = [options.nth(i).get_attribute("data-href") or "" for i in range(options.count())]
        assert not [href for href in hrefs if re.search(r"/(offline-mode|data-residency|escalation-matrix)\b", href)]


def test_form_submits_to_the_search_page_without_javascript(no_js_tab: Tab) -> None:
    page = no_js_tab.page
    page.goto("/hc/en")
    box = page.locator("#search-hero")
    assert box.get_attribute("role") is None  # the combobox exists only when the script can drive it
    box.fill("reset password")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/hc/en/search\?q=reset\+password$"))
    sync_api.expect(page.locator(".result-count")).to_contain_text("results for “reset password”")
    sync_api.expect(page.locator(".result-snippet mark").first).to_be_visible()
    sync_api.expect(page.locator("#search-page-listbox")).to_be_hidden()


def not_helpful_votes(client: TestClient, article_id: str) -> list[str | None]:
    """The comments of the newest "not helpful" votes the ledger holds for an article."""
    return [row.comment for row in feedback_summary(served_kb(client).engine, article_id).comments if row.outcome == "not_helpful"]


def test_a_no_vote_with_a_comment_works_without_javascript(no_js_tab: Tab, client: TestClient) -> None:
    page = no_js_tab.page
    page.goto("/hc/en/articles/keyboard-shortcuts")
    page.get_by_text("No", exact=True).click()  # <details>: opens without a script
    page.get_by_label("It is hard to understand").check()
    page.get_by_label("Tell us more (optional)").fill("Which shortcut opens search? Asked without JavaScript.")
    page.get_by_role("button", name="Send", exact=True).click()
    page.wait_for_url(re.compile(r"/hc/en/articles/keyboard-shortcuts\?voted=sorry#vote$"))
    sync_api.expect(page.locator(".vote-status")).to_have_text("Thank you for telling us. Sorry this article did not help.")
    contact = page.get_by_role("link", name="Still need help? Contact support")
    sync_api.expect(contact).to_have_attribute("href", "/hc/en/contact?read=keyboard-shortcuts")
    assert not_helpful_votes(client, "keyboard-shortcuts").count("Which shortcut opens search? Asked without JavaScript.") == 1


def test_a_no_vote_with_a_comment_is_thanked_in_place_with_javascript(tab: Tab, client: TestClient) -> None:
    page = tab.page
    page.goto("/hc/ja/articles/reset-password")
    page.get_by_text("いいえ", exact=True).click()
    page.get_by_label("知りたいことが書かれていない").check()
    page.get_by_label("詳しく教えてください（任意）").fill("SMS で再設定できますか？")
    page.get_by_role("button", name="送信する").click()
    sync_api.expect(page.locator("#vote").get_by_role("status")).to_have_text("ご意見ありがとうございます。お役に立てず申し訳ありません。")
    contact = page.get_by_role("link", name="解決しない場合はサポートに問い合わせる")
    sync_api.expect(contact).to_have_attribute("href", "/hc/ja/contact?read=reset-password&reason=related_but_did_not_answer")
    assert page.url.endswith("/hc/ja/articles/reset-password")  # no page load: the forms gave way to the thanks
    sync_api.expect(page.locator("[data-vote]")).to_be_hidden()
    assert not_helpful_votes(client, "reset-password").count("SMS で再設定できますか？") == 1
    assert tab.errors == []


def test_a_staff_member_signs_in_and_sees_what_a_reader_said(browser: sync_api.Browser, live_server: str, client: TestClient) -> None:
    with contextlib.ExitStack() as tabs:
        reader = tabs.enter_context(contextlib.contextmanager(open_tab)(browser, live_server))
        staff = tabs.enter_context(contextlib.contextmanager(open_tab)(browser, live_server))
        reader_votes_and_staff_reads(reader, staff, client)


def reader_votes_and_staff_reads(reader: Tab, staff: Tab, client: TestClient) -> None:
    reader.page.goto("/hc/en/articles/mobile-apps")
    reader.page.get_by_text("No", exact=True).click()
    reader.page.get_by_label("It is out of date").check()
    reader.page.get_by_label("Tell us more (optional)").fill("The Android app shows no widgets option.")
    reader.page.get_by_role("button", name="Send", exact=True).click()
    sync_api.expect(reader.page.locator("#vote").get_by_role("status")).to_contain_text("Sorry")
    page = staff.page
    page.goto("/hc/staff/signin?locale=en&return_to=/hc/en/articles/mobile-apps")
    page.get_by_label("API key").fill(create_key(served_kb(client).engine, name="Dana", role="writer").secret)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(re.compile(r"/hc/en/articles/mobile-apps$"))
    panel = page.get_by_role("region", name="What readers said")
    sync_api.expect(panel.get_by_text("The Android app shows no widgets option.")).to_be_visible()
    sync_api.expect(panel.get_by_role("row", name="Not helpful (reader) 1")).to_be_visible()
    page.get_by_role("button", name="Leave staff view").click()
    page.wait_for_url(re.compile(r"/hc/en$"))
    page.goto("/hc/en/articles/mobile-apps")
    sync_api.expect(page.get_by_role("region", name="What readers said")).to_have_count(0)


def test_pages_log_no_console_errors(tab: Tab) -> None:
    page = tab.page
    for url in ["/hc/en", "/hc/ja", "/hc/en/categories/billing", "/hc/en/articles/reset-password",
                "/hc/ja/articles/reset-password", "/hc/en/search?q=reset+password", "/hc/ja/search?q=パスワード"]:  # fmt: skip
        response = page.goto(url)
        assert response is not None and response.ok, url
        page.wait_for_load_state("load")
    page.locator("#search-page").press_sequentially("refund", delay=20)
    suggestions(page, "#search-page")
    assert tab.errors == []


def test_csp_stops_injected_inline_script(tab: Tab) -> None:
    """The policy is really enforced: an inline script that got into a page would not run (and is reported)."""
    page = tab.page
    page.goto("/hc/en")
    with contextlib.suppress(sync_api.Error):  # Playwright may report the blocked script itself; what matters is that it did not run
        page.add_script_tag(content="window.injected = true;")
    assert page.evaluate("window.injected === undefined")
    assert any("Content Security Policy" in error for error in tab.errors)


def test_screenshots_of_home_and_article(tab: Tab) -> None:
    """Pictures for a person to look at (the design is not asserted); the pages must still render cleanly."""
    page = tab.page
    page.goto("/hc/en")
    page.screenshot(path=str(SCREENSHOTS / "site-home.png"), full_page=True)
    page.goto("/hc/en/articles/reset-password")
    page.screenshot(path=str(SCREENSHOTS / "site-article.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / "site-article-mobile.png"), full_page=True)
    for name in ("site-home.png", "site-article.png", "site-article-mobile.png"):
        assert (SCREENSHOTS / name).stat().st_size > 10_000
    assert tab.errors == []


PAGES = ["/hc/{locale}", "/hc/{locale}/search?q=password", "/hc/{locale}/articles/reset-password", "/hc/{locale}/categories/account"]


def luminance(css_colour: str) -> float:
    """Relative luminance of a computed ``rgb(r, g, b)`` colour, 0 (black) to 1 (white)."""
    channels = [int(part) / 255 for part in re.findall(r"\d+", css_colour)[:3]]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_theme_follows_the_readers_system_setting(browser: sync_api.Browser, live_server: str, scheme: str) -> None:
    with contextlib.contextmanager(open_tab)(browser, live_server, color_scheme=scheme) as tab:
        tab.page.goto("/hc/en/articles/reset-password")
        background = luminance(tab.page.evaluate("getComputedStyle(document.querySelector('.article')).backgroundColor"))
        text = luminance(tab.page.evaluate("getComputedStyle(document.querySelector('.article-body')).color"))
        assert (background > text) == (scheme == "light")
        assert tab.errors == []


def test_printing_an_article_leaves_the_article_alone(tab: Tab) -> None:
    page = tab.page
    page.goto("/hc/en/articles/reset-password")
    page.emulate_media(media="print")
    for hidden in (".site-header", ".site-footer", ".vote", ".related", ".toc"):
        sync_api.expect(page.locator(hidden).first).to_be_hidden()
    sync_api.expect(page.locator("h1")).to_be_visible()


@pytest.mark.parametrize("locale", ["en", "ja"])
def test_no_page_is_wider_than_a_360px_screen(browser: sync_api.Browser, live_server: str, locale: str) -> None:
    with contextlib.contextmanager(open_tab)(browser, live_server) as tab:
        tab.page.set_viewport_size({"width": 360, "height": 740})
        for url in PAGES:
            tab.page.goto(url.format(locale=locale))
            assert tab.page.evaluate("document.documentElement.scrollWidth") <= 360, url


def test_a_staff_member_finds_a_readers_failed_search_on_the_dashboard(tab: Tab, client: TestClient) -> None:
    page = tab.page
    for _ in range(5):  # the most failed query of the session's help-center searches: first in its table
        page.goto("/hc/en/search?q=zzqx+quokkafrob")  # nothing in the sample answers it
        sync_api.expect(page.locator("main")).to_contain_text("zzqx quokkafrob")
    page.goto("/hc/staff/signin?locale=en&return_to=/hc/en")
    page.get_by_label("API key").fill(create_key(served_kb(client).engine, name="Lee", role="writer").secret)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(re.compile(r"/hc/en$"))
    page.get_by_role("link", name="Dashboard").click()
    page.get_by_label("Where").select_option("site")
    page.get_by_role("button", name="Show", exact=True).click()
    page.wait_for_url(re.compile(r"surface=site"))
    failed = page.get_by_role("region", name="Queries that found nothing")
    for _ in range(20):  # the server writes events a second after they happen
        if failed.get_by_role("cell", name="zzqx quokkafrob").count():
            break
        page.wait_for_timeout(250)
        page.reload()
    sync_api.expect(failed.get_by_role("cell", name="zzqx quokkafrob")).to_be_visible()
    sync_api.expect(page.get_by_role("img", name="Searches per day, with those that found nothing")).to_be_visible()
    page.get_by_label("Where").select_option("widget")
    page.get_by_role("button", name="Show", exact=True).click()
    page.wait_for_url(re.compile(r"surface=widget"))
    sync_api.expect(page.get_by_role("region", name="Queries that found nothing")).to_contain_text("Nothing recorded in this period.")
    assert tab.errors == []
