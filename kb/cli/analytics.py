"""What readers did: `kb analytics purge`."""

from __future__ import annotations

from typing import Annotated

import typer

from kb.cli.common import errors, open_engine
from kb.core.settings import Settings


def analytics_purge(
    days: Annotated[int | None, typer.Option(min=1, max=3650, help="Keep this many days; KB_ANALYTICS_RETENTION_DAYS by default.")] = None,
) -> None:
    """Delete events older than the retention period (the server does this daily too)."""
    from kb.analytics import purge_events

    kept = days or Settings().analytics_retention_days
    deleted = purge_events(open_engine(), days=kept)
    errors.print(f"{deleted} event(s) older than {kept} day(s) deleted", markup=False)
