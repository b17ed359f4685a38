"""One epoch's shuffled item pool: take the first unused items of a group, in epoch order."""

from __future__ import annotations

import numpy as np


class EpochPool:
    """Items in a per-epoch order fixed by (seed, epoch); each item is taken once per epoch.

    `groups[j, g]` says whether item j may serve group g (a language, "has 2+ languages", ...);
    the pool is every item of some group. Each group keeps its members in epoch order and a
    pointer before which all of them are used, so taking k items costs O(k) amortised.
    """

    def __init__(self, groups: np.ndarray, seed: int) -> None:
        self.groups = np.ascontiguousarray(groups, dtype=bool)
        self.seed = seed
        self.members = np.flatnonzero(self.groups.any(axis=1))
        self.used = np.zeros(len(self.groups), dtype=bool)
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
        self.used[:] = False
        self.pointer = np.zeros(self.groups.shape[1], dtype=np.int64)
        self.remaining = self.groups.sum(axis=0)
        self.left = self.size
        self._lists: dict[int, np.ndarray] = {}

    def _list(self, g: int) -> np.ndarray:
        if g not in self._lists:
            self._lists[g] = self.order[self.groups[self.order, g]]
        return self._lists[g]

    def take(self, g: int, k: int) -> np.ndarray:
        """The first k unused members of group g in epoch order (the caller checks remaining[g])."""
        if k > self.remaining[g]:
            raise ValueError(f"group {g} has {self.remaining[g]} unused items, {k} requested")
        members, p = self._list(g), int(self.pointer[g])
        parts, need = [np.empty(0, dtype=np.int64)], k
        while need:
            # Size the window by the density of unused members left, so one pass usually suffices.
            density = self.remaining[g] / max(len(members) - p, 1)
            window = members[p : p + int(need / density * 1.25) + 16]
            free = np.flatnonzero(~self.used[window])[:need]
            parts.append(window[free])
            need -= len(free)
            p += int(free[-1]) + 1 if need == 0 else len(window)
        taken = np.concatenate(parts)
        self.pointer[g] = p
        self.used[taken] = True
        self.remaining -= self.groups[taken].sum(axis=0)
        self.left -= len(taken)
        return taken

    def state_dict(self) -> dict:
        """Epoch and used items; the order comes from the seed, and pointers only save scanning."""
        return {"epoch": self.epoch, "used": np.packbits(self.used)}

    def load_state_dict(self, state: dict) -> None:
        """Restore a state saved by `state_dict` on a pool of the same groups and seed."""
        self.start(int(state["epoch"]))
        self.used[:] = np.unpackbits(state["used"], count=len(self.used)).astype(bool)
        self.remaining = self.groups[~self.used].sum(axis=0)
        self.left = self.size - int(self.used.sum())
