"""What a metric name means to the analysis: direction, error transform, axis label, file name."""

from __future__ import annotations

import numpy as np

ERROR_FLOOR = 1e-6  # a perfect score has zero error; the log-space fit needs a positive floor

DEFAULT_METRICS = ("mono.t2i.r1", "mono.t2t.map", "cross.t2t.r1", "cross.t2t.map", "multi.t2t.map")
DEFAULT_TRADEOFF = (("mono.t2t.map", "cross.t2t.map"), ("mono.t2i.r1", "cross.t2t.r1"))
DEFAULT_HEADLINE = ("mono.t2i.r1", "cross.t2t.r1")  # the pair the report's answer quotes

_SCOPES = {
    "mono": "monolingual",
    "cross": "cross-lingual",
    "multi": "multilingual",
    "en": "English",
}
_TASKS = {"t2i": "text→image", "i2t": "image→text", "t2t": "text→text"}


def lower_is_better(metric: str) -> bool:
    """Rank distance (language bias, and its interval ends) falls as models improve; every
    other metric is an accuracy."""
    return metric.removesuffix(".lo").removesuffix(".hi").endswith("rank_distance")


def value_range(metric: str) -> tuple[float, float]:
    """Where the metric's values lie: [0, 1] for accuracies, [0, inf) for rank distance."""
    return (0.0, np.inf) if lower_is_better(metric) else (0.0, 1.0)


def to_error(metric: str, values: np.ndarray) -> np.ndarray:
    """The quantity the scaling law describes: `1 - acc` for accuracies, the value itself otherwise."""
    values = np.asarray(values, dtype=float)
    err = values if lower_is_better(metric) else 1.0 - values
    return np.maximum(err, ERROR_FLOOR)


def from_error(metric: str, errors: np.ndarray) -> np.ndarray:
    """Inverse of `to_error` (up to the floor)."""
    errors = np.asarray(errors, dtype=float)
    return errors if lower_is_better(metric) else 1.0 - errors


def describe(metric: str) -> str:
    """Axis label such as 'cross-lingual text→text R@1 (cross.t2t.r1)'."""
    parts = metric.split(".")
    words = [_SCOPES.get(parts[0], parts[0])]
    for part in parts[1:]:
        if part in _TASKS:
            words.append(_TASKS[part])
        elif part.startswith("r") and part[1:].isdigit():
            words.append(f"R@{part[1:]}")
        elif part == "map":
            words.append("mAP")
        elif part == "rank_distance":
            words.append("rank distance")
        else:
            words.append(part)
    text = " ".join(words)
    return (
        f"{text} ({metric}, lower is better)" if lower_is_better(metric) else f"{text} ({metric})"
    )


def file_stem(metric: str) -> str:
    """Metric name inside file names: dots become underscores (`cross.t2t.r1` -> `cross_t2t_r1`)."""
    return metric.replace(".", "_")
