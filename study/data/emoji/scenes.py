"""Scenes of 1-3 emoji: long-tailed objects in train, even objects and unseen combinations in eval.

Train objects follow a Zipf-like frequency (rank r of a seeded order has weight (r+1)^-zipf), so a
larger training subset covers more of the vocabulary, as in real data; eval scenes draw objects
evenly from those the full train set shows, in combinations that never occur in train (with one
object per scene, an eval scene is a new image of a seen object: its placement and size differ).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from study.data.emoji.settings import EmojiSettings
from study.errors import StudyError

# The corpus's independent random streams, so a change to one part leaves the others' draws alone.
VOCABULARY, RANKS, TRAIN, EVAL, BACKGROUND, WORDS = range(6)

# Glyph side as a share of the canvas, by number of objects in the scene.
GLYPH_SHARE = {1: (0.55, 0.8), 2: (0.38, 0.5), 3: (0.3, 0.4)}
CANDIDATES = 24  # positions drawn at once; the first that fit are kept


@dataclass(frozen=True)
class Scene:
    """Objects (vocabulary indices) left to right, each with its box (x, y, side) in pixels."""

    objects: tuple[int, ...]
    boxes: tuple[tuple[int, int, int], ...]

    def combination(self) -> frozenset[int]:
        """The scene's objects regardless of placement."""
        return frozenset(self.objects)


def zipf_weights(rng: np.random.Generator, k: int, zipf: float) -> np.ndarray:
    """Train frequency of each of `k` objects: (rank + 1)^-zipf over a seeded order, summing to 1."""
    rank = rng.permutation(k)
    weights = (rank + 1.0) ** -zipf
    return weights / weights.sum()


def layout(rng: np.random.Generator, n: int, size: int) -> list[tuple[int, int, int]]:
    """`n` non-overlapping square boxes with clearly distinct x centres, sorted left to right."""
    lo, hi = GLYPH_SHARE[n]
    for attempt in range(200):
        side = max(4, round(size * rng.uniform(lo, hi) * 0.97 ** (attempt // 20)))
        boxes: list[tuple[int, int, int]] = []
        for x, y in rng.integers(0, size - side + 1, (CANDIDATES, 2)).tolist():
            if all(
                (abs(x - bx) > side or abs(y - by) > side) and abs(x - bx) >= side // 2
                for bx, by, _ in boxes
            ):
                boxes.append((x, y, side))
                if len(boxes) == n:
                    return sorted(boxes)
    raise StudyError(f"cannot place {n} glyphs on a {size}-pixel canvas; raise --image-size")


def _count(rng: np.random.Generator, low: int, high: int) -> int:
    return int(rng.integers(low, high + 1))


def train_scenes(
    rng: np.random.Generator, weights: np.ndarray, count: int, per_scene: int, size: int
) -> list[Scene]:
    """`count` train scenes of 1..per_scene distinct objects drawn by `weights`."""
    scenes = []
    for _ in range(count):
        n = _count(rng, 1, per_scene)
        objects = rng.choice(len(weights), size=n, replace=False, p=weights)
        boxes = layout(rng, n, size)
        scenes.append(Scene(tuple(int(o) for o in rng.permutation(objects)), tuple(boxes)))
    return scenes


class _EvenDeck:
    """Objects dealt from repeated shuffles, so every object is dealt equally often (±1)."""

    def __init__(self, rng: np.random.Generator, objects: np.ndarray) -> None:
        self.rng, self.objects, self.cards = rng, objects, []

    def deal(self, n: int) -> list[int]:
        hand: list[int] = []
        while len(hand) < n:
            if not self.cards:
                self.cards = [int(o) for o in self.rng.permutation(self.objects)]
            card = next((c for c in self.cards if c not in hand), None)
            if card is None:  # the shuffle's remainder repeats the hand: start the next one
                self.cards = []
                continue
            self.cards.remove(card)
            hand.append(card)
        return hand

    def put_back(self, hand: list[int]) -> None:
        self.cards = hand + self.cards
        self.rng.shuffle(self.cards)

    def extend(self) -> None:
        """Add the next shuffle: a short remainder may only form combinations already taken."""
        self.cards += [int(o) for o in self.rng.permutation(self.objects)]


def eval_scenes(
    rng: np.random.Generator, train: list[Scene], count: int, per_scene: int, size: int
) -> list[Scene]:
    """`count` eval scenes over the objects train shows, evenly, in combinations train lacks."""
    seen = np.unique(np.concatenate([s.objects for s in train]))
    low = min(2, per_scene)
    if len(seen) < low:
        raise StudyError("the train scenes show too few objects; raise --scenes or --objects")
    taken = {s.combination() for s in train} if per_scene > 1 else set()
    deck, scenes = _EvenDeck(rng, seen), []
    for _ in range(count):
        first = min(_count(rng, low, per_scene), len(seen))
        hand = None
        for n in (first, *(m for m in range(per_scene, low - 1, -1) if m != first)):
            hand = _unseen_hand(deck, min(n, len(seen)), taken)
            if hand is not None:
                break
        if hand is None:
            raise StudyError(
                f"found no object combination unseen in train for eval scene {len(scenes) + 1}; "
                "lower --eval-scenes or raise --objects"
            )
        if per_scene > 1:
            taken.add(frozenset(hand))
        scenes.append(Scene(tuple(hand), tuple(layout(rng, len(hand), size))))
    return scenes


def _unseen_hand(deck: _EvenDeck, n: int, taken: set[frozenset[int]]) -> list[int] | None:
    """`n` objects from the deck whose combination is not taken, or None after many tries."""
    for attempt in range(1, 301):
        hand = deck.deal(n)
        if frozenset(hand) not in taken:
            return hand
        deck.put_back(hand)
        if attempt % 10 == 0:
            deck.extend()
    return None


def draw_scenes(settings: EmojiSettings) -> tuple[np.ndarray, list[Scene], list[Scene]]:
    """Train weights, train scenes and eval scenes of a corpus with these settings (no images)."""
    k, per, size = settings.objects, settings.per_scene, settings.image_size
    weights = zipf_weights(np.random.default_rng([settings.seed, RANKS]), k, settings.zipf)
    train_rng = np.random.default_rng([settings.seed, TRAIN])
    train = train_scenes(train_rng, weights, settings.scenes, per, size)
    eval_rng = np.random.default_rng([settings.seed, EVAL])
    return weights, train, eval_scenes(eval_rng, train, settings.eval_scenes, per, size)
