"""Serving and indexing: `kb serve`, `kb index`, `kb sync`."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Annotated

import typer

from kb.cli.common import check_database, console, errors, or_exit, print_report, progress_bar, refuse_insecure, show_progress
from kb.core.settings import Settings


def index(full: Annotated[bool, typer.Option(help="Rebuild from scratch instead of from the saved snapshot.")] = False) -> None:
    """Index the content repository's default branch and save the snapshot the server will load."""
    from kb.core.bootstrap import ensure_content, load_encoder
    from kb.core.db import make_engine
    from kb.core.knowledge_base import KnowledgeBase

    settings = Settings()
    ensure_content(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with console.status("Loading the embedding model…", spinner="dots") if show_progress() else nullcontext():
        encoder = load_encoder(settings)
    kb = KnowledgeBase(settings=settings, encoder=encoder, engine=make_engine(settings.database))
    previous = None if full else kb.store.load_latest()
    with progress_bar() as bar:
        task = bar.add_task("Reading articles", total=None)
        report = kb.refresh(
            previous=previous,
            progress=lambda stage, done, total: bar.update(
                task, description=f"{stage.capitalize()} {'articles' if stage == 'chunking' else 'chunks'}", completed=done, total=total
            ),
        )
    kb.close()
    print_report(report)


def serve(
    host: Annotated[str | None, typer.Option(help="Overrides KB_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Overrides KB_PORT.")] = None,
) -> None:
    """Serve the API (and the help center) with uvicorn."""
    import logging

    import uvicorn

    # uvicorn configures only its own loggers; kb's (sample copy, indexing progress) need a handler too.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s:     %(name)s: %(message)s")
    for package in ("kb", "api"):
        logging.getLogger(package).setLevel(logging.INFO)
    settings = Settings()
    refuse_insecure(settings)
    check_database(settings)
    # The app is named by its import string, so this module never imports `api` (imports go api → kb).
    uvicorn.run("api.app:create_app", factory=True, host=host or settings.host, port=port or settings.port, access_log=settings.access_log)


def sync() -> None:
    """Fetch KB_REPO_BRANCH from KB_REPO_URL, fast-forward it (never a reset) and reindex what changed."""
    from kb.core.bootstrap import open_knowledge_base
    from kb.core.sync import sync_knowledge_base

    settings = Settings()
    if not settings.repo_url:
        errors.print("error: KB_REPO_URL is not set: there is no remote to sync with", markup=False)
        raise typer.Exit(2)
    kb = or_exit(lambda: open_knowledge_base(settings))
    try:
        report = or_exit(lambda: sync_knowledge_base(kb))
    finally:
        kb.close()
    console.print(report.message, markup=False, highlight=False)
    if report.build is not None:
        print_report(report.build)
    if report.result.status == "diverged":
        raise typer.Exit(1)
