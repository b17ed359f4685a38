"""Metric values as people read them: a value with its 95 % interval, `0.2100 [0.1800, 0.2400]`."""

from __future__ import annotations

import math
from collections.abc import Mapping


def with_interval(metrics: Mapping[str, float | None], name: str, digits: int = 4) -> str:
    """`metrics[name]` and, when `metrics` has `<name>.lo` and `<name>.hi`, its interval."""
    value = metrics.get(name)
    if value is None or math.isnan(value):
        return "-"
    text = f"{value:.{digits}f}"
    lo, hi = metrics.get(f"{name}.lo"), metrics.get(f"{name}.hi")
    if lo is not None and hi is not None:
        text += f" [{lo:.{digits}f}, {hi:.{digits}f}]"
    return text


def metrics_table(metrics: Mapping[str, float | None], names: list[str] | None = None) -> str:
    """One line per metric (interval ends are shown beside their metric, not on their own)."""
    names = names or sorted(k for k in metrics if not k.endswith((".lo", ".hi")))
    width = max((len(n) for n in names), default=6)
    lines = [f"{'metric':<{width}}  value  [95 % interval]"]
    lines += [f"{name:<{width}}  {with_interval(metrics, name)}" for name in names]
    return "\n".join(lines)
