"""What the help center's pages cost over HTTP, as ratios to GET /v1/search in the same run, and the widget's
first paint in Chromium.

    python -m bench.site_latency [--rounds 5]   # part of `make bench`; writes its section of docs/benchmarks.md

`kb serve` over the bundled sample, the query cache on (as served). Each round, one request at a time
after 10 ms idle, for every sample bench query: GET /v1/search, and the search page for it; then every
public article's page, first rendered (the first round, after a new start: the cache is empty) and then
served from the page cache, and revalidated with its ETag (a 304). The widget: the example product page
(`examples/widget/index.html`, from another origin) in Debian's Chromium; the time from the click on
Help to the panel's list of articles on screen, and GET /v1/widget alone.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import numpy as np
from playwright import sync_api
from rich.console import Console

from bench.queries import SAMPLE_QUERIES
from bench.report import write_section
from bench.search_latency import timed_get, timed_request
from bench.server import ROOT, _free_port, running_server
from examples.product_page import serving_product_page
from search.cpu import cpu_description

IDLE_SECONDS = 0.01
WIDGET_OPENINGS = 20

console = Console()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    product_port = _free_port()
    product = f"http://127.0.0.1:{product_port}"
    env = {"KB_RATE_LIMIT_ANONYMOUS": "1000000/minute", "KB_CORS_ORIGINS": product}
    with tempfile.TemporaryDirectory() as folder, running_server(env | {"KB_DATA_DIR": folder}) as server:
        connection = http.client.HTTPConnection(urlsplit(server.base).netloc, timeout=60)
        articles = _public_articles(connection)
        times: dict[str, list[float]] = {name: [] for name in SURFACES}
        for path in articles:  # a fresh server: each page's first request renders it
            time.sleep(IDLE_SECONDS)
            times["article page, rendered"].append(timed_get(connection, path))
        for _ in range(args.rounds):
            for query, locale in SAMPLE_QUERIES:
                time.sleep(IDLE_SECONDS)
                times["GET /v1/search"].append(timed_get(connection, "/v1/search?" + urlencode({"q": query, "locale": locale})))
                time.sleep(IDLE_SECONDS)
                times["search page"].append(timed_get(connection, f"/hc/{locale}/search?" + urlencode({"q": query})))
            for path in articles:
                time.sleep(IDLE_SECONDS)
                times["article page, cached"].append(timed_get(connection, path))
                time.sleep(IDLE_SECONDS)
                times["article page, 304"].append(_revalidated(connection, path))
            time.sleep(IDLE_SECONDS)
            times["GET /v1/widget"].append(timed_get(connection, "/v1/widget?locale=en&path=/settings/billing&areas=billing"))
        first_paint = _widget_first_paint(server.base, product_port)
    p50 = {name: float(np.percentile(values, 50)) * 1000 for name, values in times.items()}
    paint = float(np.percentile(first_paint, 50)) * 1000
    search = p50["GET /v1/search"]
    lines = [
        "## The help center: speed",
        "",
        f"- command: `make bench  # = python -m bench.site_latency --rounds {args.rounds}`",
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"- machine: {platform.machine()}, {cpu_description()}, {os.cpu_count()} cores",
        f"- the sample help center over HTTP, one request at a time; {len(SAMPLE_QUERIES)} queries, {len(articles)} public article pages",
        "",
        "| request | p50 ms | ÷ search |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {p50[name]:.2f} | {p50[name] / search:.2f}× |" for name in SURFACES]
    lines += [
        f"| widget: click on Help → its articles shown ({WIDGET_OPENINGS} openings in Chromium) | {paint:.1f} | {paint / search:.2f}× |",
        "",
    ]
    markdown = "\n".join(lines) + "\n"
    console.print(markdown, markup=False, highlight=False)
    write_section(args.out, "make bench: the help center", markdown)


SURFACES = ["GET /v1/search", "search page", "article page, rendered", "article page, cached", "article page, 304", "GET /v1/widget"]


def _public_articles(connection: http.client.HTTPConnection) -> list[str]:
    """Every public article's page, from the sitemap."""
    connection.request("GET", "/sitemap.xml")
    body = connection.getresponse().read().decode()
    return [urlsplit(loc).path for loc in body.split("<loc>")[1:] for loc in [loc.split("</loc>")[0]] if "/articles/" in loc]


def _revalidated(connection: http.client.HTTPConnection, path: str) -> float:
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    return timed_request(connection, "GET", path, headers={"If-None-Match": response.getheader("ETag") or ""}, status=304)


def _widget_first_paint(kb_url: str, port: int) -> list[float]:
    """Seconds from the click on Help to the panel's first article link painted, over fresh page loads."""
    timings = []
    with serving_product_page(port, kb_url) as product, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        for _ in range(WIDGET_OPENINGS):
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"{product}/settings/billing")
            page.get_by_role("button", name="Help", exact=True).wait_for()
            elapsed = page.evaluate(
                """async () => {
                  const host = document.querySelector('[data-kb-widget]').shadowRoot;
                  const started = performance.now();
                  host.querySelector('.launcher').click();
                  while (!host.querySelector('ul.list a')) await new Promise((done) => requestAnimationFrame(done));
                  await new Promise((done) => requestAnimationFrame(done));
                  return performance.now() - started;
                }"""
            )
            timings.append(elapsed / 1000)
            context.close()
        browser.close()
    return timings


if __name__ == "__main__":
    main()
