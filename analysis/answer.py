"""The generated answer to the research question: one or two sentences, in numbers with 95 %
intervals, on the headline pair of metrics (`analysis.headline`): how the gap between the best
alpha and the baseline moves per 10x N, and which alpha is best at the largest N."""

from __future__ import annotations

import numpy as np

from analysis.gaps import Comparison
from analysis.metrics import lower_is_better
from analysis.style import format_size
from analysis.uncertainty import Estimate


def _direction(slope: Estimate, metric: str, studied: str, baseline: str) -> str:
    """Whom the gap moves towards as N grows, or that its interval includes no change."""
    if not np.isfinite(slope.se):
        return ""
    if slope.lo <= 0 <= slope.hi:
        return " (no clear trend: the interval includes 0)"
    gains = (slope.value > 0) != lower_is_better(metric)
    return f" (towards {studied if gains else baseline})"


def gap_sentence(cmp: Comparison) -> str | None:
    """How the gap to the baseline moves per 10x N on both metrics; None without two sizes."""
    parts, spans = [], []
    for axis, metric in (("x", cmp.x), ("y", cmp.y)):
        slope = cmp.slope(axis)
        if slope is None:
            continue
        sizes = cmp.gaps(axis)[0]
        spans.append((sizes.min(), sizes.max(), len(sizes)))
        direction = _direction(slope, metric, cmp.studied, cmp.baseline or "")
        parts.append(f"{slope.text(signed=True)} on {metric}{direction}")
    if not parts:
        return None
    lo, hi, k = spans[0]
    return (f"Per 10× more training items (N = {format_size(lo)}–{format_size(hi)}, {k} sizes), the "
            f"gap between the best {cmp.studied} α and {cmp.baseline} moves by {' and by '.join(parts)}; "
            "weighted least-squares slopes of the per-N gaps below against log10 N.")  # fmt: skip


def best_sentence(cmp: Comparison) -> str:
    """Which alpha is best at the largest N, its two values and the baseline's."""
    last = cmp.rows[-1]
    only = " (the only size)" if len(cmp.rows) == 1 else ""
    text = (f"At the largest N ({format_size(last.n)}{only}), the best {cmp.studied} is α = {last.alpha:g} "
            f"(highest mean of the two metrics) with {cmp.x} {last.x.text()} and {cmp.y} {last.y.text()}")  # fmt: skip
    if last.base_x and last.base_y:
        text += f", against {cmp.baseline}'s {last.base_x.text()} and {last.base_y.text()}"
    return text + "."


def answer(cmp: Comparison | None, headline: tuple[str, str]) -> list[str]:
    """The answer sentences (the gap's trend first, where there is one), or why there are none."""
    if cmp is None:
        return [f"No answer: the studied arms have no finished trials with both {headline[0]} and "
                f"{headline[1]} (analysis.headline, --headline)."]  # fmt: skip
    if cmp.baseline is None:
        return [
            best_sentence(cmp),
            "No baseline arm in the results, so there is no gap to measure.",
        ]
    gap = gap_sentence(cmp)
    return [gap, best_sentence(cmp)] if gap else [best_sentence(cmp)]
