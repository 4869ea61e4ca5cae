"""Fit the answer confidence (`kb/assist/confidence.py`) and choose `KB_ANSWER_MIN_CONFIDENCE`.

Every set of a folder is asked its own questions (answerable, and unanswerable where ``answers.jsonl``
says so) and another set's (:data:`OUT_OF_SCOPE`), through `kb.evaluation.answers`; a question is a
positive when its first citation would be a relevant article. A logistic regression (scikit-learn)
is fitted per model — questions ranked by both retrievers (the English sets), and by BM25 alone
(jsquad with MiniLM) — each set weighed equally, whatever its size. Printed:

- the two models' coefficients, to paste into `kb/assist/confidence.py`;
- per set, at each candidate threshold: answered share, precision, abstention on out-of-scope and on
  unanswerable questions, for the in-sample fit and for the fit that left that set out
  (leave-one-set-out: what holds on a set the fit never saw);
- the lowest threshold at which every set meets the targets in-sample.

    python -m bench.fit_confidence ../shared/data [--cache /tmp/judged.json]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

from kb.assist.confidence import FEATURES, AnswerFeatures, Calibration
from kb.core.bootstrap import load_encoder
from kb.core.settings import Settings
from kb.evaluation.answers import Judged, judge_with_out_of_scope, point
from kb.evaluation.beir import load_answer_key, load_dataset

console = Console()
OUT_OF_SCOPE = {
    "feedbackqa-australia": "stackfaq",
    "feedbackqa-cdc": "stackfaq",
    "stackfaq": "feedbackqa-cdc",
    "doc2dial-dev": "stackfaq",
    "doc2dial-dev-abstain": "stackfaq",
    "jsquad": "jsquad",
}
"""Whose questions each set must abstain on: a set of another domain (jsquad, the only Japanese set: its own held-out quarter)."""
TARGETS = {"out_of_scope_abstained": 0.95, "unanswerable_abstained": 0.8, "precision": 0.85}


def collect(root: Path, settings: Settings) -> dict[str, list[Judged]]:
    encoder = load_encoder(settings)
    judged = {}
    for name, other in OUT_OF_SCOPE.items():
        if not (root / name).is_dir():
            continue
        console.print(f"asking {name} (out of scope: {other})")
        dataset = load_dataset(root / name)
        outside = dataset if other == name else load_dataset(root / other)
        judged[name] = judge_with_out_of_scope(dataset, load_answer_key(root / name), outside, settings=settings, encoder=encoder)
    return judged


def fit(sets: dict[str, list[Judged]]) -> Calibration:
    rows = [(item, 1 / len(items)) for items in sets.values() for item in items if item.features]
    x = np.array([item.features for item, _ in rows])
    y = np.array([item.correct for item, _ in rows])
    model = LogisticRegression(C=1.0, max_iter=1000).fit(x, y, sample_weight=np.array([w for _, w in rows]) * len(rows))
    return Calibration(float(model.intercept_[0]), tuple(round(float(w), 4) for w in model.coef_[0]))


def rejudged(items: list[Judged], calibration: Calibration) -> list[Judged]:
    return [replace(item, confidence=calibration.confidence(AnswerFeatures(*item.features))) if item.features else item for item in items]


def figures(items: list[Judged], threshold: float) -> dict[str, float]:
    at = point(items, threshold, by=lambda item: item.confidence)
    unanswerable = [item for item in items if item.kind == "unanswerable"]
    result = {"answered": at.answered, "precision": at.precision, "out_of_scope_abstained": at.out_of_scope_abstained}
    if unanswerable:
        result["unanswerable_abstained"] = float(np.mean([item.confidence < threshold for item in unanswerable]))
    return result


def family(name: str) -> str:
    """doc2dial-dev-abstain asks doc2dial-dev's questions: left out together."""
    return name.removesuffix("-abstain")


def meets(result: dict[str, float]) -> bool:
    return all(result.get(name, 1.0) >= target for name, target in TARGETS.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--cache", type=Path, help="Keep the judged questions here and reuse them (features do not depend on the fit).")
    args = parser.parse_args()
    if args.cache and args.cache.exists():
        sets = {name: [Judged(**item) for item in items] for name, items in json.loads(args.cache.read_text()).items()}
    else:
        sets = collect(args.root, Settings())
        if args.cache:
            args.cache.write_text(json.dumps({name: [asdict(item) for item in items] for name, items in sets.items()}))
    groups = {
        "hybrid": {name: items for name, items in sets.items() if not any(item.lexical_only for item in items)},
        "lexical-only": {name: items for name, items in sets.items() if any(item.lexical_only for item in items)},
    }
    fitted: dict[str, list[Judged]] = {}
    loso: dict[str, list[Judged]] = {}
    for model, members in groups.items():
        if not members:
            continue
        calibration = fit(members)
        console.print(f"{model}: Calibration(intercept={calibration.intercept:.4f}, weights={calibration.weights})  # {FEATURES}")
        for name, items in members.items():
            fitted[name] = rejudged(items, calibration)
            others = {other: rows for other, rows in members.items() if family(other) != family(name)}
            loso[name] = rejudged(items, fit(others)) if others else fitted[name]
    candidates = [round(t, 2) for t in np.arange(0.05, 0.96, 0.05)]
    chosen = next((t for t in candidates if all(meets(figures(items, t)) for items in fitted.values())), None)
    console.print(f"lowest threshold meeting every target in-sample: {chosen}")
    for threshold in [t for t in candidates if chosen is None or abs(t - chosen) <= 0.151]:
        columns = ("answered", *TARGETS)
        table = Table("set", *columns, "LOSO answered", "LOSO precision", "LOSO out-of-scope", title=f"threshold {threshold}")
        for name in fitted:
            own, left = figures(fitted[name], threshold), figures(loso[name], threshold)
            shown = [f"{own[k]:.3f}" if k in own else "" for k in columns]
            table.add_row(name, *shown, *(f"{left[k]:.3f}" for k in ("answered", "precision", "out_of_scope_abstained")))
        console.print(table)


if __name__ == "__main__":
    main()
