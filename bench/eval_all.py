"""`make eval`: every BEIR set under a folder, kb's modes beside the baselines, written to docs/benchmarks.md."""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bench.encoders import BACKENDS
from bench.fit_confidence import OUT_OF_SCOPE
from bench.report import write_section
from kb.core.bootstrap import load_encoder
from kb.core.settings import Settings
from kb.evaluation.answers import TARGET_PRECISION, AnswerReport, evaluate_answers
from kb.evaluation.beir import Dataset, load_answer_key, load_dataset
from kb.evaluation.corpus import corpus_language
from kb.evaluation.metrics import METRICS
from kb.evaluation.progress import stage_rows
from kb.evaluation.run import EvalReport, ModeResult, baselines_for, evaluate
from kb.evaluation.suggestions import SUGGESTION_METRICS, evaluate_suggestions
from search.cpu import cpu_description
from search.encoder import Encoder, SentenceTransformerEncoder
from search.snapshot import MODES

ROOT = Path(__file__).resolve().parent.parent
console = Console()


def markdown(reports: list[EvalReport], *, command: str, model: str) -> str:
    """The benchmark page: one table per data set, then the macro-average of the English sets."""
    lines = [
        "## Search quality",
        "",
        f"- command: `{command}`",
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"- machine: {platform.machine()}, {cpu_description()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        f"- model: `{model}`",
        "- kb modes run through the server's own pipeline (articles, chunks, analysis, embedding cache, "
        "fusion, grouping); `bm25` is plain bm25s, `dense` the same model over whole documents with faiss "
        "flat, `txtai-hybrid` txtai's `Embeddings(hybrid=True)` with the same model; "
        "`· onnx` / `· onnx-int8` / `· torch` rows are kb on another `KB_EMBEDDING_BACKEND`, embedded afresh.",
        "",
    ]
    for report in reports:
        lines += [
            f"### {report.dataset} ({report.language})",
            "",
            f"{report.documents} documents, {report.chunks} chunks, {report.queries} queries.",
            "",
            "| system | " + " | ".join(METRICS) + " | p50 ms | p95 ms |",
            "|---|" + "---|" * (len(METRICS) + 2),
        ]
        for result in report.results:
            latency = [f"{result.latency_ms[p]:.1f}" if result.latency_ms else "" for p in ("p50", "p95")]
            metrics = [f"{result.metrics[m]:.4f}" for m in METRICS]
            lines.append(f"| {result.name} | " + " | ".join(metrics) + " | " + " | ".join(latency) + " |")
        lines.append("")
        if report.suggestions:
            lines += [
                f"Suggestions from the {report.queries} conversations (`kb eval --suggestions`): the last "
                "customer message alone, every turn concatenated into one search, and kb reading the conversation as a ticket.",
                "",
                "| system | " + " | ".join(SUGGESTION_METRICS) + " |",
                "|---|" + "---|" * len(SUGGESTION_METRICS),
            ]
            for result in report.suggestions:
                lines.append(f"| {result.name} | " + " | ".join(f"{result.metrics[m]:.4f}" for m in SUGGESTION_METRICS) + " |")
            lines.append("")
        if report.answers:
            lines += answers_markdown(report.answers)
    english = [r for r in reports if r.language == "en"]
    if english:
        lines += ["### Macro-average nDCG@10, English sets", "", "| system | nDCG@10 |", "|---|---|"]
        for name in [r.name for r in english[0].results]:
            values = [next(x.metrics["ndcg@10"] for x in r.results if x.name == name) for r in english]
            lines.append(f"| {name} | {sum(values) / len(values):.4f} |")
        lines.append("")
    return "\n".join(lines)


CURVE_THRESHOLDS = (0.5, 0.7, 0.8, 0.9, 0.95)


