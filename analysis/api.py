"""`analyze`: results tables, fits, figures and the report of a study run or a trials table."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from analysis.fits import fit_all
from analysis.laws import FitLaw
from analysis.metrics import DEFAULT_METRICS, DEFAULT_TRADEOFF
from analysis.plot_heatmap import plot_pair_heatmaps
from analysis.plot_languages import plot_language_bars
from analysis.plot_scaling import plot_scaling
from analysis.plot_tradeoff import plot_tradeoff
from analysis.render import to_html, to_markdown
from analysis.report import build_blocks
from analysis.series import baseline_arm, studied_label
from analysis.tables import Results, load_results, write_results

HEATMAP_METRIC = "cross.t2t.r1"


def default_out(source: Path) -> Path:
    """`<run>/report` for a run directory, `<dir>/report` beside a table file."""
    return (source.parent if source.is_file() else source) / "report"


def _present(results: Results, metric: str) -> bool:
    return metric in results.trials and results.trials[metric].notna().any()


def _figures(
    results: Results, fits: dict, metrics: list[str], pairs: list[tuple[str, str]], out: Path
):
    """Draw every figure the data allows; returns (png path, caption) pairs."""
    figures = []
    studied = studied_label(results.trials)
    base = (baseline_arm(results.trials) or ("", "the baseline"))[1]
    for x, y in pairs:
        png = plot_tradeoff(results.trials, x, y, out)[0]
        figures.append(
            (
                png,
                f"Trade-off of {x} (x) and {y} (y) as N grows, against {base}; per-N best α below.",
            )
        )
    for metric in metrics:
        figures.append(
            (plot_scaling(results.trials, metric, fits, out)[0], f"Scaling of {metric} with N.")
        )
    for metric in metrics:
        paths = plot_language_bars(results, metric, out)
        if paths:
            figures.append(
                (paths[0], f"{metric} per language: best {studied} vs {base} at the same N.")
            )
    paths = (
        plot_pair_heatmaps(results, HEATMAP_METRIC, out)
        if _present(results, HEATMAP_METRIC)
        else None
    )
    if paths:
        figures.append(
            (paths[0], f"{HEATMAP_METRIC} by language pair: best {studied}, {base}, difference.")
        )
    return figures


def analyze(
    run_dir_or_table: str | os.PathLike,
    out: str | os.PathLike | None = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    tradeoff_pairs: Sequence[tuple[str, str]] = DEFAULT_TRADEOFF,
    fit_form: str | FitLaw = "saturating",
    bootstrap: int = 200,
    seed: int = 0,
) -> Path:
    """Write tables, fits.csv, figures (PNG, SVG, CSV), report.md and report.html; returns report.md."""
    source = Path(run_dir_or_table).expanduser()
    results = load_results(source)
    out = Path(out) if out is not None else default_out(source)
    write_results(results, out)
    notes = []
    wanted = list(dict.fromkeys(metrics))
    missing = [m for m in wanted if not _present(results, m)]
    if missing:
        notes.append(f"metric(s) not in the results (or all NaN), skipped: {', '.join(missing)}")
    used = [m for m in wanted if m not in missing]
    pairs = [(x, y) for x, y in tradeoff_pairs if _present(results, x) and _present(results, y)]
    notes += [
        f"trade-off {x} vs {y} skipped: a metric is missing"
        for x, y in tradeoff_pairs
        if (x, y) not in pairs
    ]
    table, fits = fit_all(results.trials, used, law=fit_form, bootstrap=bootstrap, seed=seed)
    table.to_csv(out / "fits.csv", index=False)
    figures = _figures(results, fits, used, pairs, out)
    blocks = build_blocks(results, table, used, pairs, figures, notes)
    (out / "report.md").write_text(to_markdown(blocks, out), encoding="utf-8")
    (out / "report.html").write_text(to_html(blocks, "Scaling study report"), encoding="utf-8")
    return out / "report.md"
