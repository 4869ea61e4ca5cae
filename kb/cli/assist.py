"""What agents and bots left behind: `kb feedback`."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from kb.cli.common import console, open_engine


def feedback(
    article_id: Annotated[str, typer.Argument(metavar="ID", help="The article's id (front matter `id`).")],
    locale: Annotated[str | None, typer.Option(help="en or ja; every locale when absent.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """What agents, bots and customers said about an article: outcomes, reasons, per revision, the newest comments."""
    from kb.assist import feedback_summary

    summary = feedback_summary(open_engine(), article_id, locale=locale)
    if as_json:
        comments = [{"outcome": r.outcome, "reason": r.reason, "comment": r.comment, "revision": r.revision,
                     "anchor": r.anchor, "date": r.created_at.isoformat()} for r in summary.comments]  # fmt: skip
        body = {"article_id": article_id, "outcomes": summary.outcomes, "reasons": summary.reasons,
                "by_revision": summary.by_revision, "by_section": summary.by_section, "comments": comments}  # fmt: skip
        sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n")
        return
    if not summary.outcomes:
        console.print(f"no feedback on {article_id} yet", markup=False)
        return
    outcomes = sorted(summary.outcomes)
    table = Table("revision", *outcomes, title=f"feedback on {article_id}")
    for revision, counts in summary.by_revision.items():
        table.add_row(revision[:12], *(str(counts.get(outcome, 0)) for outcome in outcomes))
    console.print(table)
    if summary.reasons:
        console.print("reasons: " + ", ".join(f"{reason} {count}" for reason, count in sorted(summary.reasons.items())), markup=False)
    for row in summary.comments:
        console.print(f"  {row.created_at:%Y-%m-%d} {row.outcome}: {row.comment}", markup=False, highlight=False)
