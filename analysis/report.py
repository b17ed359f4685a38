"""Assemble the report's blocks: summary, notes, figures and tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.laws import get_law
from analysis.render import Block
from analysis.series import (
    UNFINISHED,
    aggregate,
    baseline_arm,
    references,
    series_order,
    studied_label,
)
from analysis.summary import summarise
from analysis.tables import PER_LANGUAGE, TRIALS, Results

QUESTION = (
    "How does scaling the size of hybrid-batch training data change the trade-off between "
    "monolingual and cross-lingual retrieval accuracy on XM3600, compared with standard CLIP pre-training?"
)


def _interval(v: float, lo: float, hi: float, digits: int = 3) -> str:
    if not np.isfinite(v):
        return ""
    ci = f" [{lo:.{digits}g}, {hi:.{digits}g}]" if np.isfinite(lo) and np.isfinite(hi) else ""
    return f"{v:.{digits}g}{ci}"


def fits_table(fits: pd.DataFrame) -> pd.DataFrame:
    """fits.csv condensed for reading: estimates with 95 % intervals, hold-out, flags."""
    g = fits.get
    return pd.DataFrame({
        "metric": fits["metric"], "series": fits["series"], "law": fits["form"],
        "sizes × trials": [f"{s} × {t}" for s, t in zip(fits["n_sizes"], fits["n_trials"], strict=True)],
        "c [95 % CI]": [_interval(*v) for v in zip(g("c"), g("c_lo"), g("c_hi"), strict=True)],
        "E∞ [95 % CI]": [_interval(*v) for v in zip(g("E_inf"), g("E_inf_lo"), g("E_inf_hi"), strict=True)],
        "B [95 % CI]": [_interval(*v) for v in zip(g("B"), g("B_lo"), g("B_hi"), strict=True)],
        "hold-out pred / obs": [f"{p:.3f} / {o:.3f}" if np.isfinite(p) else ""
                                for p, o in zip(g("holdout_pred"), g("holdout_obs"), strict=True)],
        "flag": [r if u else "" for u, r in zip(fits["underdetermined"], fits["reason"].fillna(""), strict=True)],
    })  # fmt: skip


_METHODS = {
    "stratified": "stratified bootstrap (trials resampled within each size)",
    "residual": "residual bootstrap (a size has one seed: the fit's log residuals resampled and refitted)",
}


def interval_text(fits: pd.DataFrame) -> str:
    """Which bootstrap made the intervals (fits.csv `interval_method`), in words."""
    used = [m for m in _METHODS if (fits["interval_method"] == m).any()]
    if not used:
        return "none (no bootstrap)"
    names = " and ".join(_METHODS[m] for m in used)
    where = ", per series as in fits.csv `interval_method`" if len(used) > 1 else ""
    return f"{names}{where}, 95 %, widened by t/z for the few degrees of freedom"


def law_text(fits: pd.DataFrame) -> str:
    """The law(s) behind fits.csv (its `form` column): formula, name and how it is fitted."""
    laws = [get_law(name) for name in dict.fromkeys(fits["form"])]
    return "; ".join(f"{law.formula} ({law.title}), {law.method}" for law in laws)


def means_table(trials: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Seed mean ± sd (seeds) of each metric per series and data size; the references (arms
    evaluated once) last, with N '-'."""
    order = {s.name: i for i, s in enumerate(series_order(trials))}
    cells: dict[tuple[str, float], dict[str, str]] = {}
    for metric in metrics:
        for r in aggregate(trials, metric).itertuples(index=False):
            sd = f" ± {r.sd:.3f}" if np.isfinite(r.sd) else ""
            cells.setdefault((r.series, r.data_size), {})[metric] = (
                f"{r.mean:.3f}{sd} ({r.n_seeds})"
            )
        for name, value in references(trials, metric):
            cells.setdefault((name, np.inf), {})[metric] = f"{value:.3f}"
    rows = [
        {"series": s, "N": int(n) if np.isfinite(n) else "-", **v}
        for (s, n), v in sorted(cells.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0][1]))
    ]
    return pd.DataFrame(rows, columns=["series", "N", *metrics])


def status_notes(trials: pd.DataFrame) -> list[str]:
    """Trials that did not finish, with their reasons."""
    bad = trials[trials["status"].isin(UNFINISHED)]
    return [
        f"trial {r.trial_id} ({r.arm}, α={r.alpha:g}, N={r.data_size if pd.notna(r.data_size) else '-'}, "
        f"seed {r.seed}) is {r.status}" + (f": {r.error}" if r.error else "")
        for r in bad.itertuples(index=False)
    ]


def build_blocks(
    results: Results,
    fits: pd.DataFrame,
    metrics: list[str],
    pairs: list[tuple[str, str]],
    figures: list[tuple[Path, str]],
    notes: list[str],
) -> list[Block]:
    """The whole report, top to bottom."""
    trials = results.trials
    sentences, gaps = summarise(trials, fits, pairs)
    finished = int((~trials["status"].isin(UNFINISHED)).sum())
    blocks = [
        Block("h1", "Scaling study report"),
        Block(
            "p",
            f"Source: {results.source}. Trials: {len(trials)} ({finished} finished). Question: {QUESTION}",
        ),
        Block("h2", "Summary"),
        Block(
            "ul",
            sentences
            or ["Not enough finished trials to answer the question (no studied arm with data)."],
        ),
    ]
    studied, base = studied_label(trials), (baseline_arm(trials) or ("", "the baseline"))[1]
    for (x, y), table in gaps.items():
        blocks.append(
            Block(
                "table",
                table,
                f"Best α per N on {x} vs {y}, and the gap to {base} (Δ = {studied} − {base}):",
            )
        )
    notes = (
        notes
        + status_notes(trials)
        + [
            f"{r.metric} / {r.series}: {r.reason}"
            for r in fits.itertuples(index=False)
            if r.underdetermined
        ]
    )
    if notes:
        blocks += [Block("h2", "Notes and flags"), Block("ul", notes)]
    blocks.append(Block("h2", "Figures"))
    blocks += [Block("figure", path, caption) for path, caption in figures]
    if len(fits):
        blocks += [
            Block("h2", "Scaling-law fits (error e = 1 − accuracy; rank distance as is)"),
            Block(
                "p",
                f"{law_text(fits)}; intervals: {interval_text(fits)}. Hold-out: the law fitted "
                "without the largest N predicts it. Full table: fits.csv.",
            ),
            Block("table", fits_table(fits)),
        ]
    blocks += [
        Block("h2", "Results by arm and data size"),
        Block("table", means_table(trials, metrics), f"Seed mean ± sd (number of seeds). Full tables: {TRIALS}.csv, {PER_LANGUAGE}.csv."),
    ]  # fmt: skip
    return blocks
