"""The floor `make bench` measures kb's HTTP overhead against: FastAPI with one async route, nothing else.

Served by the same uvicorn, with the same settings as `kb serve` (uvloop, httptools, no access log), so
what a kb route costs beyond it is kb's own: its middleware, dependencies, validation and work.

``/hop`` is the same route sending a call that does nothing to asyncio's thread pool, as kb's search
route sends its work (CPU-bound work must never hold up the event loop): what that rule alone costs.
"""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def root() -> dict[str, str]:
    return {"status": "ok"}


def _nothing() -> None:
    return None


@app.get("/hop")
async def hop() -> dict[str, str]:
    await asyncio.get_running_loop().run_in_executor(None, _nothing)
    return {"status": "ok"}
