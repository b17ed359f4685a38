"""Where the emoji names come from: CLDR XML (names + keywords) or the 14-language fallback."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import emoji

from study.data.emoji import cldr, fallback
from study.data.emoji.settings import XM3600_LANGUAGES, EmojiSettings
from study.errors import StudyError

SKIN_TONES = frozenset(map(chr, range(0x1F3FB, 0x1F400)))
_COPYRIGHT = re.compile(r"Copyright © [0-9–-]+ Unicode, Inc\.")


@dataclass(frozen=True)
class Lexicon:
    """Names (and keywords, CLDR only) per language, keyed by fully-qualified emoji sequence."""

    names: dict[str, dict[str, str]]
    keywords: dict[str, dict[str, tuple[str, ...]]]
    parse_seconds: float


def _wanted(seq: str) -> bool:
    """An emoji of its own: not a skin-tone variant or a skin-tone swatch."""
    return not SKIN_TONES.intersection(seq)


def _qualified() -> dict[str, str]:
    """CLDR cp (U+FE0F removed, as in the XML) -> fully-qualified emoji sequence."""
    return {
        seq.replace("\ufe0f", ""): seq
        for seq, data in emoji.EMOJI_DATA.items()
        if data["status"] == fallback.FULLY_QUALIFIED
    }


@dataclass(frozen=True)
class NameSource:
    """A resolved name source; finding it reads no annotation file."""

    root: Path | None  # CLDR `common` dir; None: the emoji package fallback

    @property
    def version(self) -> str:
        """'CLDR 41' or 'emoji 2.16.0'."""
        return f"CLDR {cldr.cldr_version(self.root)}" if self.root else fallback.VERSION

    @property
    def licence(self) -> str:
        """Licence of the names."""
        return cldr.LICENCE if self.root else fallback.LICENCE

    def has(self, code: str) -> bool:
        """Whether this source names emoji in language `code`."""
        if self.root is None:
            return code in fallback.LANGUAGES
        return cldr.locale_file(self.root, code) is not None

    def default_languages(self) -> tuple[str, ...]:
        """Every XM3600 language this source has."""
        return tuple(code for code in XM3600_LANGUAGES if self.has(code))

    def describe(self, left_out: tuple[str, ...] = ()) -> str:
        """One line: which names a corpus gets (and the chosen languages the fallback lacks)."""
        if self.root is None:
            lacks = f"; left out, not in it: {' '.join(left_out)}" if left_out else ""
            return (
                f"names: the emoji package's {len(fallback.LANGUAGES)}-language fallback "
                f"({fallback.VERSION}; no CLDR XML found, no keywords: caption 1 re-orders names"
                f"{lacks})"
            )
        return f"names: CLDR XML at {self.root} ({self.version}; names + keywords)"

    def notice(self) -> str:
        """The copyright line the names' licence asks to keep."""
        if self.root is None:
            return f"Emoji names: Python package emoji ({fallback.LICENCE})."
        files = sorted((self.root / "annotations").glob("*.xml"))
        head = files[0].read_text(encoding="utf-8", errors="replace")[:2000] if files else ""
        found = _COPYRIGHT.search(head)
        copyright_line = found.group(0) if found else "Copyright © Unicode, Inc."
        return (
            f"Emoji names and keywords: Unicode CLDR {cldr.cldr_version(self.root)} annotations, "
            f"{copyright_line} Licence: Unicode-DFS-2016, https://www.unicode.org/license.txt"
        )

    def load(self, languages: tuple[str, ...]) -> Lexicon:
        """Names (+ keywords) of `languages`, skin-tone variants and non-emoji symbols left out."""
        start = time.perf_counter()
        if self.root is None:
            names = {
                lang: {s: n for s, n in table.items() if _wanted(s)}
                for lang, table in fallback.package_names(languages).items()
            }
            return Lexicon(names, {lang: {} for lang in languages}, time.perf_counter() - start)
        qualified, cache = _qualified(), {}
        names, keywords = {}, {}
        for lang in languages:
            ann = cldr.read_locale(self.root, cldr.locale_file(self.root, lang), cache)
            keep = {cp: qualified[cp] for cp in ann.names if cp in qualified}
            keep = {cp: seq for cp, seq in keep.items() if _wanted(seq)}
            names[lang] = {seq: ann.names[cp] for cp, seq in keep.items()}
            keywords[lang] = {seq: ann.keywords.get(cp, ()) for cp, seq in keep.items()}
        return Lexicon(names, keywords, time.perf_counter() - start)


def find_source(given: str | None) -> NameSource:
    """The CLDR dir given (an error if it holds no annotations/), else Debian's, else the fallback."""
    if given is not None:
        path = Path(given).expanduser()
        if not path.is_dir():
            raise StudyError(f"--cldr (data.emoji.cldr) {path}: no such directory")
        root = cldr.annotations_root(path)
        if root is None:
            raise StudyError(
                f"--cldr (data.emoji.cldr) {path}: no annotations/ folder with CLDR XML; give "
                f"CLDR's common/ dir (Debian's unicode-cldr-core: {cldr.DEBIAN_CLDR})"
            )
        return NameSource(root.resolve())
    return NameSource(cldr.annotations_root(cldr.DEBIAN_CLDR))


def check_languages(source: NameSource, codes: tuple[str, ...], option: str) -> None:
    """A one-line error for a language the source does not name emoji in."""
    for code in codes:
        if not source.has(code):
            hint = (
                f"CLDR at {source.root} has no annotations/{code}.xml"
                if source.root
                else f"the emoji package's fallback has {' '.join(fallback.LANGUAGES)} only; "
                "install unicode-cldr-core or give --cldr for all 36 XM3600 languages"
            )
            raise StudyError(f"{option}: no emoji names in language '{code}' ({hint})")


def corpus_languages(settings: EmojiSettings) -> tuple[str, ...]:
    """The corpus's languages (full, then partial), checked against the name source; no parsing."""
    source = find_source(settings.cldr)
    full, partial = resolve_languages(settings, source)
    return full + partial


def fallback_missing(settings: EmojiSettings, source: NameSource) -> tuple[str, ...]:
    """The chosen languages the emoji package fallback lacks (none with CLDR XML)."""
    if source.root is not None:
        return ()
    chosen = [*(settings.languages or ()), *settings.partial_languages]
    return tuple(code for code in chosen if not source.has(code))


def resolve_languages(settings: EmojiSettings, source: NameSource) -> tuple[tuple, tuple]:
    """(full, partial) languages of `settings`, checked against `source`.

    With the emoji package fallback (no CLDR XML on this machine), chosen languages it lacks are
    left out (`fallback_missing` names them) so that a study written for CLDR still runs; with
    CLDR XML, a language it lacks is an error.
    """
    missing = fallback_missing(settings, source)
    if missing and settings.languages and set(settings.languages) <= set(missing):
        # Nothing of the chosen full languages would be left: the error names the first.
        check_languages(source, settings.languages, "--languages (data.emoji.languages)")
    full = [c for c in settings.languages or () if c not in missing] or source.default_languages()
    partial = [c for c in settings.partial_languages if c not in missing]
    if not full:
        raise StudyError(
            f"{source.describe()}: none of the XM3600 languages found; name some with --languages"
        )
    both = sorted(set(full) & set(partial))
    if both:
        raise StudyError(
            f"--partial-languages (data.emoji.partial_languages): '{both[0]}' is also among the "
            "full languages; list it in one of the two"
        )
    check_languages(source, full, "--languages (data.emoji.languages)")
    check_languages(source, partial, "--partial-languages (data.emoji.partial_languages)")
    return tuple(full), tuple(partial)
