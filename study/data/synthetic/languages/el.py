"""Greek: articles and adjectives agree in gender and case (accusative after 'από')."""

from __future__ import annotations

from study.data.synthetic.grammar import Grammar, Pick, Plan, words
from study.data.synthetic.world import Obj

SHAPE = {  # (nominative, accusative), gender
    "circle": ((("κύκλος", "κύκλο"), "m"),),
    "square": ((("τετράγωνο", "τετράγωνο"), "n"),),
    "triangle": ((("τρίγωνο", "τρίγωνο"), "n"),),
    "diamond": ((("ρόμβος", "ρόμβο"), "m"),),
    "cross": ((("σταυρός", "σταυρό"), "m"),),
    "ring": ((("δακτύλιος", "δακτύλιο"), "m"),),
}
# Adjectives: (masculine nominative, every other form here); loan colours do not decline.
COLOUR = {
    "red": (("κόκκινος", "κόκκινο"),),
    "green": (("πράσινος", "πράσινο"),),
    "blue": ("μπλε",),
    "yellow": (("κίτρινος", "κίτρινο"),),
    "purple": ("μωβ",),
    "orange": ("πορτοκαλί",),
    "white": (("άσπρος", "άσπρο"), ("λευκός", "λευκό")),
    "black": (("μαύρος", "μαύρο"),),
}
SIZE = {"small": (("μικρός", "μικρό"),), "large": (("μεγάλος", "μεγάλο"),)}
ARTICLE = {("nom", "m"): "ένας", ("acc", "m"): "έναν", ("nom", "n"): "ένα", ("acc", "n"): "ένα"}
REL = {"left": "αριστερά από", "right": "δεξιά από", "above": "πάνω από", "below": "κάτω από"}
POS = {
    "left": ("αριστερά",),
    "right": ("δεξιά",),
    "top": ("πάνω",),
    "bottom": ("κάτω",),
    "middle": ("στο κέντρο",),
}


def np_(obj: Obj, case: str, pick: Pick) -> list[str]:
    """'ένας μεγάλος κόκκινος κύκλος' / 'έναν μεγάλο κόκκινο κύκλο'."""
    (nom, acc), gender = pick(SHAPE[obj.shape])
    adjectives = [pick(SIZE[obj.size])] if obj.size else []
    adjectives.append(pick(COLOUR[obj.colour]))
    slot = int((case, gender) != ("nom", "m"))
    inflected = [a if isinstance(a, str) else a[slot] for a in adjectives]
    return [ARTICLE[case, gender], *inflected, nom if case == "nom" else acc]


def describe(p: Plan, pick: Pick) -> list[str]:
    """Variant 0: 'X αριστερά από Y(acc)'; variant 1: 'υπάρχει Y δεξιά από X' or the place first."""
    head = np_(p.head, "nom", pick)
    if p.dep is None:
        pos = words(pick(POS[p.position]))
        return words(head, pos) if p.variant == 0 else words(pos, "υπάρχει", head)
    rel = words(REL[p.relation], np_(p.dep, "acc", pick))
    if p.variant == 0:
        tail = words("και", np_(p.extra, "nom", pick)) if p.extra else []
        return words(head, rel, tail)
    if p.extra:
        return words("υπάρχει", np_(p.extra, "nom", pick), "και", head, rel)
    return pick([words("υπάρχει", head, rel), words(rel, "βρίσκεται", head)])


GRAMMAR = Grammar("el", "Greek", describe)
