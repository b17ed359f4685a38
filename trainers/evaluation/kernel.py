"""The CPU counting kernel of the ranking pass: one numba loop over a block's scores, each read once,
segment by segment (a language: ~14 KiB in XM3600, so in L1 while it is worked on).

Per row, the relevant scores are read and sorted (the thresholds), then the relevant candidates
and the query are masked. Per segment, the scores at or above the weakest threshold (the
survivors, ~4% in the XM3600-sized bench) are compacted branch-free into a small buffer, and each
threshold, weakest first, is counted over the survivors by a vectorised compare, stopping at the
first one no survivor reaches. Serial and GIL-free: the caller runs one block per thread (numba's
own OpenMP pool beside torch's spins and slows the products).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def count_block(
    scores: np.ndarray,
    rel: np.ndarray,
    excl: np.ndarray,
    bounds: np.ndarray,
    num_k: int,
    segment: np.ndarray,
    pool: np.ndarray,
) -> None:  # pragma: no cover - compiled; covered through rank_counts
    """Fill segment/pool [rows, J]: per relevant slot rel[r, j] (candidate position, -1: none),
    the non-relevant candidates scoring >= it within its segment and over all segments (-1 where
    the slot is empty). excl[r]: a candidate left out of row r's pool (-1: none). Masks the
    relevant and excluded scores of `scores` in place."""
    rows, num_j = rel.shape
    num_l = len(bounds) - 1
    width = 0
    for seg in range(num_l):
        width = max(width, bounds[seg + 1] - bounds[seg])
    for r in range(rows):
        row = scores[r]
        thr = np.empty(num_j, dtype=np.float32)
        slot = np.empty(num_j, dtype=np.int64)
        valid = 0
        for j in range(num_j):
            segment[r, j] = -1
            pool[r, j] = -1
            if rel[r, j] >= 0:
                thr[valid] = row[rel[r, j]]
                slot[valid] = j
                valid += 1
        if valid == 0:
            continue
        for j in range(num_j):
            if rel[r, j] >= 0:
                row[rel[r, j]] = -np.inf
        if excl[r] >= 0:
            row[excl[r]] = -np.inf
        order = np.argsort(thr[:valid])
        thr, slot = thr[order], slot[order]
        counts = np.zeros((num_l, valid), dtype=np.int64)
        survivors = np.empty(width, dtype=np.float32)
        for seg in range(num_l):
            part = row[bounds[seg] : bounds[seg + 1]]
            kept = _compact(part, thr[0], survivors)
            for j in range(valid):
                counts[seg, j] = _count_at_least(survivors[:kept], thr[j])
                if counts[seg, j] == 0:
                    break  # thresholds ascend: none reaches the stronger ones either
        for j in range(valid):
            total = 0
            for seg in range(num_l):
                total += counts[seg, j]
            segment[r, slot[j]] = counts[slot[j] // num_k, j]
            pool[r, slot[j]] = total


@numba.njit(inline="always")
def _compact(values: np.ndarray, floor: np.float32, out: np.ndarray) -> int:  # pragma: no cover
    """Copy the values >= floor to the front of `out`; return how many. Branch-free: ~5% survive,
    spread too evenly for a test per chunk of values to skip enough of them."""
    kept = 0
    for x in values:  # always store, advance only on a survivor
        out[kept] = x
        kept += x >= floor
    return kept


@numba.njit(inline="always")
def _count_at_least(values: np.ndarray, threshold: np.float32) -> int:  # pragma: no cover
    count = 0
    for x in values:
        count += x >= threshold
    return count
