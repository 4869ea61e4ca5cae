"""What the command groups share: the consoles, the progress bar, the content repository and the way a command fails."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kb.core.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from articles.model import Article
    from kb.core.indexer import BuildReport
    from versioning import ContentRepo

T = TypeVar("T")

Since = Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First day (UTC); 29 days before --until.")]
Until = Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last day (UTC); today by default.")]
LocaleFilter = Annotated[str | None, typer.Option("--locale", help="en or ja; every locale by default.")]
SurfaceFilter = Annotated[str | None, typer.Option("--surface", help="site, widget, api, bot or agent; every surface by default.")]
"""The period and filters of the analytics commands (`kb report`, `kb gaps`), as `kb.analytics.Period` takes them."""

console = Console()
errors = Console(stderr=True, soft_wrap=True)  # one error per line, whatever the terminal width


def show_progress() -> bool:
    """A bar on a terminal; nothing in CI logs or pipes."""
    return console.is_terminal and not os.environ.get("CI")


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not show_progress(),
        transient=True,
    )


def print_report(report: BuildReport) -> None:
    kind = "incremental" if report.incremental else "full"
    console.print(
        f"Indexed commit [bold]{report.commit[:12]}[/] ({kind}) in {report.seconds:.1f}s "
        f"({report.model_seconds:.1f}s of it in the embedding model)"
    )
    console.print(f"  articles indexed: {report.articles}   files parsed: {report.parsed}")
    console.print(f"  chunks: {report.chunks}   embedded: {report.embedded}   from cache: {report.cached}")
    if report.skipped:
        console.print(f"  [yellow]skipped {len(report.skipped)} file(s):[/]")
        for error in report.skipped:
            console.print(f"    {error}", markup=False, highlight=False, soft_wrap=True)
    else:
        console.print("  skipped: 0")


def content_repo() -> ContentRepo:
    from kb.core.bootstrap import ensure_content
    from versioning import ContentRepo

    settings = Settings()
    ensure_content(settings)
    return ContentRepo(settings.content_path)


def served_commit(repo: ContentRepo) -> str:
    """KB_REPO_BRANCH's tip when following a remote, else HEAD's: the commit the server serves."""
    settings = Settings()
    return or_exit(lambda: repo.resolve(settings.repo_branch if settings.repo_url else None))


def find_article(repo: ContentRepo, article_id: str, locale: str | None, head: str) -> Article:
    from kb.writing.history import find_article

    return or_exit(lambda: find_article(repo, article_id, locale, at=head))


def fail(message: str) -> NoReturn:
    """End the command with ``message`` on stderr (exit 2: the command was asked for something it cannot do)."""
    errors.print(f"error: {message}", markup=False)
    raise typer.Exit(2)


def or_exit(action: Callable[[], T]) -> T:
    """Run ``action``; a bad or unknown ref, a missing article or a failed sync ends the command with its message."""
    from kb.core.requests import InvalidRequest
    from kb.writing.history import NotAtRef
    from versioning import InvalidRef, UnknownRef
    from versioning.sync import SyncError

    try:
        return action()
    except (InvalidRequest, InvalidRef, UnknownRef, NotAtRef, SyncError) as error:
        errors.print(f"error: {error}", markup=False)
        raise typer.Exit(2) from None


def open_engine() -> Engine:
    from kb.core.db import make_engine

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.database)


def check_database(settings: Settings) -> None:
    """Open the database once before serving: a damaged or unreachable one is said in one line, not a traceback."""
    from kb.core.db import make_engine

    settings.data_dir.mkdir(parents=True, exist_ok=True)  # where the default SQLite file goes
    make_engine(settings.database).dispose()


def refuse_insecure(settings: Settings) -> None:
    """Say what is insecure and how to fix it, before uvicorn starts (the app refuses too, less readably)."""
    from kb.core.security import insecure_settings

    problems = insecure_settings(settings)
    if problems:
        errors.print("error: kb refuses to start with insecure settings:", markup=False)
        for problem in problems:
            errors.print(f"  - {problem}", markup=False)
        raise typer.Exit(2)
