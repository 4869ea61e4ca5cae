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
    """A snapshot is loaded and searches will be answered; counts are of what a public reader can see.

    Right after a restart kb serves its last complete snapshot while it indexes what changed since:
    ``status`` is then ``catching-up`` and ``commit`` the one served until the new snapshot swaps in.
    """
    kb = getattr(request.app.state, "kb", None)
    catch_up = getattr(request.app.state, "catch_up", None)
    if kb is None or not kb.ready:
        failed = catch_up.error if catch_up is not None else None
        detail = f"the index could not be built ({failed}); see the server's log" if failed else "the index is still loading"
        raise HTTPException(503, detail, headers={"Retry-After": "5"})
    snapshot = kb.snapshot
    visible = snapshot.visible_articles(PUBLIC)
    catching_up = catch_up is not None and catch_up.catching_up
    return ReadyOut(
        status="catching-up" if catching_up else "ready",
        catching_up=catching_up,
        commit=snapshot.commit,
        model=snapshot.tag.model_id,
        articles=int(visible.sum()),
        chunks=int(visible[snapshot.chunk_article].sum()) if len(snapshot.chunks) else 0,
    )
