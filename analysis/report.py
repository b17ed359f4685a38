"""Assemble the report's blocks, answer first: the title, the generated answer and the headline
trade-off figure (the first screen), then the per-N table, the extrapolation, the grouped flags,
the other figures, the fits and every result."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.answer import answer
from analysis.extrapolate import Extrapolation, best_sentence
from analysis.flags import Flags, fit_flags, note_flags, trial_flags
from analysis.gaps import Comparison, size_table
from analysis.render import Block
from analysis.report_tables import fits_table, floor_note, interval_text, law_text, means_table
from analysis.series import UNFINISHED, series_order
from analysis.style import format_size
from analysis.tables import PER_LANGUAGE, TRIALS, Results
from analysis.uncertainty import interval_note

QUESTION = (
    "How does scaling the size of hybrid-batch training data change the trade-off between "
    "monolingual and cross-lingual retrieval accuracy on XM3600, compared with standard CLIP pre-training?"
)
Figure = tuple[Path, str]  # (PNG path, caption)


@dataclass(frozen=True)
class FigureGroup:
    """Figures under one heading, with what they have in common said once."""

    heading: str
    intro: str
    figures: list[Figure]


@dataclass
class ReportParts:
    """What the report says, computed by `analysis.api.analyze`."""

    results: Results
    metrics: list[str]
    headline: tuple[str, str]
    comparison: Comparison | None  # best alpha per N against the baseline on the headline pair
    best: str | None  # "hybrid α=0.5 at N=2k": the one best hybrid of every figure
    hero: Figure | None  # the headline trade-off figure
    figures: list[FigureGroup]
    fits: pd.DataFrame
    extrapolation: Extrapolation
    notes: list[str]
    bootstrap: int


def run_name(results: Results) -> str:
    """The study's name: the run directory, or the table file's stem."""
    src = Path(results.source or "results")
    if src.is_dir():
        return src.name
    if src.parent.name == "results":
        return src.parent.parent.name
    return src.parent.name if src.stem == "trials" else src.stem


def _corpus_text(corpus: dict, same_languages_as: dict | None = None) -> str:
    languages = corpus.get("languages") or []
    text = f"{corpus.get('name')}, {corpus.get('num_items'):,} items"
    if same_languages_as is not None and languages == same_languages_as.get("languages"):
        return text + " (the same languages)"
    text += f" in {len(languages)} languages"
    return text + (f" ({' '.join(languages)})" if 0 < len(languages) <= 12 else "")


def data_line(data: dict) -> str:
    """One line: the corpora a run trained and evaluated on, and where their captions come from."""
    train, evald = data.get("train") or {}, data.get("eval") or {}
    text = f"Data: train {_corpus_text(train)}; eval {_corpus_text(evald, train)}."
    if train.get("names"):
        left = train.get("left_out") or []
        text += f" Names: {train['names']}" + (f"; it lacks {' '.join(left)}." if left else ".")
    if train.get("source"):
        text += f" Source: {train['source']}."
    return text


def _first_screen(parts: ReportParts) -> list[Block]:
    trials, (x, y) = parts.results.trials, parts.headline
    blocks = [
        Block("h1", f"Scaling study: {run_name(parts.results)}"),
        Block("note", f"Question: {QUESTION}"),
        *([Block("note", data_line(parts.results.data))] if parts.results.data else []),
        Block("lead", answer(parts.comparison, parts.headline)),
        Block("note", f"{interval_note(trials, [x, y])} A gap's interval adds the variances of both "
                      "sides, which is conservative: both are scored on the same eval set."),
    ]  # fmt: skip
    if parts.hero:
        blocks.append(Block("hero", *parts.hero))
    return blocks


def _per_size(parts: ReportParts) -> list[Block]:
    cmp = parts.comparison
    if cmp is None:
        return []
    definition = (f"Best α at each N: the α of {cmp.studied} with the highest mean of {cmp.x} and {cmp.y} "
                  f"there. The best {cmp.studied} of every figure below is the best α at the largest N: "
                  f"{parts.best}.")  # fmt: skip
    if cmp.baseline:
        definition += f" Δ = best α − {cmp.baseline}."
    title = "Per data size: the best α" + (f" against {cmp.baseline}" if cmp.baseline else "")
    return [Block("h2", title), Block("table", size_table(cmp), definition)]


def _extrapolation(parts: ReportParts) -> list[Block]:
    ex, (x, y) = parts.extrapolation, parts.headline
    if not np.isfinite(ex.n):
        return []
    order = series_order(parts.results.trials)
    blocks = [Block("h2", f"Extrapolation to N = {format_size(ex.n)}: predicted, not measured")]
    table = ex.table([s.name for s in order], parts.metrics)
    if table.empty:
        return [
            *blocks,
            Block("p", "No fit is determined, so the laws predict nothing (see the flags)."),
        ]
    if {x, y} <= set(parts.metrics):
        studied = [s.name for s in order if not s.baseline]
        baseline = parts.comparison.baseline if parts.comparison else None
        blocks.append(Block("p", best_sentence(ex, studied, x, y, baseline)))
    caption = ("Each determined fit's prediction with its 95 % bootstrap interval; – where the fit is "
               "underdetermined (see the flags).")  # fmt: skip
    return [*blocks, Block("table", table, caption)]


def build_blocks(parts: ReportParts) -> list[Block]:
    """The whole report, top to bottom."""
    trials, fits = parts.results.trials, parts.fits
    flags = Flags()
    note_flags(flags, parts.notes)
    trial_flags(flags, trials)
    fit_flags(flags, fits)
    blocks = _first_screen(parts) + _per_size(parts) + _extrapolation(parts)
    if flags.items:
        blocks += [Block("h2", "Flags"), Block("ol", flags.lines(fits))]
    for group in parts.figures:
        blocks += [Block("h2", group.heading)] + ([Block("p", group.intro)] if group.intro else [])
        blocks += [Block("figure", path, caption) for path, caption in group.figures]
    if len(fits):
        blocks += [
            Block("h2", "Scaling-law fits (error e = 1 − accuracy; rank distance as is)"),
            Block("p", f"Law: {law_text(fits)}. Intervals: {interval_text(fits, parts.bootstrap)}. "
                       "Hold-out: the law fitted without the largest N predicts it. Every estimate, "
                       f"also of underdetermined fits: fits.csv.{floor_note(fits)}"),
            Block("table", fits_table(fits, flags)),
        ]  # fmt: skip
    finished = int((~trials["status"].isin(UNFINISHED)).sum())
    blocks += [
        Block("h2", "Results by arm and data size"),
        Block("table", means_table(trials, parts.metrics),
              f"Seed mean [95 % interval]. Full tables: {TRIALS}.csv, {PER_LANGUAGE}.csv."),
        Block("note", f"Source: {parts.results.source}. Trials: {len(trials)} ({finished} finished)."),
    ]  # fmt: skip
    return blocks
