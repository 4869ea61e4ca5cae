"""Suggestions for an agent working a ticket: the articles, and the passage in each, that answer it.

The ticket is reduced to what the customer asked (:mod:`kb.assist.tickets`) and read as the
conversation it is: its subject and first message open it, and its last customer message is the
query, read with every turn before it (`search/query.py`). The agent searches with their own view, so
internal articles are suggested too; each suggestion says whether the requester may be sent it
(``sendable``), judged by the requester's own view, so an agent never pastes an internal or another
segment's article to a customer by mistake. An active announcement among them (an outage the ticket is
about) comes first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kb.access.rules import View
from kb.assist.ledger import Shown, record_interactions
from kb.assist.tickets import reduce_ticket_text
from kb.core import announcements
from kb.core.knowledge_base import KnowledgeBase
from kb.core.requests import MAX_CONTEXT_CHARS, InvalidRequest, SearchRequest
from search.passages import Passage, best_passage
from search.snapshot import Hit, IndexSnapshot, Results

DEFAULT_SUGGESTIONS = 5
MAX_TICKET_CHARS = MAX_CONTEXT_CHARS
"""A ticket's subject, body, messages and tags together: a long thread, not a log file."""


@dataclass(frozen=True)
class Message:
    role: str
    """``customer`` or ``agent``."""
    text: str


@dataclass(frozen=True)
class Ticket:
    subject: str = ""
    body: str = ""
    messages: tuple[Message, ...] = ()
    """The conversation after the body, oldest first."""
    locale: str | None = None
    tags: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    """Articles the ticket already links: not suggested again."""
    limit: int = DEFAULT_SUGGESTIONS


@dataclass(frozen=True)
class Suggestion:
    hit: Hit
    passage: Passage
    sendable: bool
    """Whether the requester may see the article, so may be sent it."""
    announced: bool = False
    """Whether the article is an announcement open now: such suggestions come first."""


@dataclass(frozen=True)
class Suggestions:
    interaction_id: str
    commit: str
    query: str
    """What was searched for: the ticket's last customer turn, reduced."""
    suggestions: list[Suggestion]


def ticket_request(ticket: Ticket, *, reduce: Callable[[str], str] = reduce_ticket_text) -> SearchRequest:
    """The search a ticket asks for: its last customer turn, with every turn before it as the conversation.

    The subject and body open the conversation (tags, written as words, with them); each message
    follows, reduced (``reduce``: `bench/noisy_tickets.py` measures what reducing buys). A ticket that
    reduces to nothing is refused, naming its fields.
    """
    if sum(len(text) for text in (ticket.subject, ticket.body, *(m.text for m in ticket.messages), *ticket.tags)) > MAX_TICKET_CHARS:
        raise InvalidRequest("body", f"the ticket (subject, body, messages and tags) is longer than {MAX_TICKET_CHARS} characters")
    tags = " ".join(tag.replace("_", " ").replace("-", " ") for tag in ticket.tags)
    opening = "\n".join(part for part in (ticket.subject.strip(), reduce(ticket.body), tags) if part)
    turns = [("customer", opening)] if opening else []
    turns += [(message.role, reduce(message.text)) for message in ticket.messages]
    turns = [(role, text) for role, text in turns if text]
    customer_turns = [number for number, (role, _) in enumerate(turns) if role == "customer"]
    if not customer_turns:
        raise InvalidRequest("body", "the ticket has no words from the customer once greetings, signatures and quotes are removed")
    last = customer_turns[-1]
    return SearchRequest(
        query=turns[last][1],
        context=tuple(text for _, text in turns[:last]),
        locale=ticket.locale,
        exclude=ticket.exclude,
        limit=ticket.limit,
        ticket=True,
        facets=False,
        max_query_chars=MAX_TICKET_CHARS,
    )


def suggest(
    kb: KnowledgeBase, requests: Sequence[SearchRequest], *, view: View, requesters: Sequence[View], principal_kind: str
) -> list[Suggestions]:
    """Suggestions for each ticket's search (:func:`ticket_request`), in one pass with the agent's ``view``.

    ``sendable`` is judged by each ticket's requester. Tickets are not customers' searches: they never
    move the traffic mix that customers' queries are weighed by.
    """
    snapshot, moment = kb.snapshot, announcements.now()
    responses = kb.search_many(requests, view=view, snapshot=snapshot, observe_traffic=False)
    found = [
        _suggestions(snapshot, response.results, requester, moment)
        for response, requester in zip(responses, requesters, strict=True)
    ]
    shown = [[Shown.of(s.hit) for s in items] for items in found]
    ids = record_interactions(kb.writer, "suggestion", principal_kind=principal_kind, commit=snapshot.commit, shown=shown)
    return [
        Suggestions(interaction_id=interaction, commit=snapshot.commit, query=request.text, suggestions=items)
        for interaction, request, items in zip(ids, requests, found, strict=True)
    ]


def _suggestions(snapshot: IndexSnapshot, results: Results, requester: View, moment: dt.datetime) -> list[Suggestion]:
    wanted = snapshot.lexical_index.term_mask(results.content_terms)
    found = [
        Suggestion(
            hit,
            best_passage(hit.chunk.text, snapshot.matches(hit.chunk_id, wanted)),
            sendable=requester.can_see(hit.article),
            announced=hit.article.front.active_at(moment),
        )
        for hit in results.hits
    ]
    first = sorted((s for s in found if s.announced), key=lambda s: announcements.rank(s.hit.article))
    return first + [s for s in found if not s.announced]
