"""The synthetic world: objects, scenes, the difficulty knobs and the train/eval split of scenes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from study.errors import StudyError

SHAPES = ("circle", "square", "triangle", "diamond", "cross", "ring")
COLOURS = ("red", "green", "blue", "yellow", "purple", "orange", "white", "black")
SIZES = ("small", "large")
RELATIONS = ("left", "right", "above", "below")  # objects[0] is <relation> of objects[1]
CONVERSE = {"left": "right", "right": "left", "above": "below", "below": "above"}
POSITIONS = ("left", "right", "top", "bottom", "middle")  # where a lone object sits


@dataclass(frozen=True)
class World:
    """The difficulty knobs of the embedded corpus.

    Captions name every object's shape, colour and size plus one relation (two or more objects)
    or the position (one object), so retrieval needs binding attributes to objects: a single word
    never identifies a scene. Fewer shapes/colours/sizes make more eval scenes look alike (harder
    to tell apart); more objects make captions longer and binding harder; `noise` blurs the images.
    """

    shapes: int = len(SHAPES)  # first k of SHAPES
    colours: int = len(COLOURS)  # first k of COLOURS
    sizes: int = len(SIZES)  # 1: every object the same size, no size words
    min_objects: int = 1
    max_objects: int = 3
    noise: float = 6.0  # std of per-pixel Gaussian noise (0-255 scale)
    image_size: int = 32
    low_resource_share: float = 0.3  # share of training items captioned in LOW_RESOURCE
    eval_share: float = 0.2  # share of the scene space reserved for the eval split

    def __post_init__(self) -> None:
        checks = {
            "shapes": 2 <= self.shapes <= len(SHAPES),
            "colours": 2 <= self.colours <= len(COLOURS),
            "sizes": 1 <= self.sizes <= len(SIZES),
            "objects": 1 <= self.min_objects <= self.max_objects <= 3,
            "noise": self.noise >= 0,
            "image_size": self.image_size >= 16,
            "low_resource_share": 0 < self.low_resource_share <= 1,
            "eval_share": 0 < self.eval_share < 1,
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise StudyError(f"World: '{bad[0]}' out of range ({self})")

    def tag(self) -> str:
        """A short stable id of the non-default knobs ('' for the default world)."""
        if self == World():
            return ""
        return hashlib.blake2b(repr(self).encode(), digest_size=4).hexdigest()


@dataclass(frozen=True)
class Obj:
    """One object of a scene."""

    shape: str
    colour: str
    size: str | None  # None when the world has one size


@dataclass(frozen=True)
class Scene:
    """What an image shows: 1-3 objects, and a relation (2+ objects) or a position (1 object)."""

    objects: tuple[Obj, ...]
    relation: str | None = None
    position: str | None = None

    def key(self) -> str:
        """The scene's content up to paraphrase ('A left of B' is 'B right of A')."""
        objs, rel = list(self.objects), self.relation
        if rel in ("right", "below"):
            objs[0], objs[1], rel = objs[1], objs[0], CONVERSE[rel]
        names = [f"{o.size or '-'}.{o.colour}.{o.shape}" for o in objs]
        return "|".join([*names, rel or self.position or ""])


def in_eval_pool(scene: Scene, world: World) -> bool:
    """Whether a scene belongs to the eval part of the scene space (a fixed hash split)."""
    digest = hashlib.blake2b(scene.key().encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < world.eval_share


def sample_scene(rng: np.random.Generator, world: World) -> Scene:
    """A random scene of `world` (objects differ in shape or colour)."""
    n = int(rng.integers(world.min_objects, world.max_objects + 1))
    objects: list[Obj] = []
    while len(objects) < n:
        size = SIZES[rng.integers(world.sizes)] if world.sizes > 1 else None
        obj = Obj(SHAPES[rng.integers(world.shapes)], COLOURS[rng.integers(world.colours)], size)
        if all((o.shape, o.colour) != (obj.shape, obj.colour) for o in objects):
            objects.append(obj)
    if n == 1:
        return Scene(tuple(objects), position=POSITIONS[rng.integers(len(POSITIONS))])
    return Scene(tuple(objects), relation=RELATIONS[rng.integers(len(RELATIONS))])


def scene_stream(rng: np.random.Generator, world: World, eval_split: bool) -> Iterator[Scene]:
    """Endless scenes from the train or eval part of the scene space; eval scenes are distinct."""
    seen: set[str] = set()
    misses = 0
    while True:
        scene = sample_scene(rng, world)
        key = scene.key()
        if in_eval_pool(scene, world) != eval_split or (eval_split and key in seen):
            misses += 1
            if misses > 100_000:
                raise StudyError(
                    f"the synthetic world has only {len(seen)} distinct eval scenes; lower the "
                    "number of eval items or enlarge the world"
                )
            continue
        misses = 0
        seen.add(key)
        yield scene
