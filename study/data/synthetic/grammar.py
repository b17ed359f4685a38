"""What a caption says (a plan) and how a language grammar turns it into tokens and text."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from study.data.synthetic.world import CONVERSE, Obj, Scene

Pick = Callable[[Sequence[Any]], Any]  # one of several synonyms, drawn from the caption's RNG


@dataclass(frozen=True)
class Plan:
    """One caption's content in the order it is told: `head` is `relation` of `dep`."""

    variant: int  # 0 or 1: the two paraphrases of an item use different templates
    head: Obj
    dep: Obj | None = None
    relation: str | None = None
    position: str | None = None
    extra: Obj | None = None  # a third object, mentioned beside the related pair


def plan(scene: Scene, variant: int) -> Plan:
    """Variant 0 tells the scene as stored; variant 1 swaps the pair and uses the converse."""
    objs = scene.objects
    if len(objs) == 1:
        return Plan(variant, objs[0], position=scene.position)
    extra = objs[2] if len(objs) > 2 else None
    if variant == 0:
        return Plan(variant, objs[0], objs[1], scene.relation, extra=extra)
    return Plan(variant, objs[1], objs[0], CONVERSE[scene.relation], extra=extra)


def words(*parts: str | Sequence[str]) -> list[str]:
    """Flatten strings (split on spaces) and token lists into one token list."""
    out: list[str] = []
    for part in parts:
        for p in [part] if isinstance(part, str) else part:
            out.extend(p.split())
    return out


@dataclass(frozen=True)
class Grammar:
    """A language: its code, script and the function that realises a plan as tokens."""

    code: str
    script: str
    describe: Callable[[Plan, Pick], list[str]]
    joiner: str = " "  # "" for scripts written without spaces

    def caption(self, scene: Scene, variant: int, rng: np.random.Generator) -> tuple[str, str]:
        """(caption text, space-separated tokens) of one paraphrase of `scene`."""
        tokens = self.describe(plan(scene, variant), lambda opts: opts[rng.integers(len(opts))])
        text = self.joiner.join(tokens).replace(" ,", ",").replace(" ،", "،")
        return text[:1].upper() + text[1:], " ".join(tokens)
