"""The blocked ranking pass: for every (query, relevant candidate) the number of non-relevant
candidates scoring at least as high, in the relevant's own segment and in the whole pool.

Candidates are split into segments (languages). A block of query rows is scored against every
candidate in one product, the relevant scores are read from that same product, so ties are decided
on identical numbers, and no row is sorted. Each row's relevant scores are sorted (its thresholds);
the DENSE weakest are counted by a full compare, and the rest through the survivors: the scores at
or above the next threshold, packed per (row, segment) into short padded rows and placed among the
thresholds by one vectorised compare per threshold, then counted in one histogram.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

# The weakest relevant scores sit far below the others (they set how many scores survive), so
# counting them by a full compare is cheaper than carrying their survivors.
DENSE = 2
WIDTH = 64  # survivors per padded row; a (row, segment) wastes at most WIDTH - 1 slots


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
    On a CPU, blocks run on torch.get_num_threads() threads, each single-threaded; together they
    hold at most block_size**2 scores.
    """
    device = queries.device
    workers = torch.get_num_threads() if device.type == "cpu" else 1
    num_q, (_, num_l, num_k) = len(queries), cols.shape
    rows = max(1, min(num_q, block_size * block_size // (len(cands) * workers)))
    starts = range(0, num_q, rows)
    workers = min(workers, len(starts))
    segment = np.empty((num_q, num_l * num_k), dtype=np.int64)
    pool = np.empty_like(segment)
    bounds_t = torch.from_numpy(np.asarray(bounds, dtype=np.int64)).to(device)
    local = threading.local()

    def run(start: int) -> None:
        stop = min(start + rows, num_q)
        if not hasattr(local, "space"):
            local.space = _Space(rows, len(cands), device)
        rel = cols[query_item[start:stop]].reshape(stop - start, -1)
        excl = None if self_pos is None else self_pos[start:stop]
        if excl is not None:
            rel = np.where(rel == excl[:, None], -1, rel)
        segment[start:stop], pool[start:stop] = _block(
            queries[start:stop], cands, bounds_t, num_k, rel, excl, local.space
        )

    if workers == 1:
        for start in starts:
            run(start)
    else:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # one block per core: no fork/join per op, no idle core
        try:
            with ThreadPoolExecutor(workers) as executor:
                list(executor.map(run, starts))
        finally:
            torch.set_num_threads(threads)
    shape = (num_q, num_l, num_k)
    return Counts(segment=segment.reshape(shape), pool=pool.reshape(shape))


class _Space:
    """A thread's reused block buffers (no page faults per block)."""

    def __init__(self, rows: int, cands: int, device: torch.device) -> None:
        self.scores = torch.empty((rows, cands), device=device)
        self.mask = torch.empty((rows, cands), dtype=torch.bool, device=device)


def _block(
    q: torch.Tensor,
    cands: torch.Tensor,
    bounds: torch.Tensor,
    num_k: int,
    rel: np.ndarray,
    excl: np.ndarray | None,
    space: _Space,
) -> tuple[np.ndarray, np.ndarray]:
    device = q.device
    b, num_j = rel.shape
    scores, mask = space.scores[:b], space.mask[:b]
    torch.mm(q, cands.T, out=scores)
    rel_t = torch.from_numpy(rel).to(device)
    valid = rel_t >= 0
    row = torch.arange(b, device=device)
    thr = torch.where(valid, scores.gather(1, rel_t.clamp(min=0)), torch.inf)
    scores[row[:, None].expand_as(rel_t)[valid], rel_t[valid]] = -torch.inf
    if excl is not None:
        scores[row, torch.from_numpy(excl).to(device)] = -torch.inf
    srt, order = thr.sort(dim=1)  # empty slots (+inf) last
    slot_seg = order // num_k
    seg_counts = torch.empty((b, num_j), dtype=torch.int64, device=device)
    pool_counts = torch.empty_like(seg_counts)
    dense = min(DENSE, num_j)
    for j in range(dense):
        lo, hi = bounds[slot_seg[:, j]], bounds[slot_seg[:, j] + 1]
        pool_counts[:, j], seg_counts[:, j] = _count_at(scores, mask, srt[:, j], lo, hi)
    if dense < num_j:
        above = _survivor_counts(scores, mask, bounds, srt[:, dense:])
        pool_counts[:, dense:] = above.sum(1)
        seg_counts[:, dense:] = above.gather(1, slot_seg[:, None, dense:]).squeeze(1)
    out = []
    for counts in (seg_counts, pool_counts):
        counts = torch.empty_like(counts).scatter_(1, order, counts)
        out.append(torch.where(valid, counts, -1).cpu().numpy())
    return out[0], out[1]


def _count_at(
    scores: torch.Tensor, mask: torch.Tensor, t: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row: scores >= t[row] in the whole row and in columns lo[row]:hi[row]."""
    if scores.device.type != "cpu":
        above = torch.ge(scores, t[:, None], out=mask)
        col = torch.arange(scores.shape[1], device=scores.device)
        inside = (col >= lo[:, None]) & (col < hi[:, None])
        return above.sum(1), (above & inside).sum(1)
    # numpy: a vectorised compare, then a SIMD count per row (an axis count is several x slower).
    above = np.greater_equal(scores.numpy(), t.numpy()[:, None], out=mask.numpy())
    lo_n, hi_n = lo.tolist(), hi.tolist()
    pool = [np.count_nonzero(r) for r in above]
    seg = [np.count_nonzero(r[a:z]) for r, a, z in zip(above, lo_n, hi_n, strict=True)]
    return torch.tensor(pool), torch.tensor(seg)


def _survivor_counts(
    scores: torch.Tensor, mask: torch.Tensor, bounds: torch.Tensor, thr: torch.Tensor
) -> torch.Tensor:
    """above[row, l, i]: scores of segment l >= the row's i-th threshold (`thr` sorted per row)."""
    device = scores.device
    b, n = scores.shape
    num_l, num_t = len(bounds) - 1, thr.shape[1]
    flat = _flat_at_least(scores, mask, thr[:, 0])
    row = torch.arange(b, device=device)
    edges = torch.searchsorted(flat, (row[:, None] * n + bounds).view(-1)).view(b, -1)
    per_group = edges.diff(dim=1).reshape(-1)  # survivors per (row, segment)
    padded_rows = (per_group + WIDTH - 1) // WIDTH
    first = padded_rows.cumsum(0) - padded_rows
    shift = torch.repeat_interleave(first * WIDTH - edges[:, :-1].reshape(-1), per_group)
    padded = torch.full((int(padded_rows.sum()), WIDTH), -torch.inf, device=device)
    padded.view(-1)[torch.arange(len(flat), device=device) + shift] = scores.view(-1)[flat]
    group = torch.repeat_interleave(torch.arange(b * num_l, device=device), padded_rows)
    places = _places(padded, thr[group // num_l])
    hist = torch.bincount(
        (group[:, None] * (num_t + 1) + places).view(-1), minlength=b * num_l * (num_t + 1)
    ).view(b, num_l, num_t + 1)
    # A score is >= the i-th threshold exactly when at least i + 1 thresholds are <= it.
    return hist.flip(-1).cumsum(-1).flip(-1)[..., 1:]


def _flat_at_least(scores: torch.Tensor, mask: torch.Tensor, floor: torch.Tensor) -> torch.Tensor:
    """Flat positions (row-major, ascending) of the scores >= their row's floor."""
    if scores.device.type != "cpu":
        return torch.ge(scores, floor[:, None], out=mask).view(-1).nonzero().squeeze(1)
    # numpy skips runs of zero bytes word by word: several x faster than torch's nonzero here.
    above = np.greater_equal(scores.numpy(), floor.numpy()[:, None], out=mask.numpy())
    return torch.from_numpy(np.flatnonzero(above))


def _places(values: torch.Tensor, thr: torch.Tensor) -> torch.Tensor:
    """Per element: how many of its row's sorted thresholds are <= it."""
    if values.device.type != "cpu":
        return torch.searchsorted(thr.contiguous(), values, right=True)
    # One compare-and-add per threshold beats a binary search per element by far on a CPU.
    finite = int(torch.isfinite(thr).any(0).sum())
    v, t = values.numpy(), thr.numpy()
    acc = np.zeros(v.shape, dtype=np.uint8 if finite < 256 else np.int32)
    hit = np.empty(v.shape, dtype=bool)
    for j in range(finite):
        np.greater_equal(v, t[:, j : j + 1], out=hit)
        acc += hit
    return torch.from_numpy(acc).long()
