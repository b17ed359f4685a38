"""The torch counting of a block (the GPU path; it also runs on CPU tensors): the whole block in one
product, the DENSE weakest thresholds of each row counted by a full compare, the rest through the
survivors (the scores at or above the next threshold), packed per (row, segment) into padded
columns and counted against each remaining threshold by one vectorised compare and column sum."""

from __future__ import annotations

import numpy as np
import torch

# The weakest relevant scores sit far below the others (they set how many scores survive), so
# counting them by a full compare is cheaper than carrying their survivors.
DENSE = 2
WIDTH = 16  # survivors per padded column; a (row, segment) wastes at most WIDTH - 1 slots


class TorchCounter:
    """One thread's counting of blocks of at most `rows` query rows against fixed candidates."""

    def __init__(self, cands: torch.Tensor, bounds: np.ndarray, num_k: int, rows: int) -> None:
        self.cands, self.num_k = cands, num_k
        self.bounds = torch.from_numpy(bounds).to(cands.device)
        self.scores = torch.empty((rows, len(cands)), device=cands.device)
        self.mask = torch.empty_like(self.scores, dtype=torch.bool)

    def count(
        self, q: torch.Tensor, rel: np.ndarray, excl: np.ndarray, out: tuple[np.ndarray, ...]
    ) -> None:
        """Fill out = (segment, pool) [rows, J] for queries q, relevant slots rel, excluded excl."""
        scores = self.scores[: len(q)]
        torch.mm(q, self.cands.T, out=scores)
        segment, pool = _block(scores, self.mask[: len(q)], self.bounds, self.num_k, rel, excl)
        out[0][:], out[1][:] = segment, pool


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
