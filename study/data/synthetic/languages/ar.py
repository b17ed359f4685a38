"""Arabic (right to left): adjectives after the noun agree in gender; verb agrees; 'و' is a prefix."""

from __future__ import annotations

from study.data.synthetic.grammar import Grammar, Pick, Plan, words
from study.data.synthetic.world import Obj

SHAPE = {
    "circle": (("دائرة", "f"),),
    "square": (("مربع", "m"),),
    "triangle": (("مثلث", "m"),),
    "diamond": (("معين", "m"),),
    "cross": (("صليب", "m"),),
    "ring": (("حلقة", "f"),),
}
COLOUR = {  # (masculine, feminine)
    "red": ("أحمر", "حمراء"),
    "green": ("أخضر", "خضراء"),
    "blue": ("أزرق", "زرقاء"),
    "yellow": ("أصفر", "صفراء"),
    "purple": ("بنفسجي", "بنفسجية"),
    "orange": ("برتقالي", "برتقالية"),
    "white": ("أبيض", "بيضاء"),
    "black": ("أسود", "سوداء"),
}
SIZE = {"small": ("صغير", "صغيرة"), "large": ("كبير", "كبيرة")}
EXIST = {"m": "يوجد", "f": "توجد"}  # 'there is', agreeing with its subject
REL = {
    "left": ("على يسار", "إلى يسار"),
    "right": ("على يمين", "إلى يمين"),
    "above": ("فوق",),
    "below": ("تحت",),
}
POS = {
    "left": ("على اليسار",),
    "right": ("على اليمين",),
    "top": ("في الأعلى",),
    "bottom": ("في الأسفل",),
    "middle": ("في الوسط",),
}


def np_(obj: Obj, pick: Pick) -> tuple[list[str], str]:
    """('دائرة حمراء كبيرة', gender): noun, then colour, then size."""
    noun, gender = pick(SHAPE[obj.shape])
    g = 0 if gender == "m" else 1
    size = [SIZE[obj.size][g]] if obj.size else []
    return [noun, COLOUR[obj.colour][g], *size], gender


def conj(phrase: list[str]) -> list[str]:
    """'و' (and) is written joined to the next word."""
    return ["و" + phrase[0], *phrase[1:]]


def describe(p: Plan, pick: Pick) -> list[str]:
    """Variant 0: 'X على يسار Y'; variant 1: 'يوجد/توجد Y على يمين X' or the place first."""
    head, gender = np_(p.head, pick)
    if p.dep is None:
        pos = words(pick(POS[p.position]))
        return words(head, pos) if p.variant == 0 else words(pos, EXIST[gender], head)
    rel = words(pick(REL[p.relation]), np_(p.dep, pick)[0])
    if p.variant == 0:
        tail = conj(np_(p.extra, pick)[0]) if p.extra else []
        return words(head, rel, tail)
    if p.extra:
        extra, extra_gender = np_(p.extra, pick)
        return words(EXIST[extra_gender], extra, conj(head), rel)
    return pick([words(EXIST[gender], head, rel), words(rel, EXIST[gender], head)])


GRAMMAR = Grammar("ar", "Arabic", describe)