def answers_markdown(answers: AnswerReport) -> list[str]:
    """Bot answers on one set: risk-coverage at a few thresholds, the default's figures, kb against the plain threshold."""
    outside = "a held-out quarter of its own titles' questions" if answers.out_of_scope == answers.dataset else answers.out_of_scope
    lines = [
        f"Bot answers (`kb eval --answers`): {answers.questions} questions ({answers.unanswerable} unanswerable), and "
        f"{answers.out_of_scope_questions} out-of-scope questions ({outside}). Answered share, precision of the first "
        "citation, and out-of-scope questions abstained on, by confidence threshold:",
        "",
        "| threshold | answered | precision | out of scope abstained |",
        "|---|---|---|---|",
    ]
    for point in answers.kb_curve:
        if point.threshold in CURVE_THRESHOLDS or point.threshold == answers.threshold:
            mark = " (default)" if point.threshold == answers.threshold else ""
            figures = " | ".join(f"{figure:.4f}" for figure in (point.answered, point.precision, point.out_of_scope_abstained))
            lines.append(f"| {point.threshold:.2f}{mark} | {figures} |")
    lines += [
        "",
        f"At precision {TARGET_PRECISION}, kb answers {answers.kb_answered_at_target:.4f} of the questions; a threshold on the "
        f"top hit's fused score, {answers.plain_answered_at_target:.4f}.",
    ]
    if answers.unanswerable_abstained is not None:
        lines.append(f"Unanswerable questions abstained on at the default: {answers.unanswerable_abstained:.4f}.")
    if answers.quote_has_gold is not None:
        lines.append(f"Answers whose quote holds the gold span: {answers.quote_has_gold:.4f}; "
                     f"quoting the whole best section instead: {answers.section_has_gold or 0:.4f}.")  # fmt: skip
    return [*lines, ""]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path, nargs="?", default=ROOT.parent / "shared" / "data", help="folder of BEIR sets")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--other-backends", nargs="*", default=None,
                        help="embedding backends to compare with the configured one (default: all the others)")
    args = parser.parse_args(argv)
    folders = sorted(p for p in args.data.iterdir() if (p / "corpus.jsonl").is_file())
    if not folders:
        sys.exit(f"no BEIR data sets (folders with corpus.jsonl) under {args.data}")
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    encoder = load_encoder(settings)
    names = BACKENDS if args.other_backends is None else args.other_backends
    others = [backend_settings(settings, b) for b in names if b != settings.embedding_backend]
    other_encoders = [load_encoder(other) for other in others]
    reference = SentenceTransformerEncoder(settings.embedding_model, batch_size=settings.embedding_batch_size)
    reports = []
    for folder in folders:
        dataset = load_dataset(folder)
        baselines = baselines_for(corpus_language(dataset.documents), settings=settings, reference=reference)
        with _progress(dataset.name) as advance:
            report = evaluate(dataset, settings=settings, encoder=encoder, modes=MODES, baselines=baselines, progress=advance)
            for other, other_encoder in zip(others, other_encoders, strict=True):
                report.results += backend_results(dataset, other, other_encoder, progress=advance)
            report.suggestions = evaluate_suggestions(dataset, settings=settings, encoder=encoder, progress=advance)
            if (asked := OUT_OF_SCOPE.get(dataset.name)) is not None:
                outside = dataset if asked == dataset.name else load_dataset(args.data / asked)
                key = load_answer_key(folder)
                report.answers = evaluate_answers(dataset, key, outside, settings=settings, encoder=encoder, progress=advance)
        reports.append(report)
        console.print(f"{dataset.name}: " + ", ".join(f"{r.name} {r.metrics['ndcg@10']:.4f}" for r in report.results))
    command = "make eval  # = python -m bench.eval_all " + str(args.data)
    write_section(args.out, "make eval", markdown(reports, command=command, model=settings.embedding_model))
    console.print(f"written to {args.out}")


def backend_settings(settings: Settings, backend: str) -> Settings:
    """Another backend in a folder and database of its own.

    Its own database: torch and fp32 ONNX share embedding-cache keys, so a shared cache would hand
    one backend the other's vectors and the comparison would measure nothing.
    """
    folder = settings.data_dir / "eval-backends" / backend
    folder.mkdir(parents=True, exist_ok=True)
    return settings.model_copy(update={"embedding_backend": backend, "data_dir": folder, "database_url": None})


def backend_results(dataset: Dataset, settings: Settings, encoder: Encoder, *, progress: Callable) -> list[ModeResult]:
    """kb's semantic and hybrid modes on another backend, rows named after it."""
    report = evaluate(dataset, settings=settings, encoder=encoder, modes=("semantic", "hybrid"), progress=progress)
    return [ModeResult(f"{r.name} · {settings.embedding_backend}", r.metrics, r.latency_ms) for r in report.results]


@contextmanager
def _progress(name: str) -> Iterator[Callable[[str, int, int], None]]:
    with Progress(TextColumn(f"{name} {{task.description}}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, disable=not console.is_terminal, transient=True) as bar:
        yield stage_rows(bar)


if __name__ == "__main__":
    main()
