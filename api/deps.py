"""FastAPI dependencies, named like the types they provide."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from kb.access import ANONYMOUS, Principal, View
from kb.keys import authenticate
from kb.knowledge_base import KnowledgeBase


# All async: FastAPI runs a plain `def` dependency in the thread pool, a hop that cost more than the
# dependency itself on every request. Only a request presenting an API key pays one, for the database.
async def _knowledge_base(request: Request) -> KnowledgeBase:
    kb: KnowledgeBase | None = getattr(request.app.state, "kb", None)
    if kb is None or not kb.ready:
        raise HTTPException(503, "the index is still loading; try again in a few seconds", headers={"Retry-After": "5"})
    return kb


KnowledgeBaseDep = Annotated[KnowledgeBase, Depends(_knowledge_base)]


async def _principal(request: Request, kb: KnowledgeBaseDep) -> Principal:
    """Anonymous without an Authorization header; a bad key is a 401, never a quiet fall back to anonymous."""
    header = request.headers.get("authorization")
    if header is None:
        return ANONYMOUS
    scheme, _, key = header.partition(" ")
    challenge = {"WWW-Authenticate": "Bearer"}
    if scheme.lower() != "bearer" or not key.strip():
        raise HTTPException(401, "the Authorization header must read 'Bearer <API key>'", headers=challenge)
    record = await run_in_threadpool(authenticate, kb.engine, key.strip())
    if record is None:
        raise HTTPException(401, "unknown, revoked or expired API key", headers=challenge)
    return Principal(record.role, record.name)


PrincipalDep = Annotated[Principal, Depends(_principal)]


async def _view(principal: PrincipalDep) -> View:
    return principal.view


ViewDep = Annotated[View, Depends(_view)]
