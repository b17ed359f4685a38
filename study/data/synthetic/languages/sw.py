"""Swahili (the low-resource language): noun classes drive adjective prefixes and the copula."""

from __future__ import annotations

from study.data.synthetic.grammar import Grammar, Pick, Plan, words
from study.data.synthetic.world import Obj

SHAPE = {  # noun, noun class (3: m-/mi-, 5: ji-/ma-, 9: n-/n-)
    "circle": (("duara", 5),),
    "square": (("mraba", 3),),
    "triangle": (("pembetatu", 9),),
    "diamond": (("almasi", 9),),
    "cross": (("msalaba", 3),),
    "ring": (("pete", 9),),
}
STEMS = {"red": "ekundu", "white": "eupe", "black": "eusi", "small": "dogo", "large": "kubwa"}
INVARIABLE = {  # colour nouns, linked with the class's '-a of'
    "green": "kijani",
    "blue": "bluu",
    "yellow": "njano",
    "purple": "zambarau",
    "orange": "rangi ya chungwa",
}
OF = {3: "wa", 5: "la", 9: "ya"}
COPULA = {3: "uko", 5: "liko", 9: "iko"}  # 'is (located)', agreeing with the subject's class
REL = {"left": "kushoto mwa", "right": "kulia mwa", "above": "juu ya", "below": "chini ya"}
POS = {"left": "kushoto", "right": "kulia", "top": "juu", "bottom": "chini", "middle": "katikati"}


def adjective(stem: str, cls: int) -> str:
    """Class agreement: mwekundu (3), jekundu (5), nyekundu (9); mdogo, dogo, ndogo."""
    if stem[0] in "aeiou":
        return {3: "mw", 5: "j", 9: "ny"}[cls] + stem
    return {3: "m", 5: "", 9: "n" if stem[0] == "d" else ""}[cls] + stem


def np_(obj: Obj, pick: Pick) -> tuple[list[str], int]:
    """('duara jekundu kubwa', noun class)."""
    noun, cls = pick(SHAPE[obj.shape])
    colour = STEMS.get(obj.colour)
    colour_words = adjective(colour, cls) if colour else f"{OF[cls]} {INVARIABLE[obj.colour]}"
    size = [adjective(STEMS[obj.size], cls)] if obj.size else []
    return words(noun, colour_words, size), cls


def describe(p: Plan, pick: Pick) -> list[str]:
    """Variant 0: 'X liko kushoto mwa Y'; variant 1: 'kuna Y kulia mwa X' ('there is')."""
    head, cls = np_(p.head, pick)
    if p.dep is None:
        pos = POS[p.position]
        return words(head, COPULA[cls], pos) if p.variant == 0 else words(pos, "kuna", head)
    rel = words(REL[p.relation], np_(p.dep, pick)[0])
    if p.variant == 0:
        tail = words("na", np_(p.extra, pick)[0]) if p.extra else []
        return words(head, COPULA[cls], rel, tail)
    front = words(np_(p.extra, pick)[0], "na") if p.extra else []
    return words("kuna", front, head, rel)


GRAMMAR = Grammar("sw", "Latin", describe)
