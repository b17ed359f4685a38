"""Results derived from seed means: paired means of two metrics, the Pareto set and the best
alpha per data size (shared by the trade-off figure and the report's summary)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.metrics import lower_is_better
from analysis.series import aggregate

KEYS = ["series", "arm", "is_baseline", "alpha", "data_size"]


def paired_means(trials: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Seed means and sds of `x` and `y` per series and size, on the trials that have both."""
    both = trials[np.isfinite(trials[x].to_numpy(float)) & np.isfinite(trials[y].to_numpy(float))]
    ax, ay = aggregate(both, x), aggregate(both, y)
    out = ax.merge(ay, on=[*KEYS, "n_seeds"], suffixes=("_x", "_y"))
    out["is_baseline"] = out["is_baseline"].astype(bool)
    return out.sort_values(KEYS, na_position="first").reset_index(drop=True)


def _signs(x: str, y: str) -> tuple[float, float]:
    return (-1.0 if lower_is_better(x) else 1.0), (-1.0 if lower_is_better(y) else 1.0)


def balanced_score(frame: pd.DataFrame, x: str, y: str) -> np.ndarray:
    """Mean of both metrics, each signed so that higher is better: how the best alpha is picked."""
    sx, sy = _signs(x, y)
    return (sx * frame["mean_x"].to_numpy(float) + sy * frame["mean_y"].to_numpy(float)) / 2


def pareto(points: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Rows not dominated in (x, y) by any other row, sorted by x."""
    sx, sy = _signs(x, y)
    px, py = sx * points["mean_x"].to_numpy(float), sy * points["mean_y"].to_numpy(float)
    dominated = ((px[None, :] >= px[:, None]) & (py[None, :] >= py[:, None])) & (
        (px[None, :] > px[:, None]) | (py[None, :] > py[:, None])
    )
    return points[~dominated.any(axis=1)].sort_values("mean_x")


def best_alpha(points: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Per data size, the studied (non-baseline) row with the best balanced score of x and y."""
    studied = points[~points["is_baseline"]]
    if studied.empty:
        return studied
    studied = studied.assign(score=balanced_score(studied, x, y))
    return studied.loc[studied.groupby("data_size")["score"].idxmax()].sort_values("data_size")


def best_hybrid(trials: pd.DataFrame, x: str, y: str) -> pd.Series | None:
    """The report's one "best hybrid": the best alpha (`best_alpha`) at the largest N where the
    studied arms have both metrics; a row of `paired_means` (None without studied data)."""
    best = best_alpha(paired_means(trials, x, y), x, y)
    return best.iloc[-1] if len(best) else None
