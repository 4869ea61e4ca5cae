"""Reaching a person: the company's support channel (.kb/site.yml ``support``), offered where the help center
did not help, carrying what the customer already did so they need not repeat it.

What travels is what the page knows: the search (``q``), the articles read (``read``: ids, each checked
against what the reader may see, so a hidden one is dropped like a missing one), the "not helpful" reason
and the locale. A helpdesk URL gets them in its template, an e-mail in its subject and body, a webhook as
JSON with the message the customer writes on the site.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import httpx

from api.schemas import article_url
from api.site import messages, votes
from articles.model import ARTICLE_ID, Article
from kb.access import View
from kb.core import InvalidRequest, KnowledgeBase, Support, is_email_address

MAX_TRAIL = 10
"""Articles read that travel with a request: the last ten are plenty for a person to see what was tried."""
MAX_MESSAGE = 5000
WEBHOOK_TIMEOUT = 5.0
REASONS = dict(votes.REASONS)
"""A "not helpful" vote's reasons, with their labels' message keys."""


@dataclass(frozen=True)
class Trail:
    """What the customer already did, as far as the page knows."""

    locale: str
    query: str = ""
    articles: tuple[Article, ...] = ()
    reason: str = ""

    def params(self) -> str:
        """The trail as the contact page's query string."""
        values = {"q": self.query, "read": ",".join(a.id for a in self.articles), "reason": self.reason}
        return urlencode({key: value for key, value in values.items() if value})

    def summary(self, origin: str) -> str:
        """The trail in sentences of the reader's language, for a ticket's description or an e-mail's body."""
        t = messages.MESSAGES[self.locale]
        lines = []
        if self.query:
            lines.append(t["contact_searched"].format(query=self.query))
        for article in self.articles:
            lines.append(t["contact_read"].format(title=article.title, url=origin + article_url(article.id, article.locale)))
        if self.reason:
            lines.append(t["contact_reason"].format(reason=t[REASONS[self.reason]]))
        lines.append(t["contact_language"].format(language=messages.LOCALE_NAMES[self.locale]))
        return "\n".join(lines)


def contact_url(locale: str, trail: Trail | None = None) -> str:
    params = trail.params() if trail else ""
    return f"/hc/{locale}/contact" + (f"?{params}" if params else "")


def read_trail(kb: KnowledgeBase, view: View, *, locale: str, query: str, read: str, reason: str) -> Trail:
    """The trail from the contact page's parameters; an id the reader may not see is left out, as a missing one."""
    if reason and reason not in REASONS:
        raise InvalidRequest("reason", f"must be one of {', '.join(REASONS)}")
    articles: list[Article] = []
    for article_id in dict.fromkeys(part.strip() for part in read.split(",") if part.strip()):
        if len(articles) == MAX_TRAIL:
            break
        if not ARTICLE_ID.match(article_id):
            raise InvalidRequest("read", f"{article_id[:40]!r} is not an article id")
        found = kb.article(article_id, locale=locale, view=view) or next(iter(kb.translations(article_id, view=view)), None)
        if found is not None:
            articles.append(found)
    return Trail(locale=locale, query=query.strip()[:500], articles=tuple(articles), reason=reason)


def helpdesk_url(template: str, trail: Trail, origin: str) -> str:
    """The helpdesk's new-request URL with the trail in its placeholders, each URL-encoded."""
    values = {
        "query": trail.query,
        "articles": " ".join(origin + article_url(a.id, a.locale) for a in trail.articles),
        "locale": trail.locale,
        "reason": trail.reason,
        "summary": trail.summary(origin),
    }
    return re.sub(r"\{(\w+)\}", lambda match: quote(values[match[1]], safe=""), template)


def mailto(address: str, trail: Trail, origin: str) -> str:
    t = messages.MESSAGES[trail.locale]
    subject = t["contact_subject"].format(query=trail.query) if trail.query else t["contact_title"]
    return f"mailto:{address}?" + urlencode({"subject": subject, "body": trail.summary(origin) + "\n\n"}, quote_via=quote)


def checked_message(email: str, message: str) -> tuple[str, str]:
    """A webhook request's reply-to address and message, or the field that is wrong."""
    email, message = email.strip(), message.strip()
    if not is_email_address(email):
        raise InvalidRequest("email", "enter the e-mail address we should answer, e.g. name@example.com")
    if not message:
        raise InvalidRequest("message", "tell us what you need help with")
    if len(message) > MAX_MESSAGE:
        raise InvalidRequest("message", f"keep it under {MAX_MESSAGE} characters")
    return email, message


class WebhookFailed(Exception):
    """The company's webhook did not take the request (unreachable, slow, or an error status)."""


def post_to_webhook(support: Support, trail: Trail, origin: str, *, email: str, message: str) -> None:
    """The request as JSON to the company's webhook; :class:`WebhookFailed` when it is not accepted."""
    assert support.webhook is not None
    payload = {
        "type": "kb.contact_request",
        "submitted_at": dt.datetime.now(dt.UTC).isoformat(),
        "locale": trail.locale,
        "email": email,
        "message": message,
        "query": trail.query,
        "reason": trail.reason or None,
        "articles": [
            {"id": a.id, "title": a.title, "locale": a.locale, "url": origin + article_url(a.id, a.locale)} for a in trail.articles
        ],
        "summary": trail.summary(origin),
    }
    try:
        response = httpx.post(support.webhook, json=payload, timeout=WEBHOOK_TIMEOUT)
    except httpx.HTTPError as error:
        raise WebhookFailed(str(error)) from None
    if response.status_code >= 300:
        raise WebhookFailed(f"answered {response.status_code}")
