"""French: size before and colour after the noun, gender agreement, elided 'd'un', inversion."""

from __future__ import annotations

from study.data.synthetic.grammar import Grammar, Pick, Plan, words
from study.data.synthetic.world import Obj

SHAPE = {
    "circle": (("cercle", "m"), ("rond", "m")),
    "square": (("carré", "m"),),
    "triangle": (("triangle", "m"),),
    "diamond": (("losange", "m"),),
    "cross": (("croix", "f"),),
    "ring": (("anneau", "m"),),
}
COLOUR = {  # (masculine, feminine)
    "red": ("rouge", "rouge"),
    "green": ("vert", "verte"),
    "blue": ("bleu", "bleue"),
    "yellow": ("jaune", "jaune"),
    "purple": ("violet", "violette"),
    "orange": ("orange", "orange"),
    "white": ("blanc", "blanche"),
    "black": ("noir", "noire"),
}
SIZE = {"small": (("petit", "petite"),), "large": (("grand", "grande"), ("gros", "grosse"))}
REL = {  # (words, followed by 'de')
    "left": (("à gauche", True),),
    "right": (("à droite", True),),
    "above": (("au-dessus", True),),
    "below": (("au-dessous", True), ("sous", False)),
}
POS = {
    "left": ("à gauche",),
    "right": ("à droite",),
    "top": ("en haut",),
    "bottom": ("en bas",),
    "middle": ("au centre", "au milieu"),
}


def np_(obj: Obj, pick: Pick, after_de: bool = False) -> list[str]:
    """'un grand cercle rouge' / "d'une petite croix bleue"."""
    noun, gender = pick(SHAPE[obj.shape])
    g = 0 if gender == "m" else 1
    article = ("un", "une")[g]
    size = [pick(SIZE[obj.size])[g]] if obj.size else []
    return ["d'" + article if after_de else article, *size, noun, COLOUR[obj.colour][g]]


def relation(p: Plan, pick: Pick) -> list[str]:
    """'à gauche d'un petit carré bleu'."""
    rel, de = pick(REL[p.relation])
    return words(rel, np_(p.dep, pick, after_de=de))


def describe(p: Plan, pick: Pick) -> list[str]:
    """Variant 0: 'X à gauche d'Y'; variant 1: 'il y a Y à droite d'X' or 'à droite d'X se trouve Y'."""
    head = np_(p.head, pick)
    if p.dep is None:
        pos = words(pick(POS[p.position]))
        return words(head, pos) if p.variant == 0 else words(pos, ",", "il y a", head)
    if p.variant == 0:
        tail = words("et", np_(p.extra, pick)) if p.extra else []
        return words(head, relation(p, pick), tail)
    if p.extra:
        return words("il y a", np_(p.extra, pick), "et", head, relation(p, pick))
    return pick(
        [words("il y a", head, relation(p, pick)), words(relation(p, pick), "se trouve", head)]
    )


GRAMMAR = Grammar("fr", "Latin", describe)
