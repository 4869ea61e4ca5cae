"""What agents and bots use: `kb mcp` (the MCP tools on stdio), `kb feedback` (what they left behind)."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
from typing import Annotated

import typer
from rich.table import Table

from kb.cli.common import console, errors, open_engine, or_exit
from kb.core.settings import Settings

KEY_VARIABLE = "KB_API_KEY"


def mcp() -> None:
    """Serve kb's MCP tools on stdin and stdout for a local client, reading as the API key in KB_API_KEY."""
    from kb.access import authenticate
    from kb.core.bootstrap import open_knowledge_base

    settings = Settings()
    key = os.environ.get(KEY_VARIABLE, "").strip()
    if not key:
        errors.print(f"error: {KEY_VARIABLE} is not set: the MCP tools read as an API key (`kb keys create` makes one)", markup=False)
        raise typer.Exit(2)
    engine = open_engine()  # before the model loads: a wrong key is said at once
    known = authenticate(engine, key) is not None
    engine.dispose()
    if not known:
        errors.print(f"error: the API key in {KEY_VARIABLE} is unknown, revoked or expired", markup=False)
        raise typer.Exit(2)
    # stdout carries the protocol: anything printed while the index loads goes to stderr instead.
    with contextlib.redirect_stdout(sys.stderr):
        kb = or_exit(lambda: open_knowledge_base(settings))
    try:
        # Named at run time, as `kb serve` names the app: kb never imports `api` (imports go api → kb).
        importlib.import_module("api.mcp").run_stdio(kb, key=key)
    finally:
        kb.close()


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
