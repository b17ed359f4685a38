"""Per-query values of one metric, grouped into strata: what its macro mean averages and what a
per-query bootstrap resamples (a stratum is a query language, or an ordered pair for `cross.*`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class QueryValues:
    """One metric's value for each query where it is defined, stratum after stratum.

    `values[bounds[g]:bounds[g + 1]]` are the queries of stratum `strata[g]` = (lang_a, lang_b),
    lang_b '' for a per-language stratum; bool values for hits (R@k, coverage), float otherwise
    (AP, rank distance). Every stratum holds at least one query.
    """

    values: np.ndarray
    bounds: np.ndarray
    strata: list[tuple[str, str]]

    @property
    def sizes(self) -> np.ndarray:
        """Queries per stratum."""
        return np.diff(self.bounds)

    @property
    def binary(self) -> bool:
        """Whether every value is 0 or 1 (a hit or a coverage flag)."""
        return self.values.dtype == np.bool_

    def means(self) -> np.ndarray:
        """The per-stratum means (the per-language or per-pair values of the metric)."""
        return np.add.reduceat(self.values, self.bounds[:-1], dtype=np.float64) / self.sizes


def _kept(values: np.ndarray, sizes: np.ndarray, strata: list[tuple[str, str]]) -> QueryValues:
    """Drop the strata without a defined query."""
    keep = sizes > 0
    bounds = np.concatenate([[0], np.cumsum(sizes[keep])]).astype(np.int64)
    return QueryValues(values, bounds, [s for s, k in zip(strata, keep, strict=True) if k])


def from_segments(
    values: np.ndarray, defined: np.ndarray, bounds: np.ndarray, strata: list[tuple[str, str]]
) -> QueryValues:
    """Stratum g = the queries bounds[g]:bounds[g + 1] (rows laid out stratum by stratum)."""
    before = np.concatenate([[0], np.cumsum(defined)])
    return _kept(values[defined], before[bounds[1:]] - before[bounds[:-1]], strata)


def from_columns(
    values: np.ndarray, defined: np.ndarray, strata: list[tuple[str, str]]
) -> QueryValues:
    """Stratum g = column g of values [queries, G] (a query may belong to several strata)."""
    return _kept(values.T[defined.T], defined.sum(0), strata)


def concat(parts: list[QueryValues]) -> QueryValues:
    """The strata of several QueryValues, in order."""
    sizes = np.concatenate([p.sizes for p in parts])
    values = np.concatenate([p.values for p in parts])
    return _kept(values, sizes, [s for p in parts for s in p.strata])
