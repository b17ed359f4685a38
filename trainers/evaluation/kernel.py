"""The CPU kernels of the ranking pass, two numba loops around a tiled product.

A block of query rows is scored tile by tile (an L2-sized slab of columns), and `scan_tile`
reads each tile while it is still in cache: it takes the exact relevant scores (the thresholds)
that fall in it, masks them and the query itself, and compacts the scores at or above the row's
floor (a bound under its weakest threshold; ~6% survive in the XM3600-sized bench) into the row's
survivors, segment by segment. Then `count_rows` sorts each row's thresholds and counts them over
the survivors, segment by segment, weakest first, stopping at the first one none reaches. Serial
and GIL-free: the caller runs one block per thread (numba's own OpenMP pool beside torch's spins
and slows the products).
"""

from __future__ import annotations

import numba
import numpy as np

from trainers.evaluation.simd import LANES, compress_at_least


@numba.njit(cache=True, nogil=True)
def scan_tile(
    tile: np.ndarray,
    start: int,
    rel: np.ndarray,
    order: np.ndarray,
    cursor: np.ndarray,
    excl: np.ndarray,
    floor: np.ndarray,
    bounds: np.ndarray,
    thr: np.ndarray,
    surv: np.ndarray,
    fill: np.ndarray,
    seg_end: np.ndarray,
) -> None:  # pragma: no cover - compiled; covered through rank_counts
    """Scan the scores of candidates start:start+width (`tile` [rows, width]) for every row.

    rel[r, j]: relevant candidate positions (-1: none), their scores go to thr[r, j];
    order[r]: the slots by position (empty ones last); cursor[r]: the first not yet read;
    excl[r]: a candidate left out of row r (-1: none); the scores >= floor[r] are appended to
    surv[r, fill[r]:] (each row holds every candidate plus LANES slots), and seg_end[r, l] is
    set to fill[r] after the part of segment l (bounds[l]:bounds[l + 1]) in the tile.
    """
    rows, width = tile.shape
    stop = start + width
    first = np.searchsorted(bounds, start, side="right") - 1
    for r in range(rows):
        row = tile[r]
        while cursor[r] < rel.shape[1]:
            j = order[r, cursor[r]]
            if not 0 <= rel[r, j] < stop:
                break
            thr[r, j] = row[rel[r, j] - start]
            row[rel[r, j] - start] = -np.inf
            cursor[r] += 1
        if start <= excl[r] < stop:
            row[excl[r] - start] = -np.inf
        out = surv[r]
        kept = fill[r]
        seg = first
        while seg < len(bounds) - 1 and bounds[seg] < stop:
            lo = max(bounds[seg], start) - start
            hi = min(bounds[seg + 1], stop) - start
            kept = _compact(row[lo:hi], floor[r], out, kept)
            seg_end[r, seg] = kept
            seg += 1
        fill[r] = kept


@numba.njit(cache=True, nogil=True)
def count_rows(
    thr: np.ndarray,
    rel: np.ndarray,
    floor: np.ndarray,
    surv: np.ndarray,
    seg_end: np.ndarray,
    num_k: int,
    segment: np.ndarray,
    pool: np.ndarray,
) -> bool:  # pragma: no cover - compiled; covered through rank_counts
    """Fill segment/pool [rows, J]: per relevant slot, the non-relevant candidates scoring >=
    its threshold within its segment (l = j // num_k) and over all segments (-1: empty slot).

    Returns False, leaving the row's counts unset, if a row's weakest threshold is under its
    floor: its survivors miss candidates, and the caller rescans it with a lower floor.
    """
    rows, num_j = rel.shape
    num_l = seg_end.shape[1]
    ok = True
    for r in range(rows):
        values = np.empty(num_j, dtype=np.float32)
        slot = np.empty(num_j, dtype=np.int64)
        valid = 0
        for j in range(num_j):
            segment[r, j] = -1
            pool[r, j] = -1
            if rel[r, j] >= 0:
                values[valid] = thr[r, j]
                slot[valid] = j
                valid += 1
        if valid == 0:
            continue
        order = np.argsort(values[:valid])
        values, slot = values[order], slot[order]
        if values[0] < floor[r]:
            ok = False
            continue
        counts = np.zeros((num_l, valid), dtype=np.int64)
        lo = 0
        for seg in range(num_l):
            hi = max(lo, seg_end[r, seg])  # an empty segment is never scanned: 0
            part = surv[r, lo:hi]
            lo = hi
            kept = len(part)
            for j in range(valid):
                # Keep only the values >= this threshold, in place: the next pass reads fewer.
                kept = _compact(part[:kept], values[j], part)
                counts[seg, j] = kept
                if kept == 0:
                    break  # thresholds ascend: none reaches the stronger ones either
        for j in range(valid):
            segment[r, slot[j]] = counts[slot[j] // num_k, j]
            pool[r, slot[j]] = counts[:, j].sum()
    return ok


@numba.njit(cache=True, nogil=True, fastmath=True)
def weakest_scores(
    q: np.ndarray, cands: np.ndarray, rel: np.ndarray
) -> np.ndarray:  # pragma: no cover
    """Per row, the lowest q[r] . cands[rel[r, j]] over its relevant slots (+inf: none), summed
    in any order (fastmath): within float32 rounding of what any product gives for it."""
    rows, num_j = rel.shape
    out = np.full(rows, np.inf, dtype=np.float32)
    for r in range(rows):
        for j in range(num_j):
            if rel[r, j] >= 0:
                dot = np.float32(0.0)
                for d in range(q.shape[1]):
                    dot += q[r, d] * cands[rel[r, j], d]
                out[r] = min(out[r], dot)
    return out


@numba.njit(inline="always")
def _compact(
    values: np.ndarray, floor: np.float32, out: np.ndarray, kept: int = 0
) -> int:  # pragma: no cover
    """Append the values >= floor to out[kept:], in order; return the new kept. `out` may be
    `values` itself (kept <= the read position, and a write never passes the values read)."""
    body = len(values) // LANES * LANES
    for i in range(0, body, LANES):
        kept = compress_at_least(values, i, floor, out, kept)
    for i in range(body, len(values)):  # always store, advance only on a survivor
        x = values[i]
        out[kept] = x
        kept += x >= floor
    return kept
