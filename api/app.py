"""The FastAPI app factory; the model and the index load in the lifespan, never at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from api import problems
from api.routes import articles, changes, health, history, proposals, search, webhooks
from api.site import routes as site
from kb.bootstrap import open_knowledge_base
from kb.settings import Settings
from kb.sync import SyncLoop
from versioning.webhooks import Deliveries
from search.encoder import Encoder


def create_app(settings: Settings | None = None, *, encoder: Encoder | None = None) -> FastAPI:
    """Build the app. ``encoder`` lets several apps in one process (tests, benchmarks) share one loaded model."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        kb = app.state.kb = await run_in_threadpool(open_knowledge_base, settings, encoder=encoder)
        app.state.sync = SyncLoop(kb, interval=settings.sync_interval) if settings.repo_url else None
        if app.state.sync is not None:
            app.state.sync.start()
            app.state.sync.request()  # the remote may have moved while the server was down
        yield
        if app.state.sync is not None:
            await run_in_threadpool(app.state.sync.stop)
        kb.close()

    app = FastAPI(
        title="kb",
        summary="Search and read a support knowledge base kept as Markdown in Git.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.deliveries = Deliveries()
    problems.install(app)
    app.include_router(health.router)
    app.include_router(search.router)
    app.include_router(articles.router)
    app.include_router(history.router)
    app.include_router(changes.router)
    app.include_router(proposals.router)
    app.include_router(webhooks.router)
    app.include_router(site.router)
    return app
