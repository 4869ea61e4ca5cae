"""The FastAPI app factory; the model and the saved index load in the lifespan, never at import; the rest after."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api import problems
from api.deps import CUSTOMER_TOKEN_HEADER, SURFACE_HEADER
from api.mcp import HttpEndpoint
from api.middleware import PerReaderCaching, RequestLimits
from api.ratelimits import RateLimits, rate_limited
from api.routes import (
    access,
    answers,
    articles,
    changes,
    citations,
    events,
    feedback,
    gaps,
    health,
    history,
    proposals,
    reports,
    retrieve,
    search,
    suggestions,
    webhooks,
    widget,
)
from api.site import routes as site
from api.site.pagecache import PageCache
from kb.analytics import UpkeepLoop
from kb.core import CatchUp, Settings, SyncLoop, check_settings, open_knowledge_base
from search.encoder import Encoder
from versioning.webhooks import Deliveries

MCP_HEADERS = ("Mcp-Protocol-Version", "Mcp-Session-Id")
"""An MCP client in a browser sends its protocol version on every request (and a session id, which the
stateless /mcp ignores but must let through)."""


def create_app(settings: Settings | None = None, *, encoder: Encoder | None = None) -> FastAPI:
    """Build the app. ``encoder`` lets several apps in one process (tests, benchmarks) share one loaded model."""
    settings = settings or Settings()
    check_settings(settings)
    mcp = HttpEndpoint()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The saved snapshot serves at once; the index catches up with the branch behind it.
        kb = app.state.kb = await run_in_threadpool(open_knowledge_base, settings, encoder=encoder, index=False)
        sync = app.state.sync = SyncLoop(kb, interval=settings.sync_interval) if settings.repo_url else None
        app.state.catch_up = CatchUp(kb, then=sync.start_now if sync is not None else None)
        app.state.catch_up.start()
        upkeep = app.state.upkeep = UpkeepLoop(kb.engine, days=settings.analytics_retention_days)
        upkeep.start()
        async with mcp.running():
            yield
        await run_in_threadpool(upkeep.stop)
        await run_in_threadpool(app.state.catch_up.stop)
        if sync is not None:
            await run_in_threadpool(sync.stop)
        kb.close()

    app = FastAPI(
        title="kb",
        summary="Search and read a support knowledge base kept as Markdown in Git.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.deliveries = Deliveries()
    app.state.rate_limits = RateLimits(settings)
    app.state.page_cache = PageCache()
    problems.install(app)
    app.exception_handler(RequestValidationError)(_invalid_input)  # as problems.install registers its handlers
    app.add_exception_handler(site.SessionRefused, site.session_refused)
    # Health checks are left out of rate limits: an orchestrator polling them must never be refused.
    app.include_router(health.router)
    limited = [Depends(rate_limited)]
    app.include_router(search.router)  # limited route by route: GET /v1/search counts its caller itself
    routers = (
        articles, history, changes, access, proposals, suggestions, answers, citations, retrieve, feedback, events, reports, gaps, widget,
        webhooks, site,
    )  # fmt: skip
    for module in routers:
        app.include_router(module.router, dependencies=limited)
    app.router.routes.append(mcp.route)  # authenticates and counts each request itself
    # Added innermost first: size limits see a request before anything reads it, and the caching
    # headers reach every response the app writes, its errors included (an unhandled exception's 500
    # comes from Starlette's outermost middleware, with a generic body).
    app.add_middleware(RequestLimits, max_body_bytes=settings.max_body_bytes, max_query_bytes=settings.max_query_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", CUSTOMER_TOKEN_HEADER, SURFACE_HEADER, *MCP_HEADERS],
            expose_headers=["Link", "Retry-After", "Mcp-Session-Id"],
            max_age=600,
        )
    app.add_middleware(PerReaderCaching)
    return app


async def _invalid_input(request: Request, error: RequestValidationError) -> Response:
    """Bad input is a page on the help center and problem+json everywhere else."""
    if site.is_site_page(request.url.path):
        return site.invalid_input(request, error)
    return await problems.validation_failed(request, error)
