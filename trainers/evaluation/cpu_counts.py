"""The CPU counting of a block: the product in cache-sized tiles, each scanned by the numba
kernels (kernel.py) while still in cache, then the counts over the survivors."""

from __future__ import annotations

import numpy as np
import torch

from trainers.evaluation.kernel import count_rows, scan_tile, weakest_scores
from trainers.evaluation.simd import LANES

TILE = 2**18  # scores per product tile (1 MiB): scanned while still in the core's L2
TILE_ROWS = 512  # query rows per block at most: square-ish tiles read the fewest candidates


class TiledCounter:
    """One thread's counting of blocks of at most `rows` query rows against fixed candidates."""

    def __init__(self, cands: torch.Tensor, bounds: np.ndarray, num_k: int, rows: int) -> None:
        self.cands, self.bounds, self.num_k = cands, bounds, num_k
        self.cand_norm = float(cands.norm(dim=1).max())
        self.width = max(LANES, TILE // rows)  # candidate columns per tile
        self.tile = torch.empty(rows * self.width)
        # Every candidate may survive; only the pages the survivors fill are touched.
        self.surv = np.empty((rows, len(cands) + LANES), dtype=np.float32)
        self.fill = np.empty(rows, dtype=np.int64)
        self.cursor = np.empty(rows, dtype=np.int64)
        self.seg_end = np.empty((rows, len(bounds) - 1), dtype=np.int64)

    def count(
        self, q: torch.Tensor, rel: np.ndarray, excl: np.ndarray, out: tuple[np.ndarray, ...]
    ) -> None:
        """Fill out = (segment, pool) [rows, J] for queries q, relevant slots rel, excluded excl.

        If a floor turns out above its row's weakest exact threshold (a product rounding worse
        than float32's bound, e.g. a reduced-precision matmul mode), the block is redone keeping
        every score.
        """
        floor = floors(q, self.cands, rel, self.cand_norm)
        while not self._scan_and_count(q, rel, excl, floor, out):
            floor = np.full_like(floor, np.finfo(np.float32).min)

    def _scan_and_count(
        self,
        q: torch.Tensor,
        rel: np.ndarray,
        excl: np.ndarray,
        floor: np.ndarray,
        out: tuple[np.ndarray, ...],
    ) -> bool:
        rows, n = len(q), len(self.cands)
        thr = np.empty(rel.shape, dtype=np.float32)
        order = np.argsort(np.where(rel < 0, n, rel), axis=1, kind="stable")
        fill, cursor, seg_end = self.fill[:rows], self.cursor[:rows], self.seg_end[:rows]
        fill[:], cursor[:], seg_end[:] = 0, 0, 0
        survivors = (self.surv, fill, seg_end)
        for start in range(0, n, self.width):
            stop = min(start + self.width, n)
            tile = self.tile[: rows * (stop - start)].view(rows, stop - start)
            torch.mm(q, self.cands[start:stop].T, out=tile)
            scan_tile(
                tile.numpy(), start, rel, order, cursor, excl, floor, self.bounds, thr, *survivors
            )
        return count_rows(thr, rel, floor, self.surv, seg_end, self.num_k, *out)


def floors(q: torch.Tensor, cands: torch.Tensor, rel: np.ndarray, cand_norm: float) -> np.ndarray:
    """Per row, a bound under its weakest relevant score as the product computes it: that score
    computed apart, less twice float32's rounding bound for a dot product of this length
    (+inf for a row without relevant candidates)."""
    margin = 2 * q.shape[1] * np.finfo(np.float32).eps * cand_norm * q.norm(dim=1).numpy()
    return (weakest_scores(q.numpy(), cands.numpy(), rel) - margin).astype(np.float32)
