"""Write the embedded corpus: a canonical train split and an XM3600-form eval split (imported)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from study.data.common import CaptionRows, item_key
from study.data.synthetic.languages import GRAMMARS
from study.data.synthetic.render import encode, render
from study.data.synthetic.world import Scene, World, scene_stream
from study.data.xm3600 import import_xm3600
from trainers.atomic_output import atomic_dir, check_output
from trainers.corpus import MANIFEST, write_corpus
from trainers.errors import InputError

GENERATOR_VERSION = 1  # bump whenever the output for a given seed changes (cache key)
LANGUAGES: tuple[str, ...] = tuple(sorted(GRAMMARS))
LOW_RESOURCE: tuple[str, ...] = ("sw",)
CAPTIONS_PER_LANGUAGE = 2
LICENCE = "CC0-1.0"
SOURCE = f"study embedded corpus generator v{GENERATOR_VERSION}"
# Independent random streams, so a change to one part leaves the others' draws alone.
TRAIN_SCENES, TRAIN_IMAGES, EVAL_SCENES, EVAL_IMAGES, CAPTIONS, COVERAGE = range(6)


@dataclass(frozen=True)
class SyntheticCorpus:
    """The three outputs of the generator."""

    train: Path  # canonical, PNG images
    eval: Path  # canonical, imported from eval_xm3600
    eval_xm3600: Path  # captions.jsonl + images/<image/key>.jpg


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream])


def _draw(seed: int, streams: tuple[int, int], world: World, count: int, eval_split: bool):
    """`count` (scene, pixels) pairs; scenes whose objects do not fit the canvas are redrawn."""
    scene_rng, image_rng = _rng(seed, streams[0]), _rng(seed, streams[1])
    drawn: list[tuple[Scene, np.ndarray]] = []
    for scene in scene_stream(scene_rng, world, eval_split):
        if len(drawn) == count:
            break
        pixels = render(image_rng, scene, world)
        if pixels is not None:
            drawn.append((scene, pixels))
    return drawn


def _write_train(out: Path, seed: int, items: int, world: World) -> list[tuple[str, Scene]]:
    drawn = _draw(seed, (TRAIN_SCENES, TRAIN_IMAGES), world, items, eval_split=False)
    covered = set(
        _rng(seed, COVERAGE).permutation(items)[: round(world.low_resource_share * items)]
    )
    rng, rows, images, keys = _rng(seed, CAPTIONS), CaptionRows(), {}, []
    for i, (scene, pixels) in enumerate(drawn):
        key = item_key("train", seed, i)
        images[key] = encode(pixels, "png")
        keys.append((key, scene))
        for lang in LANGUAGES:
            if lang in LOW_RESOURCE and i not in covered:
                continue
            for v in range(CAPTIONS_PER_LANGUAGE):
                rows.add(key, lang, v, GRAMMARS[lang].caption(scene, v, rng)[0])
    write_corpus(
        out,
        name="synthetic-train",
        captions=rows.table(out),
        images=images,
        source=f"{SOURCE} train split, seed {seed}",
        licence=LICENCE,
        image_format="png",
    )
    return keys


def _write_xm3600(
    folder: Path, seed: int, eval_items: int, world: World
) -> list[tuple[str, Scene]]:
    """Eval items in the upstream XM3600 layout: every item has every language."""
    drawn = _draw(seed, (EVAL_SCENES, EVAL_IMAGES), world, eval_items, eval_split=True)
    rng, lines, keys = _rng(seed, CAPTIONS + 100), [], []
    (folder / "images").mkdir(parents=True)
    for i, (scene, pixels) in enumerate(drawn):
        key = item_key("eval", seed, i)
        keys.append((key, scene))
        (folder / "images" / f"{key}.jpg").write_bytes(encode(pixels, "jpeg"))
        record: dict = {"image/key": key, "image/locale": LANGUAGES[i % len(LANGUAGES)]}
        for lang in LANGUAGES:
            pairs = [GRAMMARS[lang].caption(scene, v, rng) for v in range(CAPTIONS_PER_LANGUAGE)]
            tokenized = [tokens for _, tokens in pairs]
            record[lang] = {
                "caption": [text for text, _ in pairs],
                "caption/tokenized": tokenized,
                "caption/tokenized/lowercase": [t.lower() for t in tokenized],
            }
        lines.append(json.dumps(record, ensure_ascii=False))
    (folder / "captions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return keys


def generate(
    out: str | Path,
    *,
    items: int = 2000,
    eval_items: int = 300,
    seed: int = 0,
    world: World | None = None,
    overwrite: bool = False,
) -> SyntheticCorpus:
    """Generate the embedded corpus into `out` (train/, eval_xm3600/, eval/); same seed, same bytes."""
    world = world or World()
    if items < 1 or eval_items < 1:
        raise InputError(
            f"synthetic corpus: --items {items} / --eval-items {eval_items} (data.synthetic.items"
            " / eval_items): both must be at least 1"
        )
    out = check_output(out, overwrite)
    with atomic_dir(out, overwrite) as tmp:
        train = _write_train(tmp / "train", seed, items, world)
        evals = _write_xm3600(tmp / "eval_xm3600", seed, eval_items, world)
        import_xm3600(
            tmp / "eval_xm3600" / "captions.jsonl",
            tmp / "eval_xm3600" / "images",
            tmp / "eval",
            name="synthetic-eval",
            source=f"{SOURCE} eval split, seed {seed} (imported from eval_xm3600)",
            licence=LICENCE,
        )
        scenes = [
            {"split": s, "item_id": k, "scene": sc.key()}
            for s, ks in (("train", train), ("eval", evals))
            for k, sc in ks
        ]
        (tmp / "scenes.jsonl").write_text("".join(json.dumps(r) + "\n" for r in scenes))
        meta = {
            "generator_version": GENERATOR_VERSION,
            "seed": seed,
            "items": items,
            "eval_items": eval_items,
            "world": asdict(world),
        }
        (tmp / "generator.json").write_text(json.dumps(meta, indent=2) + "\n")
    return SyntheticCorpus(out / "train", out / "eval", out / "eval_xm3600")


def ensure_synthetic(
    cache_dir: str | Path, items: int, eval_items: int, seed: int, world: World | None = None
) -> SyntheticCorpus:
    """The cached embedded corpus for these settings, generated on first use (safe under races)."""
    world = world or World()
    tag = f"-{world.tag()}" if world.tag() else ""
    root = (
        Path(cache_dir).expanduser()
        / f"synthetic-{items}-{eval_items}-{seed}-v{GENERATOR_VERSION}{tag}"
    )
    corpus = SyntheticCorpus(root / "train", root / "eval", root / "eval_xm3600")
    if not (corpus.eval / MANIFEST).is_file():
        try:
            generate(root, items=items, eval_items=eval_items, seed=seed, world=world)
        except InputError:
            if not (corpus.eval / MANIFEST).is_file():  # lost a race: the winner's copy is whole
                raise
    return corpus
