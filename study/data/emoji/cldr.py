"""Read Unicode CLDR emoji annotations: `annotations/<locale>.xml` and `annotationsDerived/`.

Each `<annotation cp="…" type="tts">` is an emoji's short name, the untyped one its keywords
(`a | b | c`). A value `↑↑↑` means "inherit from the parent locale" (pt_PT -> pt -> root); a value
with no parent to inherit from is dropped, so the marker is never taken as a name.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from study.errors import StudyError

DEBIAN_CLDR = Path("/usr/share/unicode/cldr/common")  # Debian/Ubuntu package unicode-cldr-core
INHERIT = "↑↑↑"
LICENCE = "Unicode-DFS-2016"
# XM3600 codes whose CLDR locale file has another name; the first file present wins.
LOCALE_FILES = {"quz": ("qu",), "no": ("no", "nb"), "nb": ("nb", "no"), "he": ("he", "iw")}
_CLDR_VERSION = re.compile(r'cldrVersion\s+CDATA\s+#FIXED\s+"([^"]+)"')


def annotations_root(path: str | Path) -> Path | None:
    """The CLDR `common` dir under `path` (the dir holding annotations/), or None."""
    path = Path(path).expanduser()
    for root in (path, path / "common"):
        if (root / "annotations").is_dir():
            return root
    return None


def cldr_version(root: Path) -> str:
    """CLDR release of a `common` dir, from dtd/ldml.dtd (the XML files carry `$Revision$`)."""
    dtd = root / "dtd" / "ldml.dtd"
    if dtd.is_file():
        match = _CLDR_VERSION.search(dtd.read_text(encoding="utf-8", errors="replace"))
        if match:
            return match.group(1)
    return "unknown"


def locale_file(root: Path, code: str) -> str | None:
    """The CLDR locale (file stem under annotations/) that holds language `code`, or None."""
    for locale in LOCALE_FILES.get(code, (code.replace("-", "_"),)):
        if (root / "annotations" / f"{locale}.xml").is_file():
            return locale
    return None


def parent_locale(locale: str) -> str | None:
    """The locale a value marked `↑↑↑` inherits from: drop the last subtag, then root."""
    if locale == "root":
        return None
    return locale.rpartition("_")[0] or "root"


@dataclass
class Annotations:
    """One locale's short names and keywords by emoji code point string (U+FE0F removed)."""

    names: dict[str, str] = field(default_factory=dict)
    keywords: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _parse(path: Path) -> list[tuple[str, bool, str]]:
    """(cp, is_tts, text) of every annotation of one XML file; one-line errors for bad XML."""
    try:
        tree = ET.parse(path)
    except ET.ParseError as exc:
        line, column = exc.position
        reason = str(exc).split(":")[0]
        raise StudyError(
            f"{path}:{line}: malformed XML ({reason}, column {column}); restore the CLDR file"
        ) from None
    except OSError as exc:
        raise StudyError(f"{path}: unreadable ({exc.strerror})") from None
    rows = []
    for node in tree.getroot().iter("annotation"):
        cp = node.get("cp")
        if not cp:
            raise StudyError(f"{path}: an <annotation> without a cp attribute; restore the file")
        rows.append((cp, node.get("type") == "tts", (node.text or "").strip()))
    return rows


def read_locale(root: Path, locale: str, _cache: dict | None = None) -> Annotations:
    """Names and keywords of `locale` (annotations + annotationsDerived), inheritance resolved."""
    cache = {} if _cache is None else _cache
    if locale in cache:
        return cache[locale]
    ann, parent = Annotations(), None
    for folder in ("annotations", "annotationsDerived"):
        path = root / folder / f"{locale}.xml"
        if not path.is_file():
            continue
        for cp, tts, text in _parse(path):
            if text == INHERIT:
                up = parent_locale(locale)
                if up is None:
                    continue
                parent = parent if parent is not None else read_locale(root, up, cache)
                value = parent.names.get(cp) if tts else parent.keywords.get(cp)
                if value is None:
                    continue
            elif tts:
                value = text
            else:
                value = tuple(k.strip() for k in text.split("|") if k.strip())
            (ann.names if tts else ann.keywords)[cp] = value  # derived entries come later
    cache[locale] = ann
    return ann
