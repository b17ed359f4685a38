"""Russian: no articles, adjective-noun agreement in gender and case (genitive, instrumental)."""

from __future__ import annotations

from study.data.synthetic.grammar import Grammar, Pick, Plan, words
from study.data.synthetic.world import Obj

SHAPE = {  # (nominative, genitive, instrumental), gender
    "circle": ((("круг", "круга", "кругом"), "m"),),
    "square": ((("квадрат", "квадрата", "квадратом"), "m"),),
    "triangle": ((("треугольник", "треугольника", "треугольником"), "m"),),
    "diamond": ((("ромб", "ромба", "ромбом"), "m"),),
    "cross": ((("крест", "креста", "крестом"), "m"),),
    "ring": ((("кольцо", "кольца", "кольцом"), "n"),),
}
# Adjective endings: nominative masculine, nominative neuter, genitive, instrumental.
DECLENSION = {
    "hard": ("ый", "ое", "ого", "ым"),
    "soft": ("ий", "ее", "его", "им"),
    "velar": ("ий", "ое", "ого", "им"),
    "stressed": ("ой", "ое", "ого", "им"),
}
COLOUR = {
    "red": (("красн", "hard"),),
    "green": (("зелён", "hard"),),
    "blue": (("син", "soft"),),
    "yellow": (("жёлт", "hard"),),
    "purple": (("фиолетов", "hard"),),
    "orange": (("оранжев", "hard"),),
    "white": (("бел", "hard"),),
    "black": (("чёрн", "hard"),),
}
SIZE = {
    "small": (("маленьк", "velar"), ("небольш", "stressed")),
    "large": (("больш", "stressed"), ("крупн", "hard")),
}
REL = {  # preposition, case of its object
    "left": ("слева от", "gen"),
    "right": ("справа от", "gen"),
    "above": ("над", "ins"),
    "below": ("под", "ins"),
}
POS = {
    "left": ("слева",),
    "right": ("справа",),
    "top": ("сверху", "вверху"),
    "bottom": ("снизу", "внизу"),
    "middle": ("в центре", "посередине"),
}
CASES = ("nom", "gen", "ins")


def np_(obj: Obj, case: str, pick: Pick) -> tuple[list[str], str]:
    """('большой красный круг' in `case`, gender)."""
    forms, gender = pick(SHAPE[obj.shape])
    slot = {"nom": 0 if gender == "m" else 1, "gen": 2, "ins": 3}[case]
    adjectives = [pick(SIZE[obj.size])] if obj.size else []
    adjectives.append(pick(COLOUR[obj.colour]))
    return [stem + DECLENSION[kind][slot] for stem, kind in adjectives] + [
        forms[CASES.index(case)]
    ], gender


def describe(p: Plan, pick: Pick) -> list[str]:
    """Variant 0: 'X слева от Y(gen)'; variant 1 fronts the place: 'справа от X(gen) находится Y'."""
    head, gender = np_(p.head, "nom", pick)
    verb = pick(["находится", "расположен" if gender == "m" else "расположено"])
    if p.dep is None:
        pos = words(pick(POS[p.position]))
        return words(head, pos) if p.variant == 0 else words(pos, verb, head)
    prep, case = REL[p.relation]
    rel = words(prep, np_(p.dep, case, pick)[0])
    if p.variant == 0:
        tail = words("и", np_(p.extra, "nom", pick)[0]) if p.extra else []
        return words(head, rel, tail)
    if p.extra:
        return words("на картинке", np_(p.extra, "nom", pick)[0], "и", head, rel)
    return words(rel, verb, head)


GRAMMAR = Grammar("ru", "Cyrillic", describe)
