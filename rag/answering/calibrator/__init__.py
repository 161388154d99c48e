"""The answer-or-abstain decision: a small logistic model over the signals the reader already has.

One reading (a span the reader found in one passage) becomes a `Signals` row; the calibrator turns
it into the probability that an answer led by that reading is right. Its weights, the operating
points (the probability at which an answer is shown, and at which its span is shown in bold) and
the data they were fitted on live in `weights.json` beside this file, written by
`python -m evals.calibrate` (it trains on the dev splits only): a weight that does not pay on dev
is fitted near zero, and a rule whose check is a feature is only as strong as the data says.

The default decision (`hand-set.json`) is still the hand-set sum the learned model is to replace,
written in the same form, because on in-house dev the learned model, at the abstention the sum
keeps, answers fewer questions right (bbc 0.57 against 0.68, out of fold): it is opt-in
(`NEWSRAG_READER_CALIBRATOR`, `python -m evals --compare calibrated,hand-set`) until it wins there too.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from pathlib import Path

from rag.errors import NotConfigured

WEIGHTS = Path(__file__).resolve().parent / "weights.json"  # the learned model (python -m evals.calibrate)
HAND_SET = Path(__file__).resolve().parent / "hand-set.json"  # the default decision
# A gap or margin beyond this is as sure as it gets; a clip keeps one wild logit from dominating.
CLIP = 20.0


@dataclass(frozen=True)
class Signals:
    """What the pipeline knows about one reading, each a plain number."""

    reader: float  # the reader's span score over its no-answer score (-margin: higher is surer)
    relevance: float  # the cross-encoder's logit of the cited sentence under its headline
    fits: float  # 1 when the span is the kind of thing asked for (a number for "how many", a new name for "who")
    names: float  # 1 when the names and figures the question uses are near the sentence (headline, chunk, paragraph)
    agree: float  # other passages whose span is the same answer
    gap: float  # reader score over the best reading with another answer (the clip when none)
    rank: float  # the passage's retrieval rank (1 = best)
    retrieval: float  # the passage's retrieval score
    words: float  # words in the span

    def row(self) -> list[float]:
        return [max(-CLIP, min(CLIP, float(getattr(self, f.name)))) for f in fields(self)]


FEATURES = tuple(f.name for f in fields(Signals))


@dataclass(frozen=True)
class Calibrator:
    """p = sigmoid(intercept + sum(coef * (x - mean) / scale)) over `Signals`; the operating points
    say at which p an answer is shown (`answer_at`) and its span in bold (`direct_at`, and each
    signal of `direct_min` at least its value: the hand-set decision's two-threshold bold rule)."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    answer_at: float
    direct_at: float
    direct_min: tuple[tuple[str, float], ...] = ()

    @classmethod
    def load(cls, path: Path | None = None) -> "Calibrator":
        """The weights in `path` (default: the hand-set decision); NotConfigured when it is missing or malformed."""
        path = path or HAND_SET
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            model, points = data["model"], data["operating_points"]
            features = tuple(model["features"])
            calibrator = cls(features, tuple(model["mean"]), tuple(model["scale"]), tuple(model["coef"]),
                             float(model["intercept"]), float(points["answer"]["probability"]), float(points["direct"]["probability"]),
                             tuple((str(k), float(v)) for k, v in points["direct"].get("min_signals", {}).items()))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise NotConfigured(f"the answer calibrator's weights cannot be read from {path}: {exc}") from exc
        unknown = (set(features) | {name for name, _ in calibrator.direct_min}) - set(FEATURES)
        if unknown or not len(features) == len(calibrator.mean) == len(calibrator.scale) == len(calibrator.coef):
            raise NotConfigured(f"{path}: weights for unknown or mismatched features ({', '.join(sorted(unknown)) or 'lengths differ'})")
        return calibrator

    def probability(self, signals: Signals) -> float:
        values = dict(zip(FEATURES, signals.row()))
        z = self.intercept + sum(c * (values[f] - m) / s for f, m, s, c in zip(self.features, self.mean, self.scale, self.coef))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def bold(self, signals: Signals, probability: float, direct_at: float | None = None) -> bool:
        """Whether a reading with this probability is sure enough for its span in bold."""
        at = self.direct_at if direct_at is None else direct_at
        return probability >= at and all(getattr(signals, name) >= least for name, least in self.direct_min)
