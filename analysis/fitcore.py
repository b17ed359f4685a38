"""Vectorised estimators of scaling laws: many replicates (bootstrap draws) fitted in one call.

Saturating law `e(N) = E_inf + B * N^(-c)`, fitted in log space as
`log e = logaddexp(a, b - c * x)` with `x = log(N / N_ref)`, `a = log E_inf` and
`b = log(B * N_ref^(-c))`: centring N keeps `b` (the reducible error at `N_ref`) on the
scale of the data, so one box of bounds and one grid of starts suit any metric. The loss is
Huber on log residuals (Besiroglu et al. 2024, after Hoffmann et al. 2022), minimised by
batched Levenberg-Marquardt from the best points of a grid of starts. The pure power law `log e = log B - c log N`
is ordinary least squares in log-log space (Cherti et al. 2023).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HUBER_DELTA = 0.1  # log-error units: seed noise stays quadratic, a diverged seed counts linearly
C_MAX = 3.0
SPAN = 14.0  # a and b may lie down to exp(-14) times the largest error
STARTS = 3  # grid points refined per replicate
MAX_ITER = 300
MAX_DAMPING = 1e10


@dataclass(frozen=True)
class Bounds:
    """Box of the saturating parameters (a, b, c) for one data set."""

    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def for_errors(cls, loge: np.ndarray) -> Bounds:
        """Bounds scaled to the largest observed error."""
        top = float(np.nanmax(loge))
        return cls(np.array([top - SPAN, top - SPAN, 0.0]), np.array([top + 0.5, top + 3.0, C_MAX]))


def _huber(r: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """Huber loss and its derivative, elementwise."""
    ar = np.abs(r)
    loss = np.where(ar <= delta, 0.5 * r * r, delta * (ar - 0.5 * delta))
    return loss, np.clip(r, -delta, delta)


def saturating_log(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """log e at centred log sizes `x` for parameter rows `theta[..., 3]`."""
    a, b, c = theta[..., 0:1], theta[..., 1:2], theta[..., 2:3]
    return np.logaddexp(a, b - c * x)


def _huber_total(theta: np.ndarray, x: np.ndarray, loge: np.ndarray, delta: float) -> np.ndarray:
    """Huber loss of each parameter row against its data row."""
    return _huber(saturating_log(theta, x) - loge, delta)[0].sum(-1)


def _levenberg_marquardt(
    theta: np.ndarray, x: np.ndarray, loge: np.ndarray, bounds: Bounds, delta: float
) -> tuple[np.ndarray, np.ndarray]:
    """Minimise the Huber loss of every row at once: damped Gauss-Newton on IRLS weights, projected on the box.

    Rows are independent 3-parameter problems, so batched 3x3 solves beat one large L-BFGS-B
    over all rows, and reach the same optimum on bootstrap draws.
    """
    theta = theta.copy()
    damping = np.full(len(theta), 1e-2)
    loss = _huber_total(theta, x, loge, delta)
    eye = np.eye(3)
    for _ in range(MAX_ITER):
        a, b, c = theta[:, 0:1], theta[:, 1:2], theta[:, 2:3]
        pred = np.logaddexp(a, b - c * x)
        p = np.exp(a - pred)  # share of the prediction carried by E_inf
        jac = np.stack([p, 1 - p, -(1 - p) * x], axis=-1)
        r = pred - loge
        weight = np.where(np.abs(r) <= delta, 1.0, delta / np.maximum(np.abs(r), 1e-300))
        jw = jac * weight[..., None]
        normal = np.einsum("mni,mnj->mij", jw, jac)
        grad = np.einsum("mni,mn->mi", jw, r)
        # The fixed ridge keeps the system solvable where a column of the Jacobian is exactly zero
        # (E_inf carries the whole prediction) and the damping has shrunk towards 0.
        lhs = normal + damping[:, None, None] * (normal * eye + 1e-9 * eye) + 1e-12 * eye
        step = np.linalg.solve(lhs, grad[..., None])[..., 0]
        trial = np.clip(theta - step, bounds.lo, bounds.hi)
        new = _huber_total(trial, x, loge, delta)
        better = new < loss
        settled = np.abs(loss - new) <= 1e-12 * (1 + loss)
        theta[better] = trial[better]
        loss = np.where(better, new, loss)
        damping = np.where(better, damping * 0.3, np.minimum(damping * 10, MAX_DAMPING))
        if np.all(settled | (damping >= MAX_DAMPING)):
            break
    return theta, loss


def _grid(bounds: Bounds) -> np.ndarray:
    a = np.linspace(bounds.hi[0] - 0.5 - 6.0, bounds.hi[0] - 0.5, 7)
    b = np.linspace(bounds.hi[1] - 3.0 - 5.0, bounds.hi[1] - 2.0, 7)
    c = np.array([0.05, 0.15, 0.3, 0.5, 0.8, 1.2, 2.0])
    return np.stack(np.meshgrid(a, b, c, indexing="ij"), axis=-1).reshape(-1, 3)


def fit_saturating(
    x: np.ndarray, loge: np.ndarray, delta: float = HUBER_DELTA
) -> tuple[np.ndarray, np.ndarray]:
    """Fit every row of `loge [R, n]` at centred log sizes `x [n]`; returns (theta [R, 3], loss [R])."""
    loge = np.atleast_2d(loge)
    bounds = Bounds.for_errors(loge)
    grid = _grid(bounds)
    # Score the whole grid at once, then refine only the best few starts of each replicate.
    pred = saturating_log(grid[None, :, :], x[None, None, :])
    loss, _ = _huber(pred - loge[:, None, :], delta)
    order = np.argsort(loss.sum(-1), axis=1)[:, :STARTS]
    starts = grid[order]  # [R, STARTS, 3]
    ys = np.repeat(loge, STARTS, axis=0)
    theta, loss = _levenberg_marquardt(starts.reshape(-1, 3), x, ys, bounds, delta)
    theta, loss = theta.reshape(-1, STARTS, 3), loss.reshape(-1, STARTS)
    best = np.argmin(loss, axis=1)
    idx = np.arange(theta.shape[0])
    return theta[idx, best], loss[idx, best]


def fit_power(logn: np.ndarray, loge: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least squares of `log e = log B - c log N` per row; returns ([log B, c] [R, 2], sse [R])."""
    loge = np.atleast_2d(loge)
    dx = logn - logn.mean()
    my = loge.mean(1, keepdims=True)
    slope = ((loge - my) * dx).sum(1, keepdims=True) / (dx * dx).sum()
    logb = my - slope * logn.mean()
    sse = ((loge - logb - slope * logn) ** 2).sum(1)
    return np.concatenate([logb, -slope], axis=1), sse
