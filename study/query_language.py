"""Which of a corpus's languages a query is written in: character-trigram profiles of the corpus's
own captions (their most frequent trigrams with log frequencies), the best-scoring profile wins
(naive Bayes, as n-gram language identifiers do)."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

CAPTIONS_PER_LANGUAGE = 2000  # captions a profile is counted from
PROFILE_SIZE = 1000  # trigrams kept per language
FLOOR = ""  # the profile key of the log frequency given to trigrams outside the profile


def _trigrams(text: str) -> list[str]:
    padded = f" {' '.join(text.lower().split())} "
    return [padded[i : i + 3] for i in range(len(padded) - 2)]


def language_profiles(corpus) -> dict[str, dict[str, float]]:
    """Per language of the corpus, its most frequent trigrams' log frequencies (+ FLOOR)."""
    index = corpus.caption_index()
    profiles = {}
    for code, lang in enumerate(index.languages):
        rows = np.flatnonzero(index.lang == code)[:CAPTIONS_PER_LANGUAGE]
        counts = Counter(g for text in corpus.texts(rows) for g in _trigrams(text))
        if not counts:
            continue
        total = sum(counts.values())
        kept = counts.most_common(PROFILE_SIZE)
        profile = {g: math.log(n / total) for g, n in kept}
        profile[FLOOR] = math.log(0.5 * kept[-1][1] / total)  # rarer than any trigram kept
        profiles[lang] = profile
    return profiles


def detect_language(text: str, profiles: dict[str, dict[str, float]]) -> str | None:
    """The language whose profile scores `text` highest; None for a text without trigrams."""
    grams = _trigrams(text)
    if not grams or not profiles:
        return None
    scores = {
        lang: sum(profile.get(g, profile[FLOOR]) for g in grams)
        for lang, profile in profiles.items()
    }
    return max(scores, key=scores.get)
