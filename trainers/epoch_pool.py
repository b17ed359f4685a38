"""One epoch's shuffled item pool: take the first unused items of a group, in epoch order."""

from __future__ import annotations

import numpy as np


class EpochPool:
    """Items in a per-epoch order fixed by (seed, epoch); each item is taken once per epoch.

    `groups[j, g]` says whether item j may serve group g (a language, "has 2+ languages", ...);
    the pool is every item of some group. Work happens on epoch positions q (item `order[q]`):
    each group lists its members' positions, keeps a pointer before which all are used, and
    jumps to the frontier (the first unused position overall), since every group takes from the
    front; taking k items then scans little more than k positions.
    """

    def __init__(self, groups: np.ndarray, seed: int) -> None:
        self.groups = np.ascontiguousarray(groups, dtype=bool)
        self._by_group = np.ascontiguousarray(self.groups.T)  # fast per-group gathers
        self.seed = seed
        self.members = np.flatnonzero(self.groups.any(axis=1))
        self.start(0)

    @property
    def size(self) -> int:
        """Items in the pool (taken once per epoch)."""
        return len(self.members)

    def start(self, epoch: int) -> None:
        """Begin `epoch` with a fresh permutation from (seed, epoch) and nothing used."""
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(1, epoch)))
        self.epoch = epoch
        self.order = self.members[rng.permutation(self.size)]
        self.used = np.zeros(self.size, dtype=bool)
        self.frontier = 0
        self.pointer = np.zeros(self.groups.shape[1], dtype=np.int64)
        self.remaining = self.groups.sum(axis=0)
        self.left = self.size
        self._lists: dict[int, np.ndarray] = {}

    def _list(self, g: int) -> np.ndarray:
        if g not in self._lists:
            self._lists[g] = np.flatnonzero(self._by_group[g][self.order])
        return self._lists[g]

    def take(self, g: int, k: int) -> np.ndarray:
        """The first k unused members of group g in epoch order (the caller checks remaining[g])."""
        if k > self.remaining[g]:
            raise ValueError(f"group {g} has {self.remaining[g]} unused items, {k} requested")
        positions = self._list(g)
        p = max(int(self.pointer[g]), int(np.searchsorted(positions, self.frontier)))
        parts, need = [np.empty(0, dtype=np.int64)], k
        # Start from the average density of unused members; double when that falls short.
        width = int(k * (len(positions) - p) / self.remaining[g] * 1.25) + 16
        while need:
            window = positions[p : p + width]
            free = np.flatnonzero(~self.used[window])[:need]
            parts.append(window[free])
            need -= len(free)
            p += int(free[-1]) + 1 if need == 0 else len(window)
            width *= 2
        q = np.concatenate(parts)
        self.pointer[g] = p
        self.used[q] = True
        self._advance_frontier()
        taken = self.order[q]
        self.remaining -= self.groups[taken].sum(axis=0)
        self.left -= len(taken)
        return taken

    def _advance_frontier(self) -> None:
        while self.frontier < self.size and self.used[self.frontier]:
            chunk = self.used[self.frontier : self.frontier + 4096]
            free = np.flatnonzero(~chunk)
            self.frontier += int(free[0]) if len(free) else len(chunk)

    def state_dict(self) -> dict:
        """Epoch and used positions; the order comes from the seed, pointers only save scanning."""
        return {"epoch": self.epoch, "used": np.packbits(self.used)}

    def load_state_dict(self, state: dict) -> None:
        """Restore a state saved by `state_dict` on a pool of the same groups and seed."""
        self.start(int(state["epoch"]))
        self.used[:] = np.unpackbits(state["used"], count=self.size).astype(bool)
        self._advance_frontier()
        self.remaining = self.groups[self.order[~self.used]].sum(axis=0)
        self.left = self.size - int(self.used.sum())
