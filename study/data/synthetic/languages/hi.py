"""Hindi: verb-final (SOV), postpositions after oblique noun phrases, adjectives inflect for case."""

from __future__ import annotations

from study.data.synthetic.grammar import Grammar, Pick, Plan, words
from study.data.synthetic.world import Obj

SHAPE = {  # (direct, oblique): masculine nouns in -ा take -े in the oblique case
    "circle": (("वृत्त", "वृत्त"), ("गोला", "गोले")),
    "square": (("वर्ग", "वर्ग"),),
    "triangle": (("त्रिभुज", "त्रिभुज"),),
    "diamond": (("समचतुर्भुज", "समचतुर्भुज"),),
    "cross": (("क्रॉस", "क्रॉस"),),
    "ring": (("छल्ला", "छल्ले"),),
}
COLOUR = {
    "red": ("लाल", "लाल"),
    "green": ("हरा", "हरे"),
    "blue": ("नीला", "नीले"),
    "yellow": ("पीला", "पीले"),
    "purple": ("बैंगनी", "बैंगनी"),
    "orange": ("नारंगी", "नारंगी"),
    "white": ("सफ़ेद", "सफ़ेद"),
    "black": ("काला", "काले"),
}
SIZE = {"small": ("छोटा", "छोटे"), "large": ("बड़ा", "बड़े")}
REL = {"left": "के बाईं ओर", "right": "के दाईं ओर", "above": "के ऊपर", "below": "के नीचे"}
POS = {
    "left": ("बाईं ओर",),
    "right": ("दाईं ओर",),
    "top": ("ऊपर",),
    "bottom": ("नीचे",),
    "middle": ("बीच में",),
}


def np_(obj: Obj, oblique: bool, pick: Pick) -> list[str]:
    """'एक बड़ा लाल वृत्त' (direct) / 'एक बड़े लाल वृत्त' (oblique, before a postposition)."""
    case = int(oblique)
    size = [SIZE[obj.size][case]] if obj.size else []
    return ["एक", *size, COLOUR[obj.colour][case], pick(SHAPE[obj.shape])[case]]


def describe(p: Plan, pick: Pick) -> list[str]:
    """Variant 0: 'X Y(obl) के बाईं ओर है'; variant 1: 'X(obl) के दाईं ओर Y है'."""
    head = np_(p.head, False, pick)
    if p.dep is None:
        pos = words(pick(POS[p.position]))
        if p.variant == 0:
            return words(head, pos, "है")
        return words(pick(["", "तस्वीर में"]), pos, head, "है")
    dep = np_(p.dep, True, pick)
    if p.variant == 0:
        tail = words("और", np_(p.extra, False, pick), "भी है") if p.extra else []
        return words(head, dep, REL[p.relation], "है", tail)
    front = words("तस्वीर में", np_(p.extra, False, pick), "है और") if p.extra else []
    return words(front, dep, REL[p.relation], head, "है")


GRAMMAR = Grammar("hi", "Devanagari", describe)
