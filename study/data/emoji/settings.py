"""The emoji corpus's knobs: one validated model shared by `study data emoji` and `data.emoji`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from study.errors import StudyError
from trainers.corpus import is_known_language

# The 36 Crossmodal-3600 languages (XM3600 codes; cldr.py maps them to CLDR locale files).
_XM3600 = (
    "ar bn cs da de el en es fa fi fil fr he hi hr hu id it ja ko mi nl no pl pt quz ro ru sv sw"
)
XM3600_LANGUAGES: tuple[str, ...] = (*_XM3600.split(), "te", "th", "tr", "uk", "vi", "zh")


class EmojiSettings(BaseModel):
    """What `study data emoji` builds; the same inputs and seed give the same bytes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    objects: int = Field(600, ge=2, description="K: distinct emoji in the corpus")
    scenes: int = Field(8000, ge=1, description="training items (scenes)")
    eval_scenes: int = Field(
        500, ge=1, description="eval items: object combinations unseen in train"
    )
    per_scene: int = Field(
        3, ge=1, le=3, description="most objects per scene (1: one emoji an item)"
    )
    image_size: int = Field(32, ge=16, le=512, description="canvas side in pixels")
    zipf: float = Field(0.8, ge=0.0, le=3.0, description="train object frequency ~ rank^-zipf")
    languages: tuple[str, ...] | None = Field(
        None, description="every object is named in each; default: every XM3600 language found"
    )
    partial_languages: tuple[str, ...] = Field(
        (), description="captioned only where the source names all of a scene's objects"
    )
    seed: int = Field(0, description="same inputs and seed, same bytes")
    cldr: str | None = Field(
        None, description="CLDR dir (holding annotations/); default: Debian's, else the fallback"
    )
    font: str | None = Field(None, description="emoji font file; default: OpenMoji COLRv0")

    @field_validator("languages", "partial_languages")
    @classmethod
    def _known_codes(cls, codes: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for code in codes or ():
            if not is_known_language(code):
                raise ValueError(
                    f"unknown language code '{code}'; use ISO 639 codes such as 'en', 'fil', 'quz'"
                )
        if codes is not None and len(set(codes)) != len(codes):
            raise ValueError("a language is listed twice")
        return codes


def settings_from_options(**options) -> EmojiSettings:
    """EmojiSettings from command-line values (None = default); errors name the option."""
    given = {k: v for k, v in options.items() if v is not None}
    try:
        return EmojiSettings(**given)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]) if err["loc"] else "options"
        msg = err["msg"].removeprefix("Value error, ")
        value = given.get(name)
        shown = " ".join(value) if isinstance(value, list | tuple) else value
        raise StudyError(f"--{name.replace('_', '-')} {shown}: {msg}") from None
