"""Series of a study (one per arm/alpha), the trials usable for them, and seed aggregates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.metrics import lower_is_better

UNFINISHED = ("ERROR", "RUNNING", "PENDING")
ARM_ORDER = ("hybrid", "clip", "clip-en", "pretrained")
_ARM_NAMES = {"clip": "CLIP", "clip-en": "CLIP (en)", "pretrained": "pretrained"}
_ALPHA_ENDS = {0.0: " (cross-only)", 1.0: " (mono-only)"}


def series_label(arm: str, alpha: float | None) -> str:
    """Legend name of an arm/alpha series, e.g. 'hybrid α=0.5' or 'CLIP'."""
    if arm != "hybrid":
        return _ARM_NAMES.get(arm, arm)
    if alpha is None or not np.isfinite(alpha):
        return "hybrid"
    return f"hybrid α={alpha:g}{_ALPHA_ENDS.get(float(alpha), '')}"


def usable_trials(trials: pd.DataFrame) -> pd.DataFrame:
    """Finished trials with a data size (any size for 'pretrained'), with a 'series' column added."""
    ok = ~trials["status"].isin(UNFINISHED)
    sized = np.isfinite(trials["data_size"].to_numpy(float)) & (
        trials["data_size"].to_numpy(float) > 0
    )
    out = trials[ok & (sized | (trials["arm"] == "pretrained"))].copy()
    out["series"] = [series_label(a, al) for a, al in zip(out["arm"], out["alpha"], strict=True)]
    return out


def series_order(trials: pd.DataFrame) -> list[tuple[str, str, float]]:
    """(series, arm, alpha) of the trained arms: hybrid by alpha, then the baselines."""
    keys = trials[trials["arm"] != "pretrained"][["series", "arm", "alpha"]].drop_duplicates()
    rank = {arm: i for i, arm in enumerate(ARM_ORDER)}
    keys = keys.assign(_r=keys["arm"].map(lambda a: rank.get(a, len(rank)))).sort_values(
        ["_r", "alpha", "arm"]
    )
    return list(keys[["series", "arm", "alpha"]].itertuples(index=False, name=None))


def aggregate(trials: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Seed mean, standard deviation and count of `metric` per series and data size."""
    data = usable_trials(trials)
    data = data[data["arm"] != "pretrained"]
    data = data[np.isfinite(data[metric].to_numpy(float))] if metric in data else data.iloc[:0]
    cols = ["series", "arm", "alpha", "data_size"]
    if data.empty:
        return pd.DataFrame(columns=[*cols, "mean", "sd", "n_seeds"])
    grouped = data.groupby(cols, dropna=False, sort=True)[metric]
    out = grouped.agg(mean="mean", sd="std", n_seeds="count").reset_index()
    return out


def reference(trials: pd.DataFrame, metric: str) -> float | None:
    """Mean of `metric` over the 'pretrained' arm (a size-independent reference), if present."""
    data = usable_trials(trials)
    values = (
        data.loc[data["arm"] == "pretrained", metric] if metric in data else pd.Series(dtype=float)
    )
    values = values[np.isfinite(values.to_numpy(float))]
    return float(values.mean()) if len(values) else None


def hybrid_alphas(trials: pd.DataFrame) -> list[float]:
    """Sorted distinct alphas of the hybrid arm."""
    values = trials.loc[trials["arm"] == "hybrid", "alpha"].to_numpy(float)
    return sorted(set(values[np.isfinite(values)].tolist()))


def best_group(trials: pd.DataFrame, metric: str, arm: str = "hybrid") -> pd.Series | None:
    """The (series, data_size) of `arm` with the best seed mean of `metric`, or None."""
    agg = aggregate(trials, metric)
    agg = agg[agg["arm"] == arm]
    if agg.empty:
        return None
    pick = agg["mean"].idxmin() if lower_is_better(metric) else agg["mean"].idxmax()
    return agg.loc[pick]


def baseline_group(trials: pd.DataFrame, metric: str, size: float) -> pd.Series | None:
    """The CLIP baseline (else CLIP-en) at data size `size`, as a row of `aggregate`."""
    agg = aggregate(trials, metric)
    for arm in ("clip", "clip-en"):
        at = agg[(agg["arm"] == arm) & (agg["data_size"] == size)]
        if len(at):
            return at.iloc[0]
    return None


def group_trial_ids(trials: pd.DataFrame, group: pd.Series) -> list[str]:
    """Trial ids of the usable trials of one (series, data_size) group."""
    data = usable_trials(trials)
    return data.loc[
        (data["series"] == group["series"]) & (data["data_size"] == group["data_size"]), "trial_id"
    ].tolist()
