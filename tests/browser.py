"""Debian's Chromium driven by Playwright, shared by the browser tests: a tab that records every error."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright import sync_api

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@dataclass
class Tab:
    """A page and everything it reported as an error: console errors (CSP violations among them) and exceptions."""

    page: sync_api.Page
    errors: list[str] = field(default_factory=list)


def launched() -> Iterator[sync_api.Browser]:
    """The browser for a module's tests. A missing one fails the run rather than skipping it: `make test` installs it."""
    assert CHROMIUM.exists(), "needs Debian's chromium: apt-get install -y chromium (`make install` does it)"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_tab(browser: sync_api.Browser, base_url: str, **options: Any) -> Iterator[Tab]:
    """A fresh context (no cookies) with one page on ``base_url``, closed after the test."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900}, **options)
    tab = Tab(context.new_page())
    tab.page.on("console", lambda message: tab.errors.append(message.text) if message.type == "error" else None)
    tab.page.on("pageerror", lambda error: tab.errors.append(str(error)))
    yield tab
    context.close()
