"""What the fitted laws predict beyond the data: each series at 10x the largest N, with the fit's
bootstrap interval, and the alpha they predict best there. A prediction, not a measurement: the
report flags it as an extrapolation, and fits that are underdetermined predict nothing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.fits import ScalingFit
from analysis.metrics import from_error, lower_is_better
from analysis.style import format_size

FACTOR = 10.0  # how far past the largest N


@dataclass(frozen=True)
class Prediction:
    """A law's prediction of one series' metric at the target size, with its 95 % interval."""

    value: float
    lo: float
    hi: float
    draws: np.ndarray  # the bootstrap replicates' predictions (empty without bootstrap)

    def text(self) -> str:
        """'0.412 [0.380, 0.440]', or the value alone without an interval."""
        ci = f" [{self.lo:.3f}, {self.hi:.3f}]" if np.isfinite(self.lo) else ""
        return f"{self.value:.3f}{ci}"


def predict(fit: ScalingFit, metric: str, n: float) -> Prediction:
    """The law of `fit` at size `n`, in metric units, with the pointwise bootstrap interval."""
    sizes = np.array([n])
    value = float(from_error(metric, fit.error(sizes)[0, 0]))
    ends = sorted(float(from_error(metric, b[0])) for b in fit.band(sizes))
    draws = from_error(metric, fit.error(sizes, fit.boot)[:, 0]) if len(fit.boot) else np.empty(0)
    return Prediction(value, ends[0], ends[1], np.asarray(draws, float))


@dataclass(frozen=True)
class Extrapolation:
    """Predictions at `n` per (metric, series) of the fits that are determined."""

    n: float
    predictions: dict[tuple[str, str], Prediction]

    def table(self, series: list[str], metrics: list[str]) -> pd.DataFrame:
        """Series by metric, each cell a prediction with its interval ('–': no determined fit)."""
        rows = []
        for s in series:
            cells = {m: self.predictions[(m, s)].text() if (m, s) in self.predictions else "–"
                     for m in metrics}  # fmt: skip
            if any(c != "–" for c in cells.values()):
                rows.append({"series": s, **cells})
        return pd.DataFrame(rows, columns=["series", *metrics])

    def best(self, studied: list[str], x: str, y: str) -> tuple[str, float, list[str]] | None:
        """(series, share of bootstrap replicates in which it is best, the series compared) of the
        studied series with the best predicted balanced score of x and y; None with no candidate."""
        both = [s for s in studied if (x, s) in self.predictions and (y, s) in self.predictions]
        if not both:
            return None
        sx, sy = (-1.0 if lower_is_better(m) else 1.0 for m in (x, y))

        def score(s: str, field: str) -> np.ndarray:
            px, py = self.predictions[(x, s)], self.predictions[(y, s)]
            return (sx * np.asarray(getattr(px, field)) + sy * np.asarray(getattr(py, field))) / 2

        point = [float(score(s, "value")) for s in both]
        pick = int(np.argmax(point))
        draws = [score(s, "draws") for s in both]
        reps = {len(d) for d in draws}
        share = np.nan
        if len(reps) == 1 and reps != {0}:  # replicates of independent fits: compare draw by draw
            share = float((np.argmax(np.stack(draws), axis=0) == pick).mean())
        return both[pick], share, both


def extrapolate(
    fits_table: pd.DataFrame, fits: dict[tuple[str, str], ScalingFit], largest: float
) -> Extrapolation:
    """Predictions of every determined fit at FACTOR times the largest trained size."""
    n = FACTOR * largest
    determined = {
        (r.metric, r.series)
        for r in fits_table.itertuples(index=False)
        if not r.underdetermined and (r.metric, r.series) in fits
    }
    return Extrapolation(n, {key: predict(fits[key], key[0], n) for key in sorted(determined)})


def best_sentence(
    ex: Extrapolation, studied: list[str], x: str, y: str, baseline: str | None
) -> str:
    """The alpha the laws predict best at the target size, flagged as an extrapolation."""
    where = f"At N = {format_size(ex.n)} ({FACTOR:g}× the largest N; an extrapolation of the fitted laws, not a measurement)"
    found = ex.best(studied, x, y)
    if found is None:
        return (f"{where}, no best α can be predicted: no studied series has a determined fit of "
                f"both {x} and {y} (see the flags).")  # fmt: skip
    series, share, compared = found
    px, py = ex.predictions[(x, series)], ex.predictions[(y, series)]
    text = f"{where}, the laws predict {series} best on {x} and {y}: {px.text()} and {py.text()}"
    if np.isfinite(share):
        text += f" (best in {100 * share:.0f} % of the bootstrap replicates"
        text += (
            f", among {len(compared)} series with determined fits)"
            if len(compared) < len(studied)
            else ")"
        )
    if baseline and (x, baseline) in ex.predictions and (y, baseline) in ex.predictions:
        text += f", against {baseline}'s {ex.predictions[(x, baseline)].text()} and {ex.predictions[(y, baseline)].text()}"
    return text + "."
