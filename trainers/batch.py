"""The data contracts between corpus, samplers and the train loop: caption index, subsets, batches."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CaptionIndex:
    """Every caption row of a corpus as arrays (row r = row r of captions.parquet)."""

    item: np.ndarray  # int64 [R]: item position 0..num_items-1
    lang: np.ndarray  # int16 [R]: index into `languages`
    idx: np.ndarray  # int32 [R]: caption number within (item, lang)
    languages: tuple[str, ...]
    num_items: int


def subset_items(num_items: int, data_size: int, subset_seed: int) -> np.ndarray:
    """The first `data_size` items of one permutation fixed by `subset_seed` (nested in N)."""
    if not 0 < data_size <= num_items:
        raise ValueError(f"data size {data_size} must be in [1, {num_items}] (corpus items)")
    order = np.random.default_rng(subset_seed).permutation(num_items)
    return np.sort(order[:data_size]).astype(np.int64)


@dataclass
class PairBatch:
    """One rank's share of one global step: image-text and text-text pairs as caption rows."""

    step: int
    batch_type: str  # "mono" | "cross" | "clip"
    mono_lang: str | None  # the batch language of a mono batch, else None
    it_items: np.ndarray  # int64 [P]: item of each image-text pair
    it_rows: np.ndarray  # int64 [P]: caption row of each image-text pair
    tt_items: np.ndarray  # int64 [Q]: item of each text-text pair
    tt_rows_a: np.ndarray  # int64 [Q]: query caption row
    tt_rows_b: np.ndarray  # int64 [Q]: target caption row
