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
    from kb.evaluation.answers import AnswerReport
    from kb.evaluation.run import EvalReport


def evaluate_command(
    dataset: Annotated[Path, typer.Argument(help="A BEIR-layout folder: corpus.jsonl, queries.jsonl, qrels.tsv.")],
    mode: Annotated[str, typer.Option(help="keyword, semantic, hybrid or all.")] = "all",
    baselines: Annotated[bool, typer.Option("--baselines", help="Also run plain BM25, plain dense and txtai hybrid.")] = False,
    suggestions: Annotated[
        bool, typer.Option("--suggestions", help="Also measure suggestions from the set's conversations (doc2dial).")
    ] = False,
    answers: Annotated[
        bool, typer.Option("--answers", help="Also measure bot answers: risk-coverage, precision, abstention, gold spans.")
    ] = False,
    out_of_scope: Annotated[
        Path | None,
        typer.Option(help="With --answers: a set whose questions kb must abstain on (the same set: hold out a quarter of its titles)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Measure search quality (nDCG@10, Recall@10/100, MRR@10) and latency on a data set, through kb's own pipeline."""
    from dataclasses import asdict

    from kb.core.bootstrap import load_encoder
    from kb.evaluation.answers import evaluate_answers
    from kb.evaluation.beir import DatasetError, load_answer_key, load_dataset
    from kb.evaluation.corpus import corpus_language
    from kb.evaluation.progress import stage_rows
    from kb.evaluation.run import baselines_for, evaluate
    from kb.evaluation.suggestions import evaluate_suggestions
    from search.snapshot import MODES

    modes = list(MODES) if mode == "all" else [mode]
    if not set(modes) <= set(MODES):
        errors.print(f"error: --mode {mode!r}: use keyword, semantic, hybrid or all", markup=False)
        raise typer.Exit(2)
    if out_of_scope is not None and not answers:
        errors.print("error: --out-of-scope goes with --answers", markup=False)
        raise typer.Exit(2)
    try:
        data = load_dataset(dataset)
        key = load_answer_key(dataset) if answers else None
        outside = None if out_of_scope is None else data if out_of_scope.resolve() == dataset.resolve() else load_dataset(out_of_scope)
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
        if answers:
            report.answers = evaluate_answers(data, key, outside, settings=settings, encoder=encoder, progress=stage_rows(bar))
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
    if report.answers:
        _print_answers(report.answers)


def _print_answers(report: AnswerReport) -> None:
    from kb.evaluation.answers import TARGET_PRECISION

    outside = "its held-out quarter" if report.out_of_scope == report.dataset else report.out_of_scope or "none"
    table = Table("threshold", "answered", "precision", "out-of-scope abstained",
                  title=f"{report.dataset}: answers ({report.questions} questions, {report.unanswerable} unanswerable; "
                  f"out of scope: {outside}, {report.out_of_scope_questions})")  # fmt: skip
    for point in report.kb_curve:
        mark = " (default)" if point.threshold == report.threshold else ""
        figures = (point.answered, point.precision, point.out_of_scope_abstained)
        table.add_row(f"{point.threshold:.2f}{mark}", *(f"{figure:.3f}" for figure in figures))
    console.print(table)
    at = report.at_default
    lines = [
        f"at the default {report.threshold}: answered {at.answered:.3f}, precision {at.precision:.3f}, "
        f"out of scope abstained {at.out_of_scope_abstained:.3f}",
        f"answered at precision {TARGET_PRECISION}: kb {report.kb_answered_at_target:.3f}, "
        f"plain (a threshold on the top score) {report.plain_answered_at_target:.3f}",
    ]
    if report.unanswerable_abstained is not None:
        lines.append(f"unanswerable questions abstained at the default: {report.unanswerable_abstained:.3f}")
    if report.quote_has_gold is not None:
        section = report.section_has_gold or 0.0
        lines.append(f"answers whose quote holds the gold span: {report.quote_has_gold:.3f} (whole best section: {section:.3f})")
    for line in lines:
        console.print(line, markup=False, highlight=False)
