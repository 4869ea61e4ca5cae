"""Reaching a person (.kb/site.yml ``support``): offered where the help center did not help, carrying the
search, the articles read and the locale; and the results page's filters by topic."""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.conftest import _free_port, article_text, served_app

ARTICLES = {
    "en/reset.md": article_text("reset", "Reset your password", "Use the sign-in page to reset a forgotten password.", category="account"),
    "en/invoices.md": article_text("invoices", "Download invoices", "Invoices and password-protected PDFs.", category="billing"),
    "en/secret.md": article_text("secret", "Internal refund playbook", "Agents only.", audience="agents"),
}
HELPDESK = "https://acme.zendesk.example/hc/requests/new?subject={query}&description={summary}&locale={locale}"


def with_support(channel: str) -> dict[str, str]:
    return {".kb/site.yml": f"support: {{{channel}}}\n", **ARTICLES}


def link_to(page: str, text: str) -> str:
    found = re.search(rf'<a (?:class="button" )?href="([^"]+)"[^>]*>{re.escape(text)}</a>', page)
    assert found is not None, text
    return html.unescape(found.group(1))


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict]]]:
    """A company's webhook: records what kb posts, answers 204 (a path ending in /down answers 503)."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(503 if self.path.endswith("/down") else 204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", _free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/support", received
    server.shutdown()
    server.server_close()


def test_a_helpdesk_link_carries_the_search_the_articles_read_and_the_locale(make_client) -> None:
    site = make_client(with_support(f'url: "{HELPDESK}"'))
    page = site.get("/hc/en/contact", params={"q": "can't reset password", "read": "reset,secret,missing", "reason": "unclear"}).text
    target = urlsplit(link_to(page, "Continue to our support form"))
    assert target.netloc == "acme.zendesk.example"
    fields = {key: values[0] for key, values in parse_qs(target.query).items()}
    assert fields["subject"] == "can't reset password" and fields["locale"] == "en"
    assert "Read “Reset your password” (http://testserver/hc/en/articles/reset)" in fields["description"]
    assert "It is hard to understand" in fields["description"]
    assert "secret" not in fields["description"] and "refund" not in page, "an article the reader may not see never travels"


def test_an_email_channel_fills_in_the_subject_and_body(make_client) -> None:
    site = make_client(with_support("email: help@acme.example"))
    page = site.get("/hc/ja/contact", params={"q": "請求書", "read": "invoices"}).text
    mailto = link_to(page, "help@acme.example にメールする")
    assert mailto.startswith("mailto:help@acme.example?")
    fields = {key: values[0] for key, values in parse_qs(urlsplit(mailto).query).items()}
    assert fields["subject"] == "「請求書」についての問い合わせ"
    assert "「Download invoices」を閲覧" in unquote(fields["body"]) and "言語：日本語" in fields["body"]


def test_a_webhook_request_is_posted_as_json_with_the_trail(make_client, webhook) -> None:
    url, received = webhook
    site = make_client(with_support(f'webhook: "{url}"'))
    page = site.get("/hc/en/contact", params={"q": "refund", "read": "invoices"}).text
    trail = html.unescape(re.search(r'name="trail" value="([^"]*)"', page).group(1))  # type: ignore[union-attr]
    sent = site.post("/hc/en/contact", data={"email": "ann@example.com", "message": "I was charged twice.", "trail": trail})
    assert sent.status_code == 200 and "Your request is on its way" in sent.text
    (request,) = received
    assert request["email"] == "ann@example.com" and request["message"] == "I was charged twice."
    assert request["query"] == "refund" and request["locale"] == "en"
    assert [a["id"] for a in request["articles"]] == ["invoices"]


@pytest.mark.parametrize(
    ("form", "field"), [({"email": "not-an-address", "message": "Help"}, "email"), ({"email": "a@b.example", "message": " "}, "message")]
)
def test_a_webhook_request_with_bad_input_is_refused_naming_the_field(make_client, webhook, form: dict, field: str) -> None:
    url, received = webhook
    site = make_client(with_support(f'webhook: "{url}"'))
    refused = site.post("/hc/en/contact", data=form | {"trail": ""})
    assert refused.status_code == 400 and received == []
    assert re.search(rf'id="contact-{field}"[^>]*aria-invalid="true"', refused.text, re.S)


def test_a_failing_webhook_is_a_page_that_says_so_not_a_server_error(make_client, webhook) -> None:
    url, _ = webhook
    site = make_client(with_support(f'webhook: "{url}/down"'))
    failed = site.post("/hc/en/contact", data={"email": "ann@example.com", "message": "Help", "trail": ""})
    assert failed.status_code == 502 and "could not be sent just now" in failed.text
    assert 'value="ann@example.com"' in failed.text, "what the reader typed is kept"


def test_a_contact_post_from_another_site_is_refused(make_client, webhook) -> None:
    url, received = webhook
    site = make_client(with_support(f'webhook: "{url}"'))
    refused = site.post("/hc/en/contact", data={"email": "a@b.example", "message": "Hi"}, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and received == []


def test_without_a_support_channel_there_is_no_contact_page_or_link(make_client) -> None:
    site = make_client(ARTICLES)
    assert site.get("/hc/en/contact").status_code == 404
    assert "/contact" not in site.get("/hc/en/search", params={"q": "zzqqxx nothing matches"}).text
    voted = site.post("/hc/en/articles/reset/vote", data={"vote": "not_helpful"}, headers={"Accept": "application/json"})
    assert voted.json()["contact_url"] is None
    assert site.get("/v1/widget").json()["contact"] is None


def test_the_no_results_page_offers_support_with_the_query(make_client) -> None:
    site = make_client(with_support(f'url: "{HELPDESK}"'))
    page = site.get("/hc/en/search", params={"q": "quantum teleportation"}).text
    assert link_to(page, "Still need help? Contact support") == "/hc/en/contact?q=quantum+teleportation"


def test_a_not_helpful_vote_offers_support_with_the_article(make_client) -> None:
    site = make_client(with_support(f'url: "{HELPDESK}"'))
    voter = TestClient(served_app(site), follow_redirects=False)
    after = voter.post("/hc/en/articles/reset/vote", data={"vote": "not_helpful", "reason": "unclear"})
    assert after.headers["location"] == "/hc/en/articles/reset?voted=sorry#vote"
    page = voter.get("/hc/en/articles/reset?voted=sorry").text
    assert link_to(page, "Still need help? Contact support") == "/hc/en/contact?read=reset"
    in_place = TestClient(served_app(site)).post(
        "/hc/en/articles/invoices/vote", data={"vote": "not_helpful", "reason": "outdated"}, headers={"Accept": "application/json"}
    )
    assert in_place.json()["contact_url"] == "/hc/en/contact?read=invoices&reason=outdated"


def test_the_widget_learns_where_the_contact_page_is(make_client) -> None:
    site = make_client(with_support(f'url: "{HELPDESK}"'))
    assert site.get("/v1/widget", params={"locale": "ja"}).json()["contact"] == "/hc/ja/contact"


# Filters by topic on the results page.


def test_results_can_be_filtered_by_topic_with_counts(make_client) -> None:
    site = make_client(ARTICLES)
    page = site.get("/hc/en/search", params={"q": "password"}).text
    chips = dict(re.findall(r'<a href="([^"]+)"[^>]*>([^<]+) <span class="facet-count">', page))
    assert set(chips.values()) == {"All topics", "Account", "Billing"}
    filtered = site.get(html.unescape(next(url for url, name in chips.items() if name == "Billing"))).text
    assert "Download invoices" in filtered and "Reset your password" not in filtered
    assert re.search(r'aria-current="true">Billing <span class="facet-count">1</span>', filtered)
    assert re.search(r'>Account <span class="facet-count">1</span>', filtered), "the other topics stay reachable"
