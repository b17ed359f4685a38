"""Emoji names without the CLDR XML: the PyPI `emoji` package's CLDR-derived names, 14 languages.

The package has one short name per emoji and language (lower-cased, e.g. ':goldmedaille:') and no
keywords, so a corpus built on it has no keyword paraphrases: captions.py then makes caption 1 the
names read right to left (a re-ordering, not a paraphrase) and says so in the manifest.
"""

from __future__ import annotations

import emoji

LANGUAGES: tuple[str, ...] = tuple(sorted(emoji.LANGUAGES))
VERSION = f"emoji {emoji.__version__}"
LICENCE = "BSD-3-Clause (emoji package); names derived from Unicode CLDR (Unicode-DFS-2016)"
FULLY_QUALIFIED = emoji.STATUS["fully_qualified"]


def package_names(languages: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """language -> fully-qualified emoji -> short name, for `languages` (all in LANGUAGES)."""
    emoji.config.load_language(list(languages))
    names: dict[str, dict[str, str]] = {lang: {} for lang in languages}
    for seq, data in emoji.EMOJI_DATA.items():
        if data["status"] != FULLY_QUALIFIED:
            continue
        for lang in languages:
            code = data.get(lang)
            if code:
                names[lang][seq] = code.strip(":").replace("_", " ")
    return names
