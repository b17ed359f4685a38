"""Scaling laws of the error e(N), each one object: its name, parameters, formula, fit,
prediction and bounds. `analysis.fit` (and `study analyze --fit`) picks one by name; the fits,
the figures and the report ask the law instead of testing its name. A new law is one
`register_law` (docs/extending.md).

Parameters live in the report's three columns (E_inf, B, c: floor, scale and exponent); a law
fills those it estimates and leaves the others NaN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from analysis.errors import InputError
from analysis.fitcore import C_MAX, Bounds, fit_power, fit_saturating, saturating_log

PARAMS = ("E_inf", "B", "c")
EDGE = 1e-3  # an interval end this close to a box bound is "at the bound"


@dataclass(frozen=True)
class FitLaw:
    """One law: how to fit it to log errors, predict with it and read its parameters.

    `fit(logn [n], loge [R, n]) -> (theta [R, k], n_ref)` fits every row (the data, then any
    bootstrap draws); `predict(theta [R, k], logn [m], n_ref) -> e [R, m]`;
    `natural(theta [R, k], n_ref) -> [R, 3]` gives (E_inf, B, c), NaN where not estimated.
    """

    name: str
    title: str  # in words, for figure titles: "saturating power law"
    formula: str  # "e(N) = E∞ + B·N^(−c)"
    method: str  # how it is fitted, for the report
    params: tuple[str, ...]  # the entries of PARAMS it estimates
    fit: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, float]]
    predict: Callable[[np.ndarray, np.ndarray, float], np.ndarray]
    natural: Callable[[np.ndarray, float], np.ndarray]
    # Where each estimated parameter may lie; intervals are clipped to it.
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    # Reasons why intervals (lo, hi of PARAMS) do not bound the parameters, given the errors.
    flags: Callable[[np.ndarray, np.ndarray, np.ndarray], list[str]] = lambda lo, hi, e: []

    @property
    def k(self) -> int:
        """Free parameters (a fit needs at least this many distinct sizes)."""
        return len(self.params)

    def at_bound(self, param: str, value: float) -> bool:
        """Whether an estimate sits at (within EDGE of) a finite bound of its parameter."""
        lo, hi = self.bounds.get(param, (-np.inf, np.inf))
        return not (lo + EDGE < value < hi - EDGE)


_LAWS: dict[str, FitLaw] = {}


def register_law(law: FitLaw) -> FitLaw:
    """Add (or replace) a law; `analysis.fit: <name>` then selects it."""
    unknown = set(law.params) - set(PARAMS)
    if unknown:
        raise ValueError(f"law '{law.name}': parameters {sorted(unknown)} not among {PARAMS}")
    _LAWS[law.name] = law
    return law


def law_names() -> tuple[str, ...]:
    """The registered laws, in registration order."""
    return tuple(_LAWS)


def get_law(law: str | FitLaw) -> FitLaw:
    """A law by name (a FitLaw passes through); an InputError names the known ones."""
    if isinstance(law, FitLaw):
        return law
    if law not in _LAWS:
        raise InputError(
            f"fit law {law!r}: unknown; use one of {', '.join(_LAWS)} (analysis.fit, --fit)"
        )
    return _LAWS[law]


def _saturating_fit(logn: np.ndarray, loge: np.ndarray) -> tuple[np.ndarray, float]:
    # Centring N keeps the scale parameter on the scale of the data (see analysis.fitcore).
    n_ref = float(np.exp(logn.mean()))
    return fit_saturating(logn - np.log(n_ref), loge)[0], n_ref


def _saturating_flags(lo: np.ndarray, hi: np.ndarray, errors: np.ndarray) -> list[str]:
    box = Bounds.for_errors(np.log(errors)[None, :])
    reasons = []
    if hi[2] >= C_MAX - EDGE or lo[2] <= EDGE:
        reasons.append(
            f"the interval of c reaches a bound of [0, {C_MAX:g}]: the exponent is not identified"
        )
    if np.log(hi[0]) >= box.hi[0] - EDGE:
        reasons.append("the interval of E_inf reaches its upper bound")
    return reasons


register_law(
    FitLaw(
        name="saturating",
        title="saturating power law",
        formula="e(N) = E∞ + B·N^(−c)",
        method="Huber loss on log residuals, bounded, multi-start (Besiroglu et al. 2024)",
        params=PARAMS,
        fit=_saturating_fit,
        predict=lambda t, logn, n_ref: np.exp(saturating_log(t, logn[None, :] - np.log(n_ref))),
        natural=lambda t, n_ref: np.stack(
            [np.exp(t[:, 0]), np.exp(t[:, 1]) * n_ref ** t[:, 2], t[:, 2]], axis=1
        ),
        bounds={"E_inf": (0.0, np.inf), "B": (0.0, np.inf), "c": (0.0, C_MAX)},
        flags=_saturating_flags,
    )
)
register_law(
    FitLaw(
        name="power",
        title="power law",
        formula="e(N) = B·N^(−c)",
        method="least squares in log-log space (Cherti et al. 2023)",
        params=("B", "c"),
        fit=lambda logn, loge: (fit_power(logn, loge)[0], float(np.exp(logn.mean()))),
        predict=lambda t, logn, n_ref: np.exp(t[:, 0:1] - t[:, 1:2] * logn[None, :]),
        natural=lambda t, n_ref: np.stack(
            [np.full(len(t), np.nan), np.exp(t[:, 0]), t[:, 1]], axis=1
        ),
        bounds={"B": (0.0, np.inf)},
    )
)
