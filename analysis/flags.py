"""The report's flags, grouped: each distinct reason once, with what it applies to.

A fit's reasons (fits.csv `reason`, joined by '; ') are split, so that "3 sizes × 1 seed for 3
parameters: nothing is left to test the law" is one flag listing the fits it concerns, however
many there are; the fits table then cites the flag by number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from analysis.series import UNFINISHED
from analysis.style import format_size

SEPARATOR = "; "  # between the reasons of one fit in fits.csv


@dataclass
class Flag:
    """One distinct reason and what it applies to: fits as (metric, series), or other subjects."""

    reason: str
    fits: list[tuple[str, str]] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)


@dataclass
class Flags:
    """The numbered flags of a report, and the flag numbers of each fit."""

    items: list[Flag] = field(default_factory=list)

    def add(self, reason: str, fit: tuple[str, str] | None = None, subject: str = "") -> None:
        """Note `reason` for a fit or a subject (or the whole report), once per distinct reason."""
        flag = next((f for f in self.items if f.reason == reason), None)
        if flag is None:
            flag = Flag(reason)
            self.items.append(flag)
        if fit and fit not in flag.fits:
            flag.fits.append(fit)
        if subject and subject not in flag.subjects:
            flag.subjects.append(subject)

    def numbers(self, metric: str, series: str) -> str:
        """'1, 3': the flags of one fit, by their number in the list."""
        return ", ".join(str(i + 1) for i, f in enumerate(self.items) if (metric, series) in f.fits)

    def lines(self, fits: pd.DataFrame) -> list[str]:
        """Each flag as one line: the reason, then what it applies to."""
        everything = list(zip(fits["metric"], fits["series"], strict=True))
        return [_line(f, everything) for f in self.items]


def _fits_text(flagged: list[tuple[str, str]], everything: list[tuple[str, str]]) -> str:
    """What a set of fits is, compactly: 'every fit (20)', 'CLIP (every metric)', 'cross.t2t.r1: ...'."""
    if set(flagged) == set(everything):
        return f"every fit ({len(everything)})"
    metrics = list(dict.fromkeys(m for m, _ in everything))
    whole = [s for s in dict.fromkeys(s for _, s in everything)
             if {(m, s) for m in metrics if (m, s) in everything} <= set(flagged)]  # fmt: skip
    parts = [f"{', '.join(whole)} (every metric)"] if whole else []
    for metric in metrics:
        series = [s for m, s in flagged if m == metric and s not in whole]
        every = [s for m, s in everything if m == metric]
        if series:
            parts.append(f"{metric} ({'all series' if series == every else ', '.join(series)})")
    return "; ".join(parts)


def _line(flag: Flag, everything: list[tuple[str, str]]) -> str:
    where = [_fits_text(flag.fits, everything)] if flag.fits else []
    where += [", ".join(flag.subjects)] if flag.subjects else []
    return flag.reason + (f" — {'; '.join(where)}" if where else "")


def fit_flags(flags: Flags, fits: pd.DataFrame) -> None:
    """Add each fit's reasons (fits.csv `reason`) for the fits that are flagged."""
    for r in fits.itertuples(index=False):
        if r.underdetermined:
            for reason in str(r.reason).split(SEPARATOR):
                flags.add(reason, fit=(r.metric, r.series))


def trial_flags(flags: Flags, trials: pd.DataFrame) -> None:
    """Trials that did not finish, grouped by status and error."""
    for r in trials[trials["status"].isin(UNFINISHED)].itertuples(index=False):
        alpha = f" α={r.alpha:g}" if pd.notna(r.alpha) else ""
        size = f" N={format_size(r.data_size)}" if pd.notna(r.data_size) else ""
        reason = f"trials {r.status}" + (f": {r.error}" if r.error else "")
        flags.add(reason, subject=f"{r.label}{alpha}{size} seed {r.seed} ({r.trial_id})")


def note_flags(flags: Flags, notes: Iterable[str]) -> None:
    """Report-wide notes (skipped metrics, missing intervals)."""
    for note in notes:
        flags.add(note)
