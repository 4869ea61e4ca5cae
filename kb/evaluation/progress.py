"""Evaluation progress shown on a rich progress bar, one row per stage (indexing, each mode, each baseline)."""

from __future__ import annotations

import rich.progress

from kb.evaluation.run import Progress


def stage_rows(bar: rich.progress.Progress) -> Progress:
    """The ``progress`` callback :func:`kb.evaluation.run.evaluate` takes, drawing on ``bar``.

    A stage's row is added the first time the stage reports, then only updated.
    """
    tasks: dict[str, rich.progress.TaskID] = {}

    def advance(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return advance
