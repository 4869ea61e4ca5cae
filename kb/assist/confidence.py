"""How sure kb is that its best article answers a question: read off what retrieval already knows, then calibrated.

Nothing new is computed to judge an answer: the fused score of the best article and its margin to the
next, whether the lexical and the semantic retrievers each put that article first, how close the
semantic side came, and how much of the question's meaning (content-word IDF) the best section and the
quoted sentences hold. A logistic model turns those into the probability that the first citation is
a relevant article; `python -m bench.fit_confidence` fits it on the evaluation sets (each set's
in-scope questions, its unanswerable ones, and another set's questions asked against it), so a
confidence of 0.8 means about 8 answers in 10 are right there.

A language the model does not read (Japanese with MiniLM) is ranked by BM25 alone: its fused score is
always 1 at the top and the semantic features are empty, so it has a model of its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class AnswerFeatures:
    """What retrieval said about a question's best article, each on a scale the fit can weigh."""

    score: float
    """The best article's fused score."""
    margin: float
    """How far ahead of the next article it is, as a share of its score (1 when it is alone)."""
    semantic_top: float
    """The semantic side's best score (0 when it found nothing over its floor)."""
    semantic_margin: float
    """How far the semantic side's best article is above its next (near-duplicate pages make both sides unsure)."""
    lexical_margin: float
    """How far the lexical side's best article is ahead of its next, as a share of its BM25."""
    lexical_agrees: float
    """1 when the lexical side's best chunk is in this article."""
    semantic_agrees: float
    """1 when the semantic side's best chunk is in this article."""
    section_coverage: float
    """The share of the question's content-word IDF that the best section holds."""
    quote_coverage: float
    """The same share for the quoted sentences alone."""

    def values(self) -> tuple[float, ...]:
        return tuple(getattr(self, name) for name in FEATURES)  # not astuple, which deep-copies each float


FEATURES = tuple(AnswerFeatures.__dataclass_fields__)


@dataclass(frozen=True)
class Calibration:
    """A fitted logistic model: ``intercept + sum(weight * feature)`` through the logistic function."""

    intercept: float
    weights: tuple[float, ...]
    """One per :data:`FEATURES`, in order."""

    def confidence(self, features: AnswerFeatures) -> float:
        logit = self.intercept + sum(weight * value for weight, value in zip(self.weights, features.values(), strict=True))
        return 1 / (1 + math.exp(-max(-60.0, min(60.0, logit))))


# Fitted by `python -m bench.fit_confidence ../shared/data` on 2026-12-06 (see its docstring for what it pools).
# Weights in the order of FEATURES. The semantic side's best score says most; a best article that both
# sides put first, well ahead of the next, adds to it. In the lexical-only model the margin and the share
# of the question the section holds carry it (a score of 1 at the top says nothing there).
HYBRID = Calibration(intercept=-5.8543, weights=(1.3776, 2.0401, 6.664, -2.9959, 2.195, 0.7212, 1.3, 0.3306, -1.0149))
LEXICAL_ONLY = Calibration(intercept=-5.1976, weights=(0.014, 4.3505, 0.0, 0.0, 4.3505, 0.014, 0.0, 5.5908, 0.1039))


def calibration(*, lexical_only: bool) -> Calibration:
    """The model for a question ranked by both retrievers, or by BM25 alone."""
    return LEXICAL_ONLY if lexical_only else HYBRID
