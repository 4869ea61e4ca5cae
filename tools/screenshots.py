"""The pictures of the help center in README: home, search, article and the in-product widget, in English and
Japanese, light and dark, from the bundled sample in Debian's Chromium.

    .venv/bin/python -m tools.screenshots      # writes docs/screenshots/*.png

An incident announcement is committed on top of the sample (in a copy) so the banner shows, as it would
during an outage; the widget opens on the example product page (`examples/widget/index.html`) served
from an origin of its own.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright import sync_api

from bench.server import ROOT, _free_port, running_server
from examples.product_page import serving_product_page
from kb.core.settings import SAMPLE_CONTENT, SAMPLE_HISTORY
from versioning.bootstrap import create_repo_from_history

OUT = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
ANNOUNCEMENTS = {
    "en/status/exports-maintenance.md": """---
id: exports-maintenance
title: Exports are paused for scheduled maintenance
kind: announcement
severity: maintenance
---

Workspace exports are paused while we upgrade the export service. Exports started before then finish normally.
""",
    "ja/status/exports-maintenance.md": """---
id: exports-maintenance
title: メンテナンスのためエクスポートを一時停止しています
kind: announcement
severity: maintenance
---

エクスポート機能のアップグレード中は、ワークスペースのエクスポートを一時停止しています。
""",
}
VIEWS = {
    "home": "/hc/{locale}",
    "search": "/hc/{locale}/search?q={query}",
    "article": "/hc/{locale}/articles/reset-password",
}
QUERIES = {"en": "invoice", "ja": "請求書"}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    with tempfile.TemporaryDirectory() as folder:
        content = Path(folder) / "content"
        create_repo_from_history(SAMPLE_CONTENT, content, history=SAMPLE_HISTORY).close()
        _commit(content, ANNOUNCEMENTS)
        env = {"KB_DATA_DIR": str(Path(folder) / "data"), "KB_REPO_PATH": str(content), "KB_CORS_ORIGINS": f"http://127.0.0.1:{port}"}
        with running_server(env) as server, serving_product_page(port, server.base), sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
            for scheme in ("light", "dark"):
                for locale in ("en", "ja"):
                    context = browser.new_context(viewport=VIEWPORT, color_scheme=scheme, locale=locale)
                    page = context.new_page()
                    for view, path in VIEWS.items():
                        page.goto(server.base + path.format(locale=locale, query=QUERIES[locale]))
                        page.screenshot(path=str(OUT / f"{view}-{locale}-{scheme}.png"))
                    page.goto(f"http://127.0.0.1:{port}/settings/billing?lang={locale}")
                    page.get_by_role("button", name="Help" if locale == "en" else "ヘルプ", exact=True).click()
                    page.locator("[data-kb-widget] ul.list a").first.wait_for()
                    page.screenshot(path=str(OUT / f"widget-{locale}-{scheme}.png"))
                    context.close()
            browser.close()
    print(f"wrote {len(list(OUT.glob('*.png')))} screenshots to {OUT.relative_to(ROOT)}")


def _commit(repo: Path, files: dict[str, str]) -> None:
    import subprocess

    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text, encoding="utf-8")
    identity = ["-c", "user.name=kb screenshots", "-c", "user.email=screenshots@kb.invalid"]
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(repo), *identity, "commit", "-q", "-m", "Announce the exports maintenance"], check=True)


if __name__ == "__main__":
    main()
