"""The `kb` command line, one module per command group; bare `kb` serves.

| module          | commands                                               |
| --------------- | ------------------------------------------------------ |
| `serving.py`    | `kb serve`, `kb index`, `kb sync`                      |
| `content.py`    | `kb search`, `kb impact`, `kb history`, `kb diff`, `kb check`, `kb new`, `kb restore` |
| `access.py`     | `kb keys create/list/revoke`, `kb token`, `kb access explain/audit` |
| `evaluation.py` | `kb eval`                                              |
| `assist.py`     | `kb mcp`, `kb feedback`                                |
| `analytics.py`  | `kb report`, `kb analytics purge`                      |
| `gaps.py`       | `kb gaps list/report/propose`                          |
| `common.py`     | what they share: consoles, progress bar, failing with a message |
"""

from __future__ import annotations

import typer

from kb.cli import access, analytics, assist, content, evaluation, gaps, serving
from kb.cli.common import errors

app = typer.Typer(help="kb: a knowledge base for support teams, kept as Markdown in Git.", no_args_is_help=False)
keys_app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
access_app = typer.Typer(help="Who may see what: explain one verdict, audit a live server for leaks.", no_args_is_help=True)
app.add_typer(access_app, name="access")
analytics_app = typer.Typer(help="What readers did: events kept for KB_ANALYTICS_RETENTION_DAYS.", no_args_is_help=True)
app.add_typer(analytics_app, name="analytics")
gaps_app = typer.Typer(help="Content gaps: failed questions grouped by meaning, made into a report or a draft.", no_args_is_help=True)
app.add_typer(gaps_app, name="gaps")

for command in (serving.index, serving.serve, content.search, serving.sync, content.impact, content.history, content.diff, content.check,
                content.new, content.restore):  # fmt: skip
    app.command()(command)
app.command("eval")(evaluation.evaluate_command)
app.command("report")(analytics.report)
app.command()(access.token)
app.command()(assist.mcp)
app.command()(assist.feedback)
keys_app.command("create")(access.keys_create)
keys_app.command("list")(access.keys_list)
keys_app.command("revoke")(access.keys_revoke)
access_app.command("explain")(access.access_explain)
access_app.command("audit")(access.access_audit)
analytics_app.command("purge")(analytics.analytics_purge)
gaps_app.command("list")(gaps.gaps_list)
gaps_app.command("report")(gaps.gaps_report)
gaps_app.command("propose")(gaps.gaps_propose)


def run() -> None:
    """The `kb` command: the app, with a database that cannot be reached or is damaged said in one line (exit 3)."""
    try:
        app()
    except Exception as error:
        from kb.core.db import UNAVAILABLE, DamagedDatabase, unavailable_reason

        if isinstance(error, DamagedDatabase):
            errors.print(f"error: {error}", markup=False)
            raise SystemExit(3) from None
        if not isinstance(error, UNAVAILABLE):
            raise
        errors.print(
            f"error: the database cannot be reached or written ({unavailable_reason(error)}); "
            "check KB_DATABASE_URL and that the database is up, then try again",
            markup=False,
        )
        raise SystemExit(3) from None


@app.callback(invoke_without_command=True)
def main(context: typer.Context) -> None:
    """With no command, serve (as `kb serve` does)."""
    if context.invoked_subcommand is None:
        serving.serve()
