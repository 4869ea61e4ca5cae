"""One semantic weight for a deployment's hybrid queries, read off what its recent queries' candidate lists said.

Per query, the two lists' confidences (:class:`search.fuse.QuerySignals`) tell little about which side
will be right: no per-query rule or model on label-free features came within 0.05 of each query's
best mix (`python -m bench.tune_fusion --learned`). Over a deployment's traffic they do tell: where
the model is at home (paraphrased FAQ questions) the best cosines run high and the words shared with
articles are few, where customers reuse the articles' own rare words (chat turns quoting a page) it is
the other way round, and each set's best fixed mix follows the difference of the two means on a line.
Until a language has seen :data:`WARMUP` queries, each query is weighed by its own signals as before.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import deque
from dataclasses import dataclass, field

from search.fuse import FusionWeights, QuerySignals, adaptive_weights


@dataclass(frozen=True)
class TrafficLine:
    """The semantic weight as a line in (mean best cosine − mean lexical coverage), kept within [low, high]."""

    slope: float
    intercept: float
    low: float = 0.5
    high: float = 1.0

    def alpha(self, signal: float) -> float:
        return min(self.high, max(self.low, self.slope * signal + self.intercept))


TRAFFIC_LINE = TrafficLine(slope=0.8090, intercept=0.8558)
"""Fitted to the five English sets' best fixed α by `python -m bench.tune_fusion` (its caption).

Each set's signal and best α: australia −0.128 / 0.8, cdc −0.052 / 0.8, stackfaq +0.130 / 0.95,
doc2dial-dev −0.305 / 0.65, doc2dial-dev-abstain −0.298 / 0.55. Hybrid nDCG@10, each set's line fitted
on the four others (leave-one-set-out; "as kb runs it": this class over the set's queries in order,
warm-up included), against the best of plain BM25, plain dense and txtai hybrid on each set:

| fusion                              | australia | cdc    | stackfaq | doc2dial-dev | -abstain | mean   |
| ----------------------------------- | --------- | ------ | -------- | ------------ | -------- | ------ |
| best baseline of each set           | 0.6157    | 0.7443 | 0.9494   | 0.5350       | 0.5456   | 0.6780 |
| fixed α, chosen on the other sets   | 0.6228    | 0.7678 | 0.9282   | 0.5596       | 0.5704   | 0.6898 |
| per query (adaptive 0.6–1.0, LOSO)  | 0.6313    | 0.7658 | 0.9445   | 0.5684       | 0.5782   | 0.6977 |
| **traffic α, as kb runs it**        | 0.6270    | 0.7668 | 0.9542   | 0.5732       | 0.5795   | 0.7001 |
| each set's best fixed α (hindsight) | 0.6286    | 0.7678 | 0.9529   | 0.5722       | 0.5810   | 0.7005 |

The two doc2dial sets share their pages and most queries; with both left out together (the line
through the three FAQ sets alone) the mean is 0.6999. (2026-12-05, Xeon with VNNI, `onnx-int8`.)"""

WINDOW = 1000
"""Recent queries per language whose signals are averaged: enough that one odd hour does not swing the mix."""

WARMUP = 30
"""Queries a language must have seen before its traffic mix replaces each query's own (see the module's docs)."""


@dataclass
class _Recent:
    """One language's recent signals, and their sums kept as they come and go (a search reads the mean)."""

    signals: deque[QuerySignals] = field(default_factory=deque)
    top: float = 0.0
    coverage: float = 0.0

    def add(self, signals: QuerySignals, window: int) -> None:
        self.signals.append(signals)
        self.top, self.coverage = self.top + signals.semantic_top, self.coverage + signals.lexical_coverage
        if len(self.signals) > window:
            oldest = self.signals.popleft()
            self.top, self.coverage = self.top - oldest.semantic_top, self.coverage - oldest.lexical_coverage

    def mean(self, warmup: int) -> float | None:
        seen = len(self.signals)
        return (self.top - self.coverage) / seen if seen >= warmup else None


class TrafficMix:
    """Running means of the signals of a deployment's recent adapting hybrid queries, per language; thread-safe."""

    def __init__(self, line: TrafficLine = TRAFFIC_LINE, *, window: int = WINDOW, warmup: int = WARMUP) -> None:
        self.line = line
        self.window = window
        self.warmup = warmup
        self._recent: dict[str, _Recent] = {}
        self._lock = threading.Lock()

    def weights(self, base: FusionWeights, signals: QuerySignals, *, language: str, observe: bool = True) -> FusionWeights:
        """``base`` with the semantic weight of ``language``'s traffic, this query counted in when ``observe``.

        ``observe`` is off where a query is not traffic, e.g. a proposal's impact report, which must weigh
        the same query alike against two snapshots.
        """
        if base.adaptive is None:
            return base
        with self._lock:
            recent = self._recent.setdefault(language, _Recent())
            if observe:
                recent.add(signals, self.window)
            signal = recent.mean(self.warmup)
        if signal is None:
            return adaptive_weights(base, signals)
        alpha = self.line.alpha(signal)
        return dataclasses.replace(base, semantic=alpha, lexical=1 - alpha)

    def seen(self, language: str) -> int:
        """How many of ``language``'s queries the mean holds now (at most the window)."""
        with self._lock:
            recent = self._recent.get(language)
            return len(recent.signals) if recent else 0

    def signal(self, language: str) -> float | None:
        """Mean best cosine minus mean lexical coverage over ``language``'s recent queries; None before the warm-up."""
        with self._lock:
            recent = self._recent.get(language)
            return recent.mean(self.warmup) if recent else None
