"""German: gender, case (nominative, accusative after 'es gibt', dative after prepositions), V2."""

from __future__ import annotations

from study.data.synthetic.grammar import Grammar, Pick, Plan, words
from study.data.synthetic.world import Obj

SHAPE = {
    "circle": (("Kreis", "m"),),
    "square": (("Quadrat", "n"), ("Viereck", "n")),
    "triangle": (("Dreieck", "n"),),
    "diamond": (("Raute", "f"),),
    "cross": (("Kreuz", "n"),),
    "ring": (("Ring", "m"),),
}
COLOUR = {
    "red": ("rot",),
    "green": ("grün",),
    "blue": ("blau",),
    "yellow": ("gelb",),
    "purple": ("violett",),
    "orange": ("orangefarben",),
    "white": ("weiß",),
    "black": ("schwarz",),
}
SIZE = {"small": ("klein",), "large": ("groß",)}
# Indefinite article and adjective ending (mixed declension) by case and gender.
ARTICLE = {
    "nom": {"m": "ein", "f": "eine", "n": "ein"},
    "acc": {"m": "einen", "f": "eine", "n": "ein"},
    "dat": {"m": "einem", "f": "einer", "n": "einem"},
}
ENDING = {
    "nom": {"m": "er", "f": "e", "n": "es"},
    "acc": {"m": "en", "f": "e", "n": "es"},
    "dat": {"m": "en", "f": "en", "n": "en"},
}
REL = {"left": ("links von",), "right": ("rechts von",), "above": ("über",), "below": ("unter",)}
POS = {
    "left": ("links", "auf der linken Seite"),
    "right": ("rechts", "auf der rechten Seite"),
    "top": ("oben",),
    "bottom": ("unten",),
    "middle": ("in der Mitte",),
}


def np_(obj: Obj, case: str, pick: Pick) -> list[str]:
    """'ein großer roter Kreis' / 'einem großen roten Kreis'."""
    noun, gender = pick(SHAPE[obj.shape])
    adjectives = [pick(SIZE[obj.size])] if obj.size else []
    adjectives.append(pick(COLOUR[obj.colour]))
    return [ARTICLE[case][gender], *(a + ENDING[case][gender] for a in adjectives), noun]


def describe(p: Plan, pick: Pick) -> list[str]:
    """Variant 0: 'X links von Y(dat)'; variant 1 fronts the place (verb second) or 'es gibt X(acc)'."""
    if p.dep is None:
        pos = words(pick(POS[p.position]))
        if p.variant == 0:
            return words(np_(p.head, "nom", pick), pos)
        return pick(
            [
                words(pos, "ist", np_(p.head, "nom", pick)),
                words("es gibt", np_(p.head, "acc", pick), pos),
            ]
        )
    rel = words(pick(REL[p.relation]), np_(p.dep, "dat", pick))
    if p.variant == 0:
        tail = words("und", np_(p.extra, "nom", pick)) if p.extra else []
        return words(np_(p.head, "nom", pick), rel, tail)
    if p.extra:
        return words("es gibt", np_(p.extra, "acc", pick), "und", np_(p.head, "acc", pick), rel)
    return pick(
        [
            words(rel, "ist", np_(p.head, "nom", pick)),
            words("es gibt", np_(p.head, "acc", pick), rel),
        ]
    )


GRAMMAR = Grammar("de", "Latin", describe)
