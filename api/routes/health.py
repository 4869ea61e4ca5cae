"""Liveness and readiness for load balancers and orchestrators: async, as they do no blocking work."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request

from api.schemas import ReadyOut
from kb.access import PUBLIC

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up (it may still be loading its index)."""
    return {"status": "ok"}


@router.get("/readyz", response_model=ReadyOut)
async def readyz(request: Request) -> ReadyOut:
    """A snapshot is loaded and searches will be answered; counts are of what a public reader can see."""
    kb = getattr(request.app.state, "kb", None)
    if kb is None or not kb.ready:
        raise HTTPException(503, "the index is still loading", headers={"Retry-After": "5"})
    snapshot = kb.snapshot
    visible = snapshot.visible_articles(PUBLIC)
    return ReadyOut(
        status="ready",
        commit=snapshot.commit,
        model=snapshot.tag.model_id,
        articles=int(visible.sum()),
        chunks=int(visible[snapshot.chunk_article].sum()) if len(snapshot.chunks) else 0,
    )
