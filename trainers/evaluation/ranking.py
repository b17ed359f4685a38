"""The blocked ranking pass: for every (query, relevant candidate) the number of non-relevant
candidates scoring at least as high, in the relevant's own segment and in the whole pool.

Candidates are split into segments (languages). Query rows go in blocks; the relevant scores are
read from the same products as all others, so ties are decided on identical numbers, and no row
is sorted: each row's relevant scores are sorted (its thresholds) and counted over the scores
that reach the weakest. A CPU counts with numba kernels on cache-sized tiles of the product
(cpu_counts.py), a GPU in torch on whole blocks (torch_counts.py).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

from trainers.evaluation.cpu_counts import TILE_ROWS, TiledCounter
from trainers.evaluation.torch_counts import TorchCounter


@dataclass(frozen=True)
class Counts:
    """Per query and relevant slot [Q, L, K]: non-relevant candidates scoring >= the relevant,
    within its segment (`segment`) and over all segments (`pool`); -1 where the slot is empty."""

    segment: np.ndarray
    pool: np.ndarray


def rank_counts(
    queries: torch.Tensor,
    cands: torch.Tensor,
    bounds: np.ndarray,
    query_item: np.ndarray,
    cols: np.ndarray,
    *,
    block_size: int,
    self_pos: np.ndarray | None = None,
) -> Counts:
    """Count, for each query's relevant slots `cols[query_item]`, the non-relevant candidates above.

    `bounds`: candidate segment offsets (L+1); `cols[item, l, k]`: candidate positions in segment l
    (-1: none); `self_pos`: a candidate per query to leave out of the pool (the query itself).
    A block holds at most block_size**2 scores; on a CPU, torch.get_num_threads() blocks run at
    once, one per thread, each single-threaded (product and kernels).
    """
    kernel = _kernel_path(queries)
    workers = torch.get_num_threads() if kernel else 1
    num_q, (_, num_l, num_k) = len(queries), cols.shape
    rows = max(1, min(num_q, block_size * block_size // len(cands)))
    if kernel:
        rows = min(rows, TILE_ROWS)
    starts = range(0, num_q, rows)
    workers = min(workers, len(starts))
    segment = np.empty((num_q, num_l * num_k), dtype=np.int64)
    pool = np.empty_like(segment)
    bounds = np.asarray(bounds, dtype=np.int64)
    local = threading.local()

    def run(start: int) -> None:
        if not hasattr(local, "counter"):
            local.counter = (TiledCounter if kernel else TorchCounter)(cands, bounds, num_k, rows)
        stop = min(start + rows, num_q)
        rel = cols[query_item[start:stop]].reshape(stop - start, -1)
        excl = np.full(stop - start, -1) if self_pos is None else self_pos[start:stop]
        rel = np.where(rel == excl[:, None], -1, rel).astype(np.int64)
        out = segment[start:stop], pool[start:stop]
        local.counter.count(queries[start:stop], rel, excl.astype(np.int64), out)

    if workers == 1:
        for start in starts:
            run(start)
    else:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # one block per core: no OpenMP fork/join or spinning per op
        try:
            with ThreadPoolExecutor(workers) as executor:
                list(executor.map(run, starts))
        finally:
            torch.set_num_threads(threads)
    shape = (num_q, num_l, num_k)
    return Counts(segment=segment.reshape(shape), pool=pool.reshape(shape))


def _kernel_path(t: torch.Tensor) -> bool:
    """Whether blocks are counted by the numba kernels (CPU) rather than in torch."""
    return t.device.type == "cpu"
