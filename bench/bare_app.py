"""The floor `make bench` measures kb's HTTP overhead against: FastAPI with one async route, nothing else.

Served by the same uvicorn, with the same settings as `kb serve` (uvloop, httptools, no access log), so
what a kb route costs beyond it is kb's own: its middleware, dependencies, validation and work.
"""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def root() -> dict[str, str]:
    return {"status": "ok"}
