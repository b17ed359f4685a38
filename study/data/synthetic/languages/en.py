"""English: adjectives before the noun, a/an, prepositional relations, 'there is' frames."""

from __future__ import annotations

from study.data.synthetic.grammar import Grammar, Pick, Plan, words
from study.data.synthetic.world import Obj

SHAPE = {
    "circle": ("circle",),
    "square": ("square",),
    "triangle": ("triangle",),
    "diamond": ("diamond", "rhombus"),
    "cross": ("cross",),
    "ring": ("ring",),
}
COLOUR = {c: (c,) for c in ("red", "green", "blue", "yellow", "orange", "white", "black")}
COLOUR["purple"] = ("purple", "violet")
SIZE = {"small": ("small", "little"), "large": ("large", "big")}
REL = {
    "left": ("to the left of",),
    "right": ("to the right of",),
    "above": ("above", "over"),
    "below": ("below", "under"),
}
POS = {
    "left": ("on the left",),
    "right": ("on the right",),
    "top": ("at the top",),
    "bottom": ("at the bottom",),
    "middle": ("in the middle", "in the centre"),
}


def np_(obj: Obj, pick: Pick) -> list[str]:
    """'a big red circle'."""
    body = words(
        pick(SIZE[obj.size]) if obj.size else [], pick(COLOUR[obj.colour]), pick(SHAPE[obj.shape])
    )
    return ["an" if body[0][0] in "aeiou" else "a", *body]


def describe(p: Plan, pick: Pick) -> list[str]:
    """Variant 0: 'X to the left of Y (and Z)'; variant 1: 'there is (Z and) Y to the right of X'."""
    head = np_(p.head, pick)
    if p.dep is None:
        pos = words(pick(POS[p.position]))
        if p.variant == 0:
            return words(pick(["", "a picture of"]), head, pos)
        return words(pos, "there is", head)
    pair = words(head, pick(REL[p.relation]), np_(p.dep, pick))
    if p.variant == 0:
        tail = words("and", np_(p.extra, pick)) if p.extra else []
        return words(pick(["", "a picture of"]), pair, tail)
    front = words(np_(p.extra, pick), "and") if p.extra else []
    return words("there is", front, pair)


GRAMMAR = Grammar("en", "Latin", describe)
