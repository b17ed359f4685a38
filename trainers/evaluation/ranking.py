"""The blocked ranking pass: for every (query, relevant candidate) the number of non-relevant
candidates scoring at least as high, in the relevant's own segment and in the whole pool.

Candidates are split into segments (languages). A query block's relevant candidates lie in one
contiguous "diagonal" range per segment (candidates are ordered by item within a segment and a
block covers consecutive items), so their scores are read from the same products that rank them,
and no score is computed twice. Only scores at or above a query's weakest relevant score can move
a rank, so each tile is reduced to those survivors before they are placed among the thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

CHUNK = 16  # columns per max-reduced chunk in the survivor filter


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
    query_bounds: np.ndarray,
    block_size: int,
    self_pos: np.ndarray | None = None,
) -> Counts:
    """Count, for each query's relevant slots `cols[query_item]`, the non-relevant candidates above.

    `bounds`: candidate segment offsets (L+1); `cols[item, l, k]`: candidate positions in segment l
    (-1: none); `query_bounds`: blocks never straddle these query offsets; `self_pos`: a candidate
    position per query to leave out of the pool (the query itself), -1 for none.
    """
    num_q, (_, num_l, num_k) = len(queries), cols.shape
    rows = max(8, block_size // (num_l * num_k))
    segment = np.full((num_q, num_l, num_k), -1, dtype=np.int64)
    pool = np.full((num_q, num_l, num_k), -1, dtype=np.int64)
    for lo, hi in zip(query_bounds[:-1], query_bounds[1:], strict=True):
        for start in range(int(lo), int(hi), rows):
            stop = min(start + rows, int(hi))
            rel = cols[query_item[start:stop]]
            excl = None if self_pos is None else self_pos[start:stop]
            if excl is not None:
                rel = np.where(rel == excl[:, None, None], -1, rel)
            seg_n, pool_n = _block(queries[start:stop], cands, bounds, rel, excl, block_size)
            segment[start:stop], pool[start:stop] = seg_n, pool_n
    return Counts(segment=segment, pool=pool)


def _block(
    q: torch.Tensor,
    cands: torch.Tensor,
    bounds: np.ndarray,
    rel: np.ndarray,
    excl: np.ndarray | None,
    block_size: int,
) -> tuple[np.ndarray, np.ndarray]:
    device = q.device
    b, num_l, num_k = rel.shape
    valid = rel >= 0
    thr = torch.full((b, num_l, num_k), torch.inf, device=device)
    diags = []
    for lang in range(num_l):
        seg_lo, seg_hi = int(bounds[lang]), int(bounds[lang + 1])
        marks = rel[:, lang][valid[:, lang]]
        if excl is not None:
            marks = np.r_[marks, excl[(excl >= seg_lo) & (excl < seg_hi)]]
        if marks.size == 0:
            diags.append((seg_lo, seg_lo, None))
            continue
        d_lo, d_hi = int(marks.min()), int(marks.max()) + 1
        tile = q @ cands[d_lo:d_hi].T
        r, k = np.nonzero(valid[:, lang])
        r_t, c_t = (
            torch.from_numpy(r).to(device),
            torch.from_numpy(rel[r, lang, k] - d_lo).to(device),
        )
        thr[r_t, lang, torch.from_numpy(k).to(device)] = tile[r_t, c_t]
        tile[r_t, c_t] = -torch.inf
        if excl is not None:
            own = np.flatnonzero((excl >= d_lo) & (excl < d_hi))
            tile[
                torch.from_numpy(own).to(device), torch.from_numpy(excl[own] - d_lo).to(device)
            ] = -torch.inf
        diags.append((d_lo, d_hi, tile))
    srt, order = thr.reshape(b, -1).sort(dim=1)
    slot_lang = torch.arange(num_l, device=device).repeat_interleave(num_k)[order]
    seg_counts = torch.zeros_like(srt, dtype=torch.int64)
    pool_counts = torch.zeros_like(seg_counts)
    for lang, (d_lo, d_hi, diag) in enumerate(diags):
        hist = torch.zeros((b, srt.shape[1] + 1), dtype=torch.int64, device=device)
        if diag is not None:
            _histogram(diag, srt, hist)
        seg_lo, seg_hi = int(bounds[lang]), int(bounds[lang + 1])
        for lo, hi in ((seg_lo, d_lo), (d_hi, seg_hi)):
            for start in range(lo, hi, block_size):
                _histogram(q @ cands[start : min(start + block_size, hi)].T, srt, hist)
        above = hist[:, 1:].flip(1).cumsum(1).flip(1)
        pool_counts += above
        seg_counts += above * (slot_lang == lang)
    seg_out = torch.empty_like(seg_counts).scatter_(1, order, seg_counts).reshape(b, num_l, num_k)
    pool_out = (
        torch.empty_like(pool_counts).scatter_(1, order, pool_counts).reshape(b, num_l, num_k)
    )
    seg_np, pool_np = seg_out.cpu().numpy(), pool_out.cpu().numpy()
    seg_np[~valid], pool_np[~valid] = -1, -1
    return seg_np, pool_np


def _histogram(tile: torch.Tensor, srt: torch.Tensor, hist: torch.Tensor) -> None:
    """Add to hist[row, p] the tile scores with exactly p of the row's sorted thresholds <= them."""
    rows, vals = _survivors(tile, srt[:, :1])
    if rows.numel() == 0:
        return
    places = torch.searchsorted(srt[rows], vals.unsqueeze(1), right=True).squeeze(1)
    hist.index_put_((rows, places), torch.ones_like(places), accumulate=True)


def _survivors(tile: torch.Tensor, floor: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows and values of the scores >= their row's floor.

    Chunk maxima come first: a max reduction is several times cheaper than a comparison that
    writes a mask, and most chunks hold no survivor.
    """
    b, n = tile.shape
    width = n // CHUNK
    cut = width * CHUNK
    tile = tile.contiguous()
    # Chunk g holds columns g, g + width, ...: its max is an elementwise max of CHUNK slices.
    chunks = tile.as_strided((b, CHUNK, width), (n, width, 1))
    r, g = (chunks.amax(1) >= floor).nonzero(as_tuple=True)
    sub = chunks[r, :, g]
    i, j = (sub >= floor[r]).nonzero(as_tuple=True)
    rest = tile[:, cut:]
    tr, tc = (rest >= floor).nonzero(as_tuple=True)
    return torch.cat([r[i], tr]), torch.cat([sub[i, j], rest[tr, tc]])
