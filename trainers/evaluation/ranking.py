"""The blocked ranking pass: for every (query, relevant candidate) the number of non-relevant
candidates scoring at least as high, in the relevant's own segment and in the whole pool.

Candidates are split into segments (languages). A block of query rows is scored against every
candidate in one product, the relevant scores are read from that same product, so ties are decided
on identical numbers, and no row is sorted. Each row's relevant scores are sorted (its thresholds);
the DENSE weakest are counted by a full compare, and the rest through the survivors: the scores at
or above the next threshold. On a CPU one numba kernel (kernel.py) does all of it in one read of
the block; on a GPU torch does it, the survivors packed per (row, segment) into padded columns and
counted against each remaining threshold by one vectorised compare and column sum.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

from trainers.evaluation.kernel import count_block

# Torch (GPU) path: the weakest relevant scores sit far below the others (they set how many
# scores survive), so counting them by a full compare is cheaper than carrying their survivors.
DENSE = 2
WIDTH = 16  # survivors per padded column (GPU); a (row, segment) wastes at most WIDTH - 1 slots


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
    once, one per thread, each single-threaded (product and kernel).
    """
    device = queries.device
    workers = torch.get_num_threads() if _kernel_path(queries) else 1
    num_q, (_, num_l, num_k) = len(queries), cols.shape
    rows = max(1, min(num_q, block_size * block_size // len(cands)))
    starts = range(0, num_q, rows)
    workers = min(workers, len(starts))
    segment = np.empty((num_q, num_l * num_k), dtype=np.int64)
    pool = np.empty_like(segment)
    bounds = np.asarray(bounds, dtype=np.int64)
    bounds_t = torch.from_numpy(bounds).to(device)
    local = threading.local()

    def run(start: int) -> None:
        if not hasattr(local, "scores"):
            local.scores = torch.empty((rows, len(cands)), device=device)
            local.mask = None  # the torch path's compare buffer
            if not _kernel_path(local.scores):
                local.mask = torch.empty_like(local.scores, dtype=torch.bool)
        stop = min(start + rows, num_q)
        rel = cols[query_item[start:stop]].reshape(stop - start, -1)
        excl = np.full(stop - start, -1) if self_pos is None else self_pos[start:stop]
        rel = np.where(rel == excl[:, None], -1, rel).astype(np.int64)
        scores = local.scores[: stop - start]
        torch.mm(queries[start:stop], cands.T, out=scores)
        if local.mask is None:
            out = segment[start:stop], pool[start:stop]
            count_block(scores.numpy(), rel, excl.astype(np.int64), bounds, num_k, *out)
        else:
            segment[start:stop], pool[start:stop] = _block(
                scores, local.mask[: stop - start], bounds_t, num_k, rel, excl
            )

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
    """Whether a block is counted by the numba kernel on its memory (CPU) rather than in torch."""
    return t.device.type == "cpu"


def _block(
    scores: torch.Tensor,
    mask: torch.Tensor,
    bounds: torch.Tensor,
    num_k: int,
    rel: np.ndarray,
    excl: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The torch (GPU) counting of one block of scores; masks them in place."""
    device = scores.device
    b, num_j = rel.shape
    rel_t = torch.from_numpy(rel).to(device)
    valid = rel_t >= 0
    row = torch.arange(b, device=device)
    thr = torch.where(valid, scores.gather(1, rel_t.clamp(min=0)), torch.inf)
    scores[row[:, None].expand_as(rel_t)[valid], rel_t[valid]] = -torch.inf
    excl_t = torch.from_numpy(excl).to(device)
    scores[row[excl_t >= 0], excl_t[excl_t >= 0]] = -torch.inf
    srt, order = thr.sort(dim=1)  # empty slots (+inf) last
    slot_seg = order // num_k
    dense = min(DENSE, num_j)
    lo, hi = bounds[slot_seg[:, :dense]], bounds[slot_seg[:, :dense] + 1]
    floor = srt[:, dense] if dense < num_j else None
    pool_counts, seg_counts, survivors = _scan(scores, mask, srt[:, :dense], lo, hi, floor)
    if survivors is not None:
        above = _survivor_counts(*survivors, n=scores.shape[1], bounds=bounds, thr=srt[:, dense:])
        pool_counts = torch.cat([pool_counts, above.sum(1)], 1)
        seg_counts = torch.cat([seg_counts, above.gather(1, slot_seg[:, None, dense:])[:, 0]], 1)
    out = []
    for counts in (seg_counts, pool_counts):
        counts = torch.empty_like(counts).scatter_(1, order, counts)
        out.append(torch.where(valid, counts, -1).cpu().numpy())
    return out[0], out[1]


def _scan(
    scores: torch.Tensor,
    mask: torch.Tensor,
    thr: torch.Tensor,
    lo: torch.Tensor,
    hi: torch.Tensor,
    floor: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, torch.Tensor] | None]:
    """Per row and threshold thr[:, j]: the scores >= it in the row and in its columns lo:hi;
    given a floor, also the flat positions (row-major, ascending) and values of those >= it."""
    b, n = scores.shape
    col = torch.arange(n, device=scores.device)
    counts = torch.zeros((2, b, thr.shape[1]), dtype=torch.int64, device=scores.device)
    for j in range(thr.shape[1]):
        above = torch.ge(scores, thr[:, j : j + 1], out=mask)
        counts[0, :, j] = above.sum(1)
        counts[1, :, j] = (above & (col >= lo[:, j : j + 1]) & (col < hi[:, j : j + 1])).sum(1)
    survivors = None
    if floor is not None:
        flat = torch.ge(scores, floor[:, None], out=mask).view(-1).nonzero().squeeze(1)
        survivors = flat, scores.view(-1)[flat]
    return counts[0], counts[1], survivors


def _survivor_counts(
    flat: torch.Tensor, values: torch.Tensor, *, n: int, bounds: torch.Tensor, thr: torch.Tensor
) -> torch.Tensor:
    """above[row, l, i]: scores of segment l >= the row's i-th threshold (`thr` sorted per row),
    from the flat positions (rows of n) and values of the scores >= thr[:, 0]."""
    device = flat.device
    b, num_l = len(thr), len(bounds) - 1
    row = torch.arange(b, device=device)
    edges = torch.searchsorted(flat, (row[:, None] * n + bounds).view(-1)).view(b, -1)
    per_group = edges.diff(dim=1).reshape(-1)  # survivors per (row, segment)
    # Group g fills padded rows first[g]:ends[g] of WIDTH slots, in order.
    rows_per_group = (per_group + WIDTH - 1) // WIDTH
    ends = rows_per_group.cumsum(0)
    first = ends - rows_per_group
    shift = torch.repeat_interleave(first * WIDTH - edges[:, :-1].reshape(-1), per_group)
    padded = torch.full((int(ends[-1]), WIDTH), -torch.inf, device=device)
    padded.view(-1).index_copy_(0, torch.arange(len(flat), device=device) + shift, values)
    group = torch.repeat_interleave(torch.arange(len(per_group), device=device), rows_per_group)
    # Transposed, every compare runs along contiguous memory on both sides.
    finite = int(torch.isfinite(thr).any(0).sum())
    counts = _column_counts(padded.T.contiguous(), thr[group // num_l, :finite].T.contiguous())
    cum = torch.nn.functional.pad(counts.cumsum(1), (1, 0))
    above = torch.zeros((b, num_l, thr.shape[1]), dtype=torch.int64, device=device)
    above[..., :finite] = (cum[:, ends] - cum[:, first]).T.reshape(b, num_l, finite)
    return above


def _column_counts(values: torch.Tensor, thr: torch.Tensor) -> torch.Tensor:
    """counts[i, c]: elements of column c of `values` >= thr[i, c]."""
    return torch.stack([(values >= t).sum(0) for t in thr]) if len(thr) else thr.long()
