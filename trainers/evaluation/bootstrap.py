"""95 % per-query bootstrap intervals of the aggregate metrics (spec section 7).

Each resample draws, in every stratum (a query language, or an ordered pair for `cross.*`), as
many queries as it holds, with replacement, and recomputes the macro mean over the strata; the
interval is the 2.5 and 97.5 percentiles of the resampled means. The strata are independent, so
a resample only needs each stratum's resampled mean, drawn from its exact distribution:

- 0/1 values (hits, coverage): the resampled count of ones is Binomial(n, mean), one draw per
  stratum and resample, whatever n;
- other values (AP, rank distance): queries are drawn one by one;

unless the distribution of the reported mean is normal to within Monte Carlo noise (its skewness,
computed exactly from the strata's moments, at most NORMAL_SKEW): then each stratum mean is drawn
from the normal with the bootstrap's own mean and variance. That is the case at XM3600 size,
where direct draws would take resamples x millions of (query, pair) values.
"""

from __future__ import annotations

import zlib

import numpy as np

from trainers.eval_defaults import EVAL_BOOTSTRAP
from trainers.evaluation.per_query import QueryValues
from trainers.metric_names import EN, EN_METRICS, language_metric

LEVEL = 0.95
# Under this skewness the normal's 2.5 and 97.5 percentiles lie within 0.025 standard
# deviations of the bootstrap's (Cornish-Fisher: skew / 6 * (1.96**2 - 1)), below the Monte
# Carlo error of percentiles from 1000 resamples (about 0.08 standard deviations).
NORMAL_SKEW = 0.05
CHUNK = 1 << 22  # query draws held at once (32 MiB of indices)


def bootstrap_intervals(
    queries: dict[str, QueryValues], resamples: int = EVAL_BOOTSTRAP, seed: int = 0
) -> dict[str, float]:
    """`<metric>.lo` and `<metric>.hi` for every metric of `queries` (their macro means) and the
    English figures (`en.*`); empty for resamples == 0. Reproducible: each metric draws from its
    own stream of `seed`."""
    out: dict[str, float] = {}
    if resamples <= 0:
        return out
    for name, qv in queries.items():
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        en = qv.strata.index((EN, "")) if name in EN_METRICS and (EN, "") in qv.strata else None
        means = stratum_resamples(qv, resamples, rng, watch=en)
        _store(out, name, means.mean(1))
        if en is not None:
            _store(out, language_metric(name, EN), means[:, en])
    return out


def _store(out: dict[str, float], name: str, samples: np.ndarray) -> None:
    lo, hi = np.quantile(samples, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    out[f"{name}.lo"], out[f"{name}.hi"] = float(lo), float(hi)


def stratum_resamples(
    qv: QueryValues, resamples: int, rng: np.random.Generator, watch: int | None = None
) -> np.ndarray:
    """[resamples, strata]: each stratum's mean over its resampled queries.

    `watch`: a stratum reported on its own (as `en.*`), whose distribution must be normal too
    before the normal draws stand in for query draws.
    """
    sizes = qv.sizes
    mean = qv.means()
    if qv.binary:  # a stratum's moments follow from its share of hits
        var, third = mean * (1 - mean), mean * (1 - mean) * (1 - 2 * mean)
    else:
        centred = qv.values - np.repeat(mean, sizes)
        power = centred * centred
        var = np.add.reduceat(power, qv.bounds[:-1]) / sizes
        power *= centred
        third = np.add.reduceat(power, qv.bounds[:-1]) / sizes
    # Cumulants of a stratum's resampled mean: var / n and third / n**2; strata add up.
    k2, k3 = var / sizes, third / sizes**2
    skews = [_skew(k2.sum(), k3.sum())] + ([] if watch is None else [_skew(k2[watch], k3[watch])])
    if max(abs(s) for s in skews) <= NORMAL_SKEW:
        return mean + np.sqrt(k2) * rng.standard_normal((resamples, len(sizes)))
    if qv.binary:  # n draws of 0/1 values with replacement: Binomial(n, mean) ones
        return rng.binomial(sizes, mean, size=(resamples, len(sizes))) / sizes
    return _draw_queries(qv, resamples, rng)


def _skew(k2: float, k3: float) -> float:
    return float(k3 / k2**1.5) if k2 > 0 else 0.0


def _draw_queries(qv: QueryValues, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Stratum means of resampled queries, drawn one by one (chunks of resamples)."""
    sizes, n = qv.sizes, len(qv.values)
    start, width = np.repeat(qv.bounds[:-1], sizes), np.repeat(sizes, sizes)
    out = np.empty((resamples, len(sizes)))
    step = max(1, CHUNK // n)
    for lo in range(0, resamples, step):
        rows = min(step, resamples - lo)
        picks = start + rng.integers(0, width, size=(rows, n))
        out[lo : lo + rows] = np.add.reduceat(qv.values[picks], qv.bounds[:-1], axis=1) / sizes
    return out
