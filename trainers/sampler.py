"""Hybrid-batch (mono / cross) and CLIP pair samplers over a subset, identical on every rank.

Scheme. Every rank runs the same deterministic simulation of the *global* batch and keeps its
slice, so ranks agree without communicating:

1. Epoch e visits the arm's pool (the subset's items that can form a pair in the arm) in a
   permutation fixed by (seed, e); each item is taken exactly once per epoch.
2. Step s draws from an RNG seeded by (seed, s): the batch type (mono with probability alpha,
   else cross) and the mono language (uniform over the languages the subset has, or
   proportional / temperature sampling, see `trainers.language_sampling`).
3. The step takes the first k = min(batch_size, items left) unused items, in epoch order, among
   those that fit the batch: items that have the language (mono), items with 2+ languages
   (cross), any pool item (clip, clip-en). Fallback, deterministic: when too few fitting items
   are left, the step becomes a mono batch in the language with the most unused items (ties: the
   first language) and takes up to k of them. Items lacking a language therefore wait for a
   later batch rather than being paired in it, and an epoch has ceil(pool / batch_size) steps
   unless coverage is so uneven that no language can fill a batch (then a few short steps more).
4. The same step RNG draws each pair's languages and captions for all k items, then rank r keeps
   items [r*k // W, (r+1)*k // W): the global batch does not depend on the world size, so a
   state saved with one world size resumes with another.

Pairs: mono in l: image-text with caption c1 in l; text-text (c1, c2), c2 != c1, both in l, only
for items with 2+ captions in l. Cross: ordered (a, b), a != b, uniform over the item's
languages; image-text with caption ca in a; text-text (ca, cb). clip: image-text only, in the
step's language if it has one, else uniform over the item's languages. Which of these an arm
draws, and from which items, is its sampler rule (`trainers.sampler_rules`): hybrid (mono with
probability alpha, else cross; alpha 0 keeps only items with 2+ languages in the pool), clip
(mixed languages), clip-en (English only; items without English are not in the pool).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from trainers.arms import get_arm
from trainers.batch import CaptionIndex, PairBatch
from trainers.caption_table import CaptionTable
from trainers.epoch_pool import EpochPool
from trainers.errors import InputError
from trainers.language_sampling import language_probabilities
from trainers.sampler_rules import Step, get_rule

STATE_VERSION = 1


def _language_ids(index: CaptionIndex, languages: Sequence[str] | None) -> np.ndarray:
    """Index codes of the training languages (all of the corpus when None)."""
    if languages is None:
        return np.arange(len(index.languages))
    known = {code: i for i, code in enumerate(index.languages)}
    unknown = [code for code in languages if code not in known]
    if unknown:
        raise InputError(
            f"data.languages: unknown language '{unknown[0]}'; the corpus has "
            f"{', '.join(index.languages)}"
        )
    return np.array([known[code] for code in dict.fromkeys(languages)], dtype=np.int64)


class PairSampler:
    """This rank's share of each global step's pairs for one arm, with exact save and resume."""

    def __init__(
        self,
        index: CaptionIndex,
        items: np.ndarray,
        *,
        arm: str,
        alpha: float | None,
        batch_size: int,
        rank: int = 0,
        world_size: int = 1,
        seed: int = 0,
        languages: Sequence[str] | None = None,
        language_sampling: str = "uniform",
        language_temperature: float = 0.3,
    ) -> None:
        spec = get_arm(arm)
        if not spec.trains:
            raise InputError(f"arm '{arm}' does not train: it has no pair sampler")
        if spec.sweeps_alpha and not (alpha is not None and 0.0 <= alpha <= 1.0):
            raise InputError(f"alpha {alpha} is outside [0, 1]; use a value between 0 and 1")
        if not 0 <= rank < world_size or batch_size < 1 or batch_size % world_size:
            raise InputError(
                f"batch size {batch_size} must be a positive multiple of the world size "
                f"{world_size}, and rank {rank} below it"
            )
        # Arms without a mix ratio ignore alpha (their trial parameters carry None).
        self.arm, self.batch_size = arm, int(batch_size)
        self.alpha = float(alpha) if spec.sweeps_alpha else 0.0
        self.rank, self.world_size, self.seed = rank, world_size, int(seed)
        self.items = np.asarray(items, dtype=np.int64)
        lang_ids = _language_ids(index, languages)
        self.languages = tuple(index.languages[i] for i in lang_ids)
        self.table = CaptionTable.build(index, self.items, lang_ids)
        self.arm_language = None
        if spec.language is not None:
            if spec.language not in self.languages:
                raise InputError(
                    f"arm '{arm}' needs '{spec.language}' among the training languages"
                )
            self.arm_language = self.languages.index(spec.language)
        # Group columns: one per language (mono), then "2+ languages" (cross), then "any" (clip).
        self.multi_group, self.any_group = len(self.languages), len(self.languages) + 1
        self.rule = get_rule(spec.sampler)
        pool = self.rule.pool(self)
        if not pool.any():
            raise InputError(
                f"no item of the subset ({len(self.items)} items) can form a pair for arm "
                f"'{arm}' in languages {', '.join(self.languages)}; check data.languages"
            )
        has, num_langs = self.table.has, self.table.num_langs
        groups = np.column_stack([has, num_langs >= 2, np.ones(len(has), dtype=bool)])
        self.pool = EpochPool(groups & pool[:, None], self.seed)
        probs = language_probabilities(
            self.pool.groups[:, : self.multi_group].sum(axis=0),
            language_sampling,
            language_temperature,
        )
        self._lang_cdf = np.cumsum(probs)
        self.step = 0

    @property
    def steps_per_epoch(self) -> int:
        """Global steps of one pass over the pool (see the module docstring for uneven coverage)."""
        return -(-self.pool.size // self.batch_size)

    @property
    def epoch(self) -> int:
        """The epoch the last batch came from."""
        return self.pool.epoch

    def _draw(self) -> tuple[Step, np.ndarray, np.random.Generator]:
        """The next global step: what it is, the subset items it takes, and its RNG."""
        if self.pool.left == 0:
            self.pool.start(self.pool.epoch + 1)
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(0, self.step)))
        u_type, u_lang = rng.random(2)
        k = min(self.batch_size, self.pool.left)
        lang = min(int(np.searchsorted(self._lang_cdf, u_lang, side="right")), self.multi_group - 1)
        step = self.rule.step(self, u_type, lang)
        if self.pool.remaining[step.group] < k:
            lang = int(np.argmax(self.pool.remaining[: self.multi_group]))
            step = Step("clip" if step.kind == "clip" else "mono", lang, lang)
            k = min(k, int(self.pool.remaining[lang]))
        self.step += 1
        return step, self.pool.take(step.group, k), rng

    def next_batch(self) -> PairBatch:
        """This rank's share of the next global step."""
        step, chosen, rng = self._draw()
        k = len(chosen)
        draws = rng.random((k, 4))
        lo, hi = self.rank * k // self.world_size, (self.rank + 1) * k // self.world_size
        return self._pairs(step, chosen[lo:hi], draws[lo:hi])

    def steps_for_samples(self, samples: int) -> int:
        """Global steps until `samples` pairs are drawn from the start (the last may overshoot).

        Runs the deterministic schedule without building pairs, so it counts the short last
        batch of every epoch (and any fallback step) exactly; the sampler's state is kept.
        """
        state = self.state_dict()
        self.pool.start(0)
        self.step = seen = 0
        while seen < samples:
            seen += len(self._draw()[1])
        steps = self.step
        self.load_state_dict(state)
        return steps

    def _pairs(self, step: Step, j: np.ndarray, u: np.ndarray) -> PairBatch:
        """Pairs of subset items `j` for one step, from uniforms u [len(j), 4]."""
        rows, kind, lang = self.table.rows, step.kind, step.lang
        mono_lang = None
        if kind == "mono":
            first, count = self.table.locate(j, lang)
            c1 = (u[:, 0] * count).astype(np.int64)
            it_rows = rows[first + c1]
            two = count >= 2
            c2 = (u[two, 1] * (count[two] - 1)).astype(np.int64)
            c2 += c2 >= c1[two]
            tt_items, tt_a, tt_b = j[two], it_rows[two], rows[first[two] + c2]
            mono_lang = self.languages[lang]
        elif kind == "cross":
            n = self.table.num_langs[j]
            ra = (u[:, 0] * n).astype(np.int64)
            rb = (u[:, 1] * (n - 1)).astype(np.int64)
            rb += rb >= ra
            first_a, count_a = self.table.locate(j, self.table.item_langs[j, ra])
            first_b, count_b = self.table.locate(j, self.table.item_langs[j, rb])
            it_rows = rows[first_a + (u[:, 2] * count_a).astype(np.int64)]
            tt_b = rows[first_b + (u[:, 3] * count_b).astype(np.int64)]
            tt_items, tt_a = j, it_rows
        else:
            if lang is not None:
                a = lang
            else:
                a = self.table.item_langs[j, (u[:, 0] * self.table.num_langs[j]).astype(np.int64)]
            first, count = self.table.locate(j, a)
            it_rows = rows[first + (u[:, 1] * count).astype(np.int64)]
            tt_items = tt_a = tt_b = np.empty(0, dtype=np.int64)
        return PairBatch(
            step=self.step - 1,
            batch_type=kind,
            mono_lang=mono_lang,
            it_items=self.items[j],
            it_rows=it_rows,
            tt_items=self.items[tt_items],
            tt_rows_a=tt_a,
            tt_rows_b=tt_b,
        )

    def _fingerprint(self) -> dict:
        """What a saved state must match to resume (the world size and rank may differ)."""
        return {
            "arm": self.arm,
            "alpha": self.alpha,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "languages": list(self.languages),
            "items_crc": zlib.crc32(self.items.tobytes()),
            "lang_cdf": self._lang_cdf.tolist(),
        }

    def state_dict(self) -> dict:
        """Plain, picklable state: step, epoch and the items used so far in it."""
        return {
            "version": STATE_VERSION,
            "step": self.step,
            "pool": self.pool.state_dict(),
            "fingerprint": self._fingerprint(),
        }

    def load_state_dict(self, state: dict) -> None:
        """Resume exactly where `state_dict` was taken (same arm, alpha, batch, seed and subset)."""
        if state.get("version") != STATE_VERSION or state.get("fingerprint") != self._fingerprint():
            raise InputError(
                "sampler checkpoint does not match this run (arm, alpha, batch size, seed, "
                "languages or subset differ); resume with the settings it was saved with"
            )
        self.pool.load_state_dict(state["pool"])
        self.step = int(state["step"])
