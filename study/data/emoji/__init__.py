"""The emoji corpus (spec section 2): scenes of 1-3 emoji named by human translators (Unicode
CLDR annotations), drawn with the OpenMoji font.

`study.data.emoji.writer.build_emoji(out, EmojiSettings(...))` writes `out/train` and `out/eval`
(canonical corpora), `out/emoji.json` (versions, licences, the vocabulary and its names),
`out/scenes.jsonl` and `out/NOTICE`; `ensure_emoji(cache_dir, settings)` caches one per settings.
This module imports only the settings, so configs can be validated without Pillow or Babel.
"""

from study.data.emoji.settings import XM3600_LANGUAGES, EmojiSettings

__all__ = ["XM3600_LANGUAGES", "EmojiSettings"]
