"""`analyze`: results tables, fits, figures and the report of a study run or a trials table."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from analysis.extrapolate import extrapolate
from analysis.fits import fit_all
from analysis.gaps import compare
from analysis.laws import FitLaw
from analysis.metrics import DEFAULT_HEADLINE, DEFAULT_METRICS, DEFAULT_TRADEOFF
from analysis.plot_heatmap import plot_pair_heatmaps
from analysis.plot_languages import plot_language_bars
from analysis.plot_scaling import plot_scaling
from analysis.plot_tradeoff import plot_tradeoff
from analysis.render import to_html, to_markdown
from analysis.report import Figure, FigureGroup, ReportParts, build_blocks, run_name
from analysis.selection import best_hybrid
from analysis.series import baseline_arm, sized
from analysis.style import format_size
from analysis.tables import Results, load_results, write_results

HEATMAP_METRIC = "cross.t2t.r1"


def default_out(source: Path) -> Path:
    """`<run>/report` for a run directory, `<dir>/report` beside a table file."""
    return (source.parent if source.is_file() else source) / "report"


def _present(results: Results, metric: str) -> bool:
    return metric in results.trials and results.trials[metric].notna().any()


def _tradeoff(results: Results, x: str, y: str, out: Path) -> Figure:
    base = (baseline_arm(results.trials) or ("", "the baseline"))[1]
    caption = f"{y} against {x} as N grows, {base} dashed, with the best α at each N below."
    return plot_tradeoff(results.trials, x, y, out)[0], caption


def _figures(
    results: Results, fits: dict, metrics: list[str], pairs: list, pick, out: Path
) -> list[FigureGroup]:
    """Every figure the data allows but the headline one, in groups; `pick` = (series, N) of the
    best hybrid, which the per-language figures show."""
    groups = [
        FigureGroup("Other trade-offs", "", [_tradeoff(results, x, y, out) for x, y in pairs]),
        FigureGroup("Scaling with N", "", [
            (plot_scaling(results.trials, m, fits, out)[0], f"{m} against N.") for m in metrics
        ]),
    ]  # fmt: skip
    if pick is None:
        return [g for g in groups if g.figures]
    base = (baseline_arm(results.trials) or ("", "the baseline"))[1]
    figures = []
    for metric in metrics:
        paths = plot_language_bars(results, metric, pick, out)
        if paths:
            figures.append((paths[0], f"{metric} per language, grouped by resource level."))
    if _present(results, HEATMAP_METRIC):
        paths = plot_pair_heatmaps(results, HEATMAP_METRIC, pick, out)
        if paths:
            caption = f"{HEATMAP_METRIC} by language pair (query a, target b), and the difference."
            figures.append((paths[0], caption))
    intro = f"The best hybrid, {pick[0]} at N={format_size(pick[1])}, against {base} at the same N."
    groups.append(FigureGroup("Per language", intro, figures))
    return [g for g in groups if g.figures]


def analyze(
    run_dir_or_table: str | os.PathLike,
    out: str | os.PathLike | None = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    tradeoff_pairs: Sequence[tuple[str, str]] = DEFAULT_TRADEOFF,
    fit_form: str | FitLaw = "saturating",
    bootstrap: int = 200,
    seed: int = 0,
    headline: tuple[str, str] = DEFAULT_HEADLINE,
) -> Path:
    """Write tables, fits.csv, figures (PNG, SVG, CSV), report.md and report.html; returns report.md.

    `headline` is the (monolingual, cross-lingual) pair the answer quotes and the best hybrid is
    chosen on; it is fitted and plotted even when `metrics` and `tradeoff_pairs` leave it out.
    """
    source = Path(run_dir_or_table).expanduser()
    results = load_results(source)
    out = Path(out) if out is not None else default_out(source)
    write_results(results, out)
    headline = (headline[0], headline[1])
    notes = []
    wanted = list(dict.fromkeys([*metrics, *headline]))
    missing = [m for m in wanted if not _present(results, m)]
    if missing:
        notes.append(f"metric(s) not in the results (or all NaN), skipped: {', '.join(missing)}")
    used = [m for m in wanted if m not in missing]
    has_headline = all(m in used for m in headline)
    pairs = [(x, y) for x, y in dict.fromkeys(map(tuple, tradeoff_pairs)) if (x, y) != headline]
    notes += [f"trade-off {x} vs {y} skipped: a metric is missing"
              for x, y in pairs if x in missing or y in missing]  # fmt: skip
    pairs = [(x, y) for x, y in pairs if x in used and y in used]
    table, fits = fit_all(results.trials, used, law=fit_form, bootstrap=bootstrap, seed=seed)
    table.to_csv(out / "fits.csv", index=False)
    best = best_hybrid(results.trials, *headline) if has_headline else None
    pick = None if best is None else (best["series"], float(best["data_size"]))
    if pick is None:
        notes.append("no best hybrid (the headline pair has no studied data): per-language bars "
                     "and heatmaps skipped")  # fmt: skip
    data = sized(results.trials)
    largest = float(data["data_size"].max()) if len(data) else np.nan
    parts = ReportParts(
        results=results, metrics=used, headline=headline,
        comparison=compare(results.trials, *headline) if has_headline else None,
        best=None if pick is None else f"{pick[0]} at N={format_size(pick[1])}",
        hero=_tradeoff(results, *headline, out) if has_headline else None,
        figures=_figures(results, fits, used, pairs, pick, out),
        fits=table, extrapolation=extrapolate(table, fits, largest), notes=notes,
        bootstrap=bootstrap,
    )  # fmt: skip
    blocks = build_blocks(parts)
    (out / "report.md").write_text(to_markdown(blocks, out), encoding="utf-8")
    title = f"Scaling study: {run_name(results)}"
    (out / "report.html").write_text(to_html(blocks, title), encoding="utf-8")
    return out / "report.md"
