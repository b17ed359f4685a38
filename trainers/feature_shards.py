"""Cached image features as shards: `part-<first item>.npy` [n, width] + `.items.npy` positions.

Any process may write a shard for any set of items (the Ray Data actor pool writes one per batch);
the reader maps every item position to its shard and row, and memory-maps the shards.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np

from trainers.errors import InputError

ITEMS_SUFFIX = ".items.npy"


def write_feature_shard(out_dir: str | Path, items: np.ndarray, features: np.ndarray) -> Path:
    """Write the features of item positions `items` (row i = item items[i]) as one shard."""
    items = np.asarray(items, dtype=np.int64)
    path = Path(out_dir) / f"part-{int(items.min()):010d}.npy"
    np.save(path.with_suffix(ITEMS_SUFFIX), items)
    np.save(path, np.ascontiguousarray(features, dtype=np.float32))
    return path


class FeatureShards:
    """Features [num_items, width] of a shard directory; `shards[items]` gathers rows.

    Pickles as its path (shards are opened on first use), so loader workers reopen it cheaply.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __getstate__(self) -> dict:
        return {"path": self.path}

    def __setstate__(self, state: dict) -> None:
        self.path = state["path"]

    @cached_property
    def _shards(self) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        """(memory-mapped shards, shard of each item, row of each item in its shard)."""
        names = sorted(p for p in self.path.glob("part-*.npy") if not p.name.endswith(ITEMS_SUFFIX))
        arrays = [np.load(p, mmap_mode="r") for p in names]
        items = [np.load(p.with_suffix(ITEMS_SUFFIX)) for p in names]
        total = sum(len(i) for i in items)
        shard = np.full(total, -1, dtype=np.int32)
        row = np.zeros(total, dtype=np.int64)
        for s, positions in enumerate(items):
            if len(positions) and (positions.max() >= total or (shard[positions] >= 0).any()):
                raise InputError(f"{self.path}: feature shards overlap; delete the directory")
            shard[positions], row[positions] = s, np.arange(len(positions))
        if not arrays or (shard < 0).any():
            raise InputError(f"{self.path}: feature shards are incomplete; delete the directory")
        return arrays, shard, row

    @property
    def shape(self) -> tuple[int, int]:
        """(num_items, width)."""
        arrays, shard, _ = self._shards
        return len(shard), arrays[0].shape[1]

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, items) -> np.ndarray:
        arrays, shard, row = self._shards
        items = np.arange(len(shard))[items] if isinstance(items, slice) else np.asarray(items)
        which, rows = shard[items], row[items]
        out = np.empty((len(items), arrays[0].shape[1]), dtype=np.float32)
        for s in np.unique(which):
            mask = which == s
            out[mask] = arrays[s][rows[mask]]
        return out
