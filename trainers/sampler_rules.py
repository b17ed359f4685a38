"""Sampler rules: how an arm fills a global step of `trainers.sampler.PairSampler`.

A rule says which items of the subset the arm may use (its pool) and what each step is, given
the step's uniform draw `u_type` and its drawn language. A step is a batch kind and the item
group it takes its items from (see `PairSampler`: one group per training language, then "2+
languages", then "any"):
- `mono`: image-text and text-text pairs all in one language (the group's);
- `cross`: per pair an ordered language pair (a, b), a != b (group "2+ languages");
- `clip`: image-text pairs only, captions in `lang` when given, else each pair's language
  uniform over its item's languages.
An arm names its rule in `trainers.arms` (`Arm.sampler`); a new rule is one `register_rule`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from trainers.sampler import PairSampler


@dataclass(frozen=True)
class Step:
    """What one global step draws: its batch kind, its item group and its language (if one)."""

    kind: str  # "mono" | "cross" | "clip"
    group: int
    lang: int | None  # index into PairSampler.languages


@dataclass(frozen=True)
class SamplerRule:
    """An arm's pool of items and its choice of step."""

    pool: Callable[[PairSampler], np.ndarray]  # bool [subset items]: items the arm may use
    step: Callable[[PairSampler, float, int], Step]  # (sampler, u_type, drawn language)


_RULES: dict[str, SamplerRule] = {}


def register_rule(name: str, rule: SamplerRule) -> SamplerRule:
    """Add (or replace) the sampler rule called `name`."""
    _RULES[name] = rule
    return rule


def get_rule(name: str) -> SamplerRule:
    """The rule called `name`; a KeyError names the known ones."""
    if name not in _RULES:
        raise KeyError(f"no sampler rule '{name}'; rules are {', '.join(_RULES)}")
    return _RULES[name]


def _hybrid_step(s: PairSampler, u_type: float, lang: int) -> Step:
    if u_type < s.alpha:
        return Step("mono", lang, lang)
    return Step("cross", s.multi_group, None)


register_rule(
    "hybrid",
    SamplerRule(
        # Alpha 0 never draws a mono batch: items with one language could never be paired.
        pool=lambda s: s.table.num_langs >= (2 if s.alpha == 0.0 else 1),
        step=_hybrid_step,
    ),
)
register_rule(
    "mixed-language",
    SamplerRule(
        pool=lambda s: s.table.num_langs >= 1,
        step=lambda s, u_type, lang: Step("clip", s.any_group, None),
    ),
)
register_rule(
    "one-language",
    SamplerRule(
        pool=lambda s: s.table.has[:, s.arm_language],
        step=lambda s, u_type, lang: Step("clip", s.any_group, s.arm_language),
    ),
)
