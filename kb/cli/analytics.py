"""What readers did: `kb report`, `kb analytics purge`."""

from __future__ import annotations

import csv
import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from kb.cli.common import LocaleFilter, Since, SurfaceFilter, Until, console, errors, open_engine
from kb.core.settings import Settings


def analytics_purge(
    days: Annotated[int | None, typer.Option(min=1, max=3650, help="Keep this many days; KB_ANALYTICS_RETENTION_DAYS by default.")] = None,
) -> None:
    """Delete events older than the retention period (the server does this daily too)."""
    from kb.analytics import purge_events

    kept = days or Settings().analytics_retention_days
    deleted = purge_events(open_engine(), days=kept)
    errors.print(f"{deleted} event(s) older than {kept} day(s) deleted", markup=False)


def report(
    name: Annotated[
        str, typer.Argument(help="daily, surfaces, top-queries, zero-results, low-click-through, not-helpful, articles, bots or agents.")
    ],
    since: Since = None,
    until: Until = None,
    locale: LocaleFilter = None,
    surface: SurfaceFilter = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="Rows of a ranked report.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON, as GET /v1/reports/NAME gives it.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the rows as CSV with a header line.")] = False,
) -> None:
    """A report on what readers searched, found and did not (the staff dashboard's tables)."""
    from kb.analytics import Period, run_report  # imported when used: `kb --help` stays quick
    from kb.core import InvalidRequest

    try:
        period = Period.checked(since=since and since.date(), until=until and until.date(), locale=locale, surface=surface)
        found = run_report(open_engine(), name, period, limit=limit)
    except InvalidRequest as refused:
        errors.print(f"error: {refused.field}: {refused.message}", markup=False)
        raise typer.Exit(2) from None
    data = found.as_dict()
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    elif as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=[column.key for column in found.columns], extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(data["rows"])
    else:
        console.print(_table(found.title, data))


def _table(title: str, data: dict) -> Table:
    """The report as a rich table: counts and rates right-aligned, a rate as a percentage, nothing counted as a dash."""
    where = ", ".join(part for part in (data["locale"], data["surface"]) if part)
    table = Table(title=f"{title}, {data['since']} … {data['until']}" + (f" ({where})" if where else ""))
    for column in data["columns"]:
        table.add_column(column["label"], justify="left" if column["kind"] in ("text", "date") else "right", overflow="fold")
    for row in data["rows"]:
        table.add_row(*(_cell(row.get(column["key"]), column["kind"]) for column in data["columns"]))
    if not data["rows"]:
        table.caption = "nothing recorded in this period"
    return table


def _cell(value: object, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "rate" and isinstance(value, float):
        return f"{value:.1%}"
    return str(value)
