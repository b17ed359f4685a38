"""The blocked ranking pass: for every (query, relevant candidate) the number of non-relevant
candidates scoring at least as high, in the relevant's own segment and in the whole pool.

Candidates are split into segments (languages). A block of query rows is scored against every
candidate in one product (at most block_size**2 scores), the relevant scores are read from that
same product, so ties are decided on identical numbers, and no row is sorted: only scores at or
above a query's weakest relevant score can move a rank, so the block is reduced to those survivors
before they are placed among the sorted relevant scores and counted per segment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

CHUNK = 8  # columns per max-reduced chunk in the survivor filter


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
    """
    num_q, (_, num_l, num_k) = len(queries), cols.shape
    rows = max(1, min(num_q, block_size * block_size // len(cands)))
    cand_seg = torch.from_numpy(np.repeat(np.arange(num_l), np.diff(bounds))).to(queries.device)
    buf = torch.empty((rows, len(cands)), device=queries.device)  # reused: no page faults per block
    segment = np.full((num_q, num_l, num_k), -1, dtype=np.int64)
    pool = np.full((num_q, num_l, num_k), -1, dtype=np.int64)
    for start in range(0, num_q, rows):
        stop = min(start + rows, num_q)
        rel = cols[query_item[start:stop]]
        excl = None if self_pos is None else self_pos[start:stop]
        if excl is not None:
            rel = np.where(rel == excl[:, None, None], -1, rel)
        segment[start:stop], pool[start:stop] = _block(
            queries[start:stop], cands, cand_seg, rel, excl, buf[: stop - start]
        )
    return Counts(segment=segment, pool=pool)


def _block(
    q: torch.Tensor,
    cands: torch.Tensor,
    cand_seg: torch.Tensor,
    rel: np.ndarray,
    excl: np.ndarray | None,
    scores: torch.Tensor,
) -> tuple[np.ndarray, np.ndarray]:
    device = q.device
    b, num_l, num_k = rel.shape
    torch.mm(q, cands.T, out=scores)
    rel_t = torch.from_numpy(rel).to(device)
    valid = rel_t >= 0
    row = torch.arange(b, device=device)
    thr = torch.where(valid, scores[row[:, None, None], rel_t.clamp(min=0)], torch.inf)
    scores[row[:, None, None].expand_as(rel_t)[valid], rel_t[valid]] = -torch.inf
    if excl is not None:
        scores[row, torch.from_numpy(excl).to(device)] = -torch.inf
    srt, order = thr.reshape(b, -1).sort(dim=1)
    rows, cols, vals = _survivors(scores, srt[:, :1])
    places = torch.searchsorted(srt[rows], vals.unsqueeze(1), right=True).squeeze(1)
    hist = torch.zeros((b, num_l, srt.shape[1] + 1), dtype=torch.int64, device=device)
    hist.index_put_((rows, cand_seg[cols], places), torch.ones_like(places), accumulate=True)
    # above[r, l, j]: candidates of segment l scoring >= the row's j-th smallest threshold.
    above = hist[..., 1:].flip(-1).cumsum(-1).flip(-1)
    slot_lang = torch.arange(num_l, device=device).repeat_interleave(num_k)[order]
    seg_sorted = above.gather(1, slot_lang.unsqueeze(1)).squeeze(1)
    out = [
        torch.empty_like(counts).scatter_(1, order, counts).reshape(b, num_l, num_k).cpu().numpy()
        for counts in (seg_sorted, above.sum(1))
    ]
    invalid = ~valid.cpu().numpy()
    for counts in out:
        counts[invalid] = -1
    return out[0], out[1]


def _survivors(
    scores: torch.Tensor, floor: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Rows, columns and values of the scores >= their row's floor.

    Chunk maxima come first: a max reduction is several times cheaper than a comparison that
    writes a mask, and most chunks hold no survivor.
    """
    b, n = scores.shape
    width = n // CHUNK
    cut = width * CHUNK
    # Chunk g holds columns g, g + width, ...: its max is an elementwise max of CHUNK slices.
    chunks = scores.as_strided((b, CHUNK, width), (n, width, 1))
    r, g = (chunks.amax(1) >= floor).nonzero(as_tuple=True)
    sub = chunks[r, :, g]
    i, j = (sub >= floor[r]).nonzero(as_tuple=True)
    rest = scores[:, cut:]
    tr, tc = (rest >= floor).nonzero(as_tuple=True)
    return (
        torch.cat([r[i], tr]),
        torch.cat([j * width + g[i], tc + cut]),
        torch.cat([sub[i, j], rest[tr, tc]]),
    )
