"""FastAPI dependencies, named like the types they provide."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from kb.access import (
    ANONYMOUS,
    KEY_PREFIX,
    Principal,
    TokenRefused,
    View,
    authenticate,
    key_principal,
    parse_principal,
    verify_customer_token,
)
from kb.core import InvalidRequest, KnowledgeBase, Settings, refusal


# All async: FastAPI runs a plain `def` dependency in the thread pool, a hop that cost more than the
# dependency itself on every request. Only a request presenting an API key pays one, for the database.
async def knowledge_base_of(request: Request) -> KnowledgeBase:
    kb: KnowledgeBase | None = getattr(request.app.state, "kb", None)
    if kb is None or not kb.ready:
        raise HTTPException(503, "the index is still loading; try again in a few seconds", headers={"Retry-After": "5"})
    return kb


KnowledgeBaseDep = Annotated[KnowledgeBase, Depends(knowledge_base_of)]


SESSION_COOKIE = "kb_session"
"""The help center's sign-in: the customer's token, set by /hc/session, read like a bearer token."""
STAFF_COOKIE = "kb_staff"
"""A staff member's help-center session (:func:`kb.access.session_token`): the key's id and a MAC, never the key."""
CUSTOMER_TOKEN_HEADER = "X-KB-Customer-Token"
"""A bot key answering a signed-in customer forwards that customer's token here, and reads as they would."""
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


async def principal_of(request: Request, kb: KnowledgeBaseDep) -> Principal:
    """Anonymous without credentials; a bad key or token is a 401, never a quiet fall back to anonymous.

    ``Authorization: Bearer`` carries an API key (``kb_…``) or a customer token; without it, the site's
    session cookie. A bot key may add the customer it answers for in ``X-KB-Customer-Token``. Resolved
    once per request, refusals included: the rate limiter and the route both ask.
    """
    known: Principal | HTTPException | None = getattr(request.state, "principal", None)
    if known is None:
        try:
            known = await _authenticate(request, kb)
        except HTTPException as refused:
            known = refused
        request.state.principal = known
    if isinstance(known, HTTPException):
        raise known
    return known


def header(request: Request, name: str) -> str | None:
    """A request header kb reads, held to :mod:`kb.core.text`'s rules for a line: a 400 names the header.

    HTTP servers refuse most control characters in headers already; this holds whatever server or
    proxy is in front, and every header kb reads goes through here.
    """
    value = request.headers.get(name)
    if value is not None and (reason := refusal(value)) is not None:
        raise HTTPException(400, f"header {name}: {reason}")
    return value


async def _authenticate(request: Request, kb: KnowledgeBase) -> Principal:
    authorization = header(request, "Authorization")
    if authorization is None:
        cookie = request.cookies.get(SESSION_COOKIE)
        return ANONYMOUS if cookie is None else customer(kb.settings, cookie, source=f"the {SESSION_COOKIE} cookie")
    scheme, _, credential = authorization.partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        raise HTTPException(401, "the Authorization header must read 'Bearer <API key or customer token>'", headers=_CHALLENGE)
    if not credential.startswith(KEY_PREFIX):
        return customer(kb.settings, credential, source="the Authorization header")
    record = await run_in_threadpool(authenticate, kb.engine, credential)
    if record is None:
        raise HTTPException(401, "unknown, revoked or expired API key", headers=_CHALLENGE)
    principal = key_principal(record)
    forwarded = header(request, CUSTOMER_TOKEN_HEADER)
    if forwarded is None:
        return principal
    if record.role != "bot":
        raise HTTPException(400, f"{CUSTOMER_TOKEN_HEADER} is for bot keys answering a customer; {record.role} keys read as themselves")
    answered = customer(kb.settings, forwarded, source=CUSTOMER_TOKEN_HEADER)
    return dataclasses.replace(principal, customer=answered.customer, segments=answered.segments)


def customer(settings: Settings, token: str, *, source: str) -> Principal:
    """The customer a token names; 401 naming where the token came from and what was wrong with it."""
    if settings.jwt_secret is None:
        reason = f"{source} holds no API key (those start with {KEY_PREFIX}) and customer tokens are off (KB_JWT_SECRET is unset)"
        raise HTTPException(401, reason, headers=_CHALLENGE)
    try:
        return verify_customer_token(
            token, secret=settings.jwt_secret.get_secret_value(), audience=settings.jwt_audience, issuer=settings.jwt_issuer
        )
    except TokenRefused as refused:
        raise HTTPException(401, f"{source}: {refused}", headers=_CHALLENGE) from None


PrincipalDep = Annotated[Principal, Depends(principal_of)]


def customer_token_view(settings: Settings, token: str) -> View:
    """The view of a customer whose token a request's body carries (``customer_token``).

    The caller's own credentials are fine: a bad token here is bad input, a 422 on that field, not their 401.
    """
    try:
        return customer(settings, token, source="customer_token").view
    except HTTPException as refused:
        raise InvalidRequest("customer_token", str(refused.detail)) from None


@contextmanager
def batch_item(collection: str, number: int, *, batch: bool) -> Iterator[None]:
    """Bad input in one item of a batch named by its place (``tickets.3.body``); a single call's by its field alone."""
    try:
        yield
    except InvalidRequest as invalid:
        raise InvalidRequest(f"{collection}.{number}.{invalid.field}" if batch else invalid.field, invalid.message) from None


async def view_of(request: Request, kb: KnowledgeBaseDep) -> View:
    # principal_of called, not declared as a dependency: one node less for FastAPI to solve on every request.
    return (await principal_of(request, kb)).view


ViewDep = Annotated[View, Depends(view_of)]


AS_DESCRIPTION = (
    "Staff only: answer as this reader would see it (anonymous, customer, customer:SEGMENT,…, bot), "
    "to know what a link or an answer sent to them shows."
)


SURFACE_HEADER = "X-KB-Surface"
CLIENT_SURFACES = {"widget": "widget", "typeahead": None}
"""What kb's own pages say they are when they call the API: the in-product widget, or search-as-you-type,
whose every keystroke is a search no report should count. Any other caller is the API."""


def client_surface(request: Request) -> str | None:
    """Where a request to the API comes from, for its events: ``api``, ``widget``, or None (not recorded)."""
    value = header(request, SURFACE_HEADER)
    if value is None:
        return "api"
    if value not in CLIENT_SURFACES:
        raise HTTPException(400, f"header {SURFACE_HEADER}: {value!r} is not one of {', '.join(CLIENT_SURFACES)}")
    return CLIENT_SURFACES[value]


def reading_as(view: View, label: str | None) -> View:
    """The view a staff caller asked to read with (``?as=``), judged by the same rules as that reader's own requests.

    Only staff may ask: they see everything already, so no reader learns more than their own view holds.
    """
    if label is None:
        return view
    if not view.staff:
        raise HTTPException(403, "reading as another reader (as=) needs an agent, writer, reviewer or admin API key")
    try:
        return parse_principal(label).view
    except ValueError as error:
        raise InvalidRequest("as", str(error)) from None
