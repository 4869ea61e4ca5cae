"""Search quality on a data set: `kb eval`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from kb.cli.common import console, errors, progress_bar
from kb.core.settings import Settings

if TYPE_CHECKING:
    from kb.evaluation.run import EvalReport


def evaluate_command(
    dataset: Annotated[Path, typer.Argument(help="A BEIR-layout folder: corpus.jsonl, queries.jsonl, qrels.tsv.")],
    mode: Annotated[str, typer.Option(help="keyword, semantic, hybrid or all.")] = "all",
    baselines: Annotated[bool, typer.Option("--baselines", help="Also run plain BM25, plain dense and txtai hybrid.")] = False,
    suggestions: Annotated[
        bool, typer.Option("--suggestions", help="Also measure suggestions from the set's conversations (doc2dial).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Measure search quality (nDCG@10, Recall@10/100, MRR@10) and latency on a data set, through kb's own pipeline."""
    from dataclasses import asdict

    from kb.core.bootstrap import load_encoder
    from kb.evaluation.beir import DatasetError, load_dataset
    from kb.evaluation.corpus import corpus_language
    from kb.evaluation.progress import stage_rows
    from kb.evaluation.run import baselines_for, evaluate
    from kb.evaluation.suggestions import evaluate_suggestions
    from search.snapshot import MODES

    modes = list(MODES) if mode == "all" else [mode]
    if not set(modes) <= set(MODES):
        errors.print(f"error: --mode {mode!r}: use keyword, semantic, hybrid or all", markup=False)
        raise typer.Exit(2)
    try:
        data = load_dataset(dataset)
    except DatasetError as error:
        errors.print(f"error: {error}", markup=False)
        raise typer.Exit(2) from None
    if suggestions and not data.conversations:
        errors.print(f"error: --suggestions: {data.name} has no conversations (queries.jsonl has no 'conversation')", markup=False)
        raise typer.Exit(2)
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    encoder = load_encoder(settings)
    with progress_bar() as bar:
        chosen = baselines_for(corpus_language(data.documents), settings=settings) if baselines else []
        report = evaluate(data, settings=settings, encoder=encoder, modes=modes, baselines=chosen, progress=stage_rows(bar))
        if suggestions:
            report.suggestions = evaluate_suggestions(data, settings=settings, encoder=encoder, progress=stage_rows(bar))
    if as_json:
        sys.stdout.write(json.dumps(asdict(report), indent=2) + "\n")
        return
    _print_eval(report)


def _print_eval(report: EvalReport) -> None:
    from kb.evaluation.metrics import METRICS

    table = Table(
        title=f"{report.dataset} ({report.language}): {report.documents} documents, {report.chunks} chunks, {report.queries} queries"
    )
    for column in ("system", *METRICS, "p50 ms", "p95 ms"):
        table.add_column(column, justify="right")
    for result in report.results:
        latency = [f"{result.latency_ms[p]:.1f}" if result.latency_ms else "" for p in ("p50", "p95")]
        table.add_row(result.name, *(f"{result.metrics[m]:.4f}" for m in METRICS), *latency)
    console.print(table)
    if report.suggestions:
        from kb.evaluation.suggestions import SUGGESTION_METRICS

        asked = Table("suggestions from the conversation", *SUGGESTION_METRICS, title=f"{report.dataset}: suggestions")
        for result in report.suggestions:
            asked.add_row(result.name, *(f"{result.metrics[m]:.4f}" for m in SUGGESTION_METRICS))
        console.print(asked)
