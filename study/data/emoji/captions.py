"""Scene captions per language: caption 0 lists the objects' names, caption 1 paraphrases them.

Caption 0 joins the short names left to right with the language's CLDR list pattern (Babel's
`format_list`: "cat and apple", "Katze und Apfel", "猫、りんご"). Caption 1 joins one keyword per
object the same way, drawn by the seed among the object's keywords that are not its name and that
few objects of the vocabulary share, so the paraphrase still tells the scene apart (an object
without such a keyword, e.g. a flag whose only keyword is "flag", keeps its name). Without
keywords (the emoji package fallback) caption 1 lists the names right to left for scenes of 2+
objects: a re-ordering, not a paraphrase. A caption 1 equal to caption 0 is left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import numpy as np
from babel import Locale, UnknownLocaleError
from babel.lists import format_list

from study.data.emoji.names import Lexicon
from study.errors import StudyError

BABEL_LOCALES = {"quz": "qu"}  # XM3600 codes Babel spells differently
SHARED_MAX = 3  # a keyword more objects share than this does not identify one
CAPTION_1 = {
    True: "one keyword per object (CLDR keywords, not the name), CLDR list pattern, left to right",
    False: "the names right to left, CLDR list pattern (no keywords in the fallback)",
}


def babel_locale(code: str) -> Locale:
    """The Babel locale whose list patterns caption language `code`."""
    try:
        return Locale.parse(BABEL_LOCALES.get(code, code.replace("-", "_")))
    except (UnknownLocaleError, ValueError):
        raise StudyError(f"language '{code}': Babel has no CLDR list patterns for it") from None


def _pick(words: tuple[str, ...], rng: np.random.Generator) -> str | None:
    return words[int(rng.integers(len(words)))] if words else None


class Captioner:
    """Captions of scenes over a vocabulary (emoji sequences) in full and partial languages."""

    def __init__(
        self, lexicon: Lexicon, vocabulary: list[str], languages: tuple[str, ...], partial=()
    ) -> None:
        self.vocabulary = vocabulary
        self.languages = tuple(languages) + tuple(partial)
        self.locales = {lang: babel_locale(lang) for lang in self.languages}
        self.names = {
            lang: [lexicon.names[lang].get(seq) for seq in vocabulary] for lang in self.languages
        }
        self.has_keywords = any(lexicon.keywords[lang] for lang in self.languages)
        self.keywords = {lang: self._specific(lexicon, lang) for lang in self.languages}

    def _specific(self, lexicon: Lexicon, lang: str) -> list[tuple[str, ...]]:
        """Per object: its keywords other than its name that at most SHARED_MAX objects share."""
        table = lexicon.keywords[lang]
        own = [
            tuple(k for k in table.get(seq, ()) if k.casefold() != (name or "").casefold())
            for seq, name in zip(self.vocabulary, self.names[lang], strict=True)
        ]
        shared = Counter(k.casefold() for keys in own for k in set(keys))
        return [tuple(k for k in keys if shared[k.casefold()] <= SHARED_MAX) for keys in own]

    def captions(
        self, objects: tuple[int, ...], rng: np.random.Generator
    ) -> Iterator[tuple[str, int, str]]:
        """(lang, idx, text) of a scene whose objects are given left to right."""
        for lang in self.languages:
            names = [self.names[lang][o] for o in objects]
            if None in names:  # a partial language that lacks one of the names
                continue
            first = format_list(names, locale=self.locales[lang])
            yield lang, 0, first
            if self.has_keywords:
                words = [
                    _pick(self.keywords[lang][o], rng) or name
                    for o, name in zip(objects, names, strict=True)
                ]
            else:
                words = names[::-1]
            second = format_list(words, locale=self.locales[lang])
            if second != first:
                yield lang, 1, second
