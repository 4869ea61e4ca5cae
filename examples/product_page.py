"""The example product page (examples/widget/index.html) served from an origin of its own, as a company's app
would serve it, with its widget tag pointing at a running kb: for the browser tests, `make bench` and the
README's screenshots. Every path answers the page (a single-page app's server does the same); ``?lang=ja``
answers it in Japanese, its widget too.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

EXAMPLE_PAGE = Path(__file__).resolve().parent / "widget" / "index.html"
README_KB = "http://127.0.0.1:8000"
"""kb's address as the example page (and README) write it."""


@contextmanager
def serving_product_page(port: int, kb_url: str) -> Iterator[str]:
    """Serve the page on 127.0.0.1:``port`` with its widget loaded from ``kb_url``; yields the page's origin."""
    english = EXAMPLE_PAGE.read_text(encoding="utf-8").replace(README_KB, kb_url)
    japanese = english.replace('<html lang="en">', '<html lang="ja">').replace('data-locale="en"', 'data-locale="ja"')
    pages = {"en": english.encode(), "ja": japanese.encode()}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            page = pages["ja" if urlsplit(self.path).query == "lang=ja" else "en"]
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
