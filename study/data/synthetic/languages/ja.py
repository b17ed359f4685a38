"""Japanese (no spaces): verb-final, particles が/の/に/も, the place phrase before the verb."""

from __future__ import annotations

from study.data.synthetic.grammar import Grammar, Pick, Plan
from study.data.synthetic.world import Obj

SHAPE = {
    "circle": ("丸", "円"),
    "square": ("四角", "正方形"),
    "triangle": ("三角", "三角形"),
    "diamond": ("ひし形",),
    "cross": ("十字",),
    "ring": ("輪", "リング"),
}
COLOUR = {
    "red": ("赤い",),
    "green": ("緑の",),
    "blue": ("青い",),
    "yellow": ("黄色い",),
    "purple": ("紫の",),
    "orange": ("オレンジ色の",),
    "white": ("白い",),
    "black": ("黒い",),
}
SIZE = {"small": ("小さい", "小さな"), "large": ("大きい", "大きな")}
REL = {"left": "左", "right": "右", "above": "上", "below": "下"}
POS = {"left": "左", "right": "右", "top": "上", "bottom": "下", "middle": "真ん中"}
VERB = ("あります", "ある")


def np_(obj: Obj, pick: Pick) -> list[str]:
    """'大きい 赤い 丸' as tokens."""
    size = [pick(SIZE[obj.size])] if obj.size else []
    return [*size, pick(COLOUR[obj.colour]), pick(SHAPE[obj.shape])]


def describe(p: Plan, pick: Pick) -> list[str]:
    """Variant 0: 'XがYの左にあります'; variant 1: 'Xの右にYがあります' (place first)."""
    head, verb = np_(p.head, pick), pick(VERB)
    if p.dep is None:
        pos = POS[p.position]
        if p.variant == 0:
            return [*head, "が", pos, "に", verb]
        return [pos, "に", *head, "が", verb]
    place = [*np_(p.dep, pick), "の", REL[p.relation], "に"]
    if p.variant == 0:
        if p.extra:
            return [*head, "が", *place, "あり", "、", *np_(p.extra, pick), "も", verb]
        return [*head, "が", *place, verb]
    front = [*np_(p.extra, pick), "が", "あり", "、"] if p.extra else []
    return [*front, *place, *head, "が", verb]


GRAMMAR = Grammar("ja", "Han/Kana", describe, joiner="")
