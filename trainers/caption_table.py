"""Captions of a subset grouped by (item, language), for vectorised caption look-ups."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trainers.batch import CaptionIndex


@dataclass(frozen=True)
class CaptionTable:
    """Caption rows of subset items j = 0..n-1 in training languages l = 0..L-1, sorted by (j, l, idx).

    Memory is about 6 bytes per (item, language) plus 8 per caption, so a subset of a million
    items in 36 languages fits in a few hundred MB.
    """

    rows: np.ndarray  # int64 [C]: index rows sorted by (item, language, caption idx)
    item_start: np.ndarray  # int64 [n]: first position of item j in `rows`
    lang_start: np.ndarray  # int32 [n, L+1]: position of (j, l) relative to item_start[j]
    item_langs: np.ndarray  # int16 [n, L]: item j's languages first, in language order
    num_langs: np.ndarray  # int32 [n]: how many training languages item j has

    @classmethod
    def build(cls, index: CaptionIndex, items: np.ndarray, lang_ids: np.ndarray) -> CaptionTable:
        """Group the captions of `items` (corpus positions) in `lang_ids` (index language codes)."""
        n, num_l = len(items), len(lang_ids)
        subset_pos = np.full(index.num_items, -1, dtype=np.int64)
        subset_pos[items] = np.arange(n)
        lang_pos = np.full(len(index.languages), -1, dtype=np.int64)
        lang_pos[lang_ids] = np.arange(num_l)
        j, lang = subset_pos[index.item], lang_pos[index.lang]
        rows = np.flatnonzero((j >= 0) & (lang >= 0))
        order = np.lexsort((index.idx[rows], lang[rows], j[rows]))
        rows = rows[order]
        counts = np.bincount(j[rows] * num_l + lang[rows], minlength=n * num_l).reshape(n, num_l)
        lang_start = np.zeros((n, num_l + 1), dtype=np.int32)
        np.cumsum(counts, axis=1, out=lang_start[:, 1:])
        item_start = np.zeros(n, dtype=np.int64)
        np.cumsum(lang_start[:-1, -1], out=item_start[1:])
        has = counts > 0
        item_langs = np.argsort(~has, axis=1, kind="stable").astype(np.int16)
        return cls(rows, item_start, lang_start, item_langs, has.sum(axis=1).astype(np.int32))

    @property
    def has(self) -> np.ndarray:
        """bool [n, L]: item j has at least one caption in language l."""
        return np.diff(self.lang_start, axis=1) > 0

    def locate(self, j: np.ndarray, lang: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
        """(position in `rows` of the first caption, caption count) of items `j` in `lang`."""
        flat = self.lang_start.ravel()
        base = j * self.lang_start.shape[1] + lang
        before = flat[base]
        return self.item_start[j] + before, flat[base + 1] - before
