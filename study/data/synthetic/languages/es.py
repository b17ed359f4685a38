"""Spanish: adjectives after the noun (or prenominal 'gran'), gender agreement, 'hay' frames."""

from __future__ import annotations

from study.data.synthetic.grammar import Grammar, Pick, Plan, words
from study.data.synthetic.world import Obj

SHAPE = {
    "circle": (("círculo", "m"),),
    "square": (("cuadrado", "m"),),
    "triangle": (("triángulo", "m"),),
    "diamond": (("rombo", "m"),),
    "cross": (("cruz", "f"),),
    "ring": (("anillo", "m"), ("aro", "m")),
}
COLOUR = {  # (masculine, feminine)
    "red": ("rojo", "roja"),
    "green": ("verde", "verde"),
    "blue": ("azul", "azul"),
    "yellow": ("amarillo", "amarilla"),
    "purple": ("morado", "morada"),
    "orange": ("naranja", "naranja"),
    "white": ("blanco", "blanca"),
    "black": ("negro", "negra"),
}
REL = {
    "left": ("a la izquierda de",),
    "right": ("a la derecha de",),
    "above": ("encima de", "sobre"),
    "below": ("debajo de",),
}
POS = {
    "left": ("a la izquierda",),
    "right": ("a la derecha",),
    "top": ("arriba",),
    "bottom": ("abajo",),
    "middle": ("en el centro",),
}


def np_(obj: Obj, pick: Pick) -> list[str]:
    """'un círculo rojo grande' / 'un gran círculo rojo' / 'una cruz azul pequeña'."""
    noun, gender = pick(SHAPE[obj.shape])
    g = 0 if gender == "m" else 1
    article, colour = ("un", "una")[g], COLOUR[obj.colour][g]
    if obj.size == "large" and pick([True, False]):
        return [article, "gran", noun, colour]
    size = {"small": [("pequeño", "pequeña")[g]], "large": ["grande"], None: []}[obj.size]
    return [article, noun, colour, *size]


def describe(p: Plan, pick: Pick) -> list[str]:
    """Variant 0: 'X a la izquierda de Y'; variant 1: 'hay Y a la derecha de X' or the place first."""
    head = np_(p.head, pick)
    if p.dep is None:
        pos = words(pick(POS[p.position]))
        return words(head, pos) if p.variant == 0 else words(pos, "hay", head)
    rel = words(pick(REL[p.relation]), np_(p.dep, pick))
    if p.variant == 0:
        tail = words("y", np_(p.extra, pick)) if p.extra else []
        return words(head, rel, tail)
    if p.extra:
        return words("hay", np_(p.extra, pick), "y", head, rel)
    return pick([words("hay", head, rel), words(rel, "hay", head)])


GRAMMAR = Grammar("es", "Latin", describe)
