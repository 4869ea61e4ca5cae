"""FastAPI dependencies, named like the types they provide."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from kb.access import PUBLIC, View
from kb.knowledge_base import KnowledgeBase


# Both async, though they do no I/O: FastAPI runs a plain `def` dependency in the thread pool, a hop
# that cost more than the dependency itself on every request.
async def _knowledge_base(request: Request) -> KnowledgeBase:
    kb: KnowledgeBase | None = getattr(request.app.state, "kb", None)
    if kb is None or not kb.ready:
        raise HTTPException(503, "the index is still loading; try again in a few seconds", headers={"Retry-After": "5"})
    return kb


async def _view(request: Request) -> View:
    """Every caller is anonymous until principals exist (issue #5): public, published content only."""
    return PUBLIC


KnowledgeBaseDep = Annotated[KnowledgeBase, Depends(_knowledge_base)]
ViewDep = Annotated[View, Depends(_view)]
