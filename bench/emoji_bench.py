"""The emoji corpus: name parsing, glyph rendering and build times, and how nested train subsets
cover the eval vocabulary for a grid of vocabulary sizes and Zipf exponents.

Coverage: for each (K, zipf), the scenes of a corpus with `--scenes` train items are drawn (as
`study data emoji` does, without images), the nested subsets are the first N items of the
`data.subset_seed` permutation (trainers.batch.subset_items), and for each N the bench reports the
share of eval object mentions whose object the subset shows at all, at least 5 and 20 times, and
the median number of times an eval mention's object is seen.

Usage: python bench/emoji_bench.py [--scenes 4000] [--eval-scenes 500] [--skip-build]
Writes bench/results/emoji_bench.json (the whole coverage grid) and prints one line.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results" / "emoji_bench.json"
SIZES = (250, 500, 1000, 2000, 4000)
GRID = [(k, s) for k in (400, 800) for s in (0.6, 0.8, 1.0)]


def names_and_glyphs() -> dict:
    """Parse every XM3600 language of the installed name source; draw every eligible glyph."""
    from study.data.emoji.names import find_source
    from study.data.emoji.render import open_font

    source = find_source(None)
    languages = source.default_languages()
    started = time.perf_counter()
    lexicon = source.load(languages)
    parse_s = time.perf_counter() - started
    counts = {lang: len(names) for lang, names in lexicon.names.items()}
    full = [lang for lang, n in counts.items() if n >= 0.9 * max(counts.values())]
    common = set.intersection(*(set(lexicon.names[lang]) for lang in full))
    font = open_font(None)
    drawable = sorted(seq for seq in common if font.draws(seq))
    started = time.perf_counter()
    for seq in drawable:
        font.glyph(seq, seq)
    render_s = time.perf_counter() - started
    return {
        "source": source.describe(),
        "languages": len(languages),
        "emoji_per_language": counts,
        "parse_s": round(parse_s, 2),
        "named_in_all_full_languages": len(common),
        "full_languages": len(full),
        "drawn_by_font": len(drawable),
        "glyphs_per_s": round(len(drawable) / render_s),
    }


def build_default() -> dict:
    """Wall time of `study data emoji` with the default settings (all languages found)."""
    from study.data.emoji import EmojiSettings
    from study.data.emoji.writer import build_emoji
    from trainers.corpus import open_corpus

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        corpus = build_emoji(Path(tmp) / "emoji", EmojiSettings())
        seconds = time.perf_counter() - started
        train = open_corpus(corpus.train)
        return {
            "settings": EmojiSettings().model_dump(mode="json"),
            "build_s": round(seconds, 1),
            "train_captions": train.captions.num_rows,
            "languages": len(train.languages),
        }


def coverage(k: int, zipf: float, scenes: int, eval_scenes: int, seed: int = 0) -> dict:
    """Eval-mention coverage and exposure per nested subset size, for one (K, zipf)."""
    from study.data.emoji import EmojiSettings
    from study.data.emoji.scenes import draw_scenes
    from trainers.batch import subset_items

    settings = EmojiSettings(
        objects=k, zipf=zipf, scenes=scenes, eval_scenes=eval_scenes, seed=seed
    )
    _, train, evals = draw_scenes(settings)
    mentions = np.concatenate([s.objects for s in evals])
    full = np.bincount(np.concatenate([s.objects for s in train]), minlength=k)
    rows = {}
    for n in (n for n in SIZES if n <= scenes):
        items = subset_items(scenes, n, 0)
        seen = np.bincount(np.concatenate([train[i].objects for i in items]), minlength=k)
        exposure = seen[mentions]
        rows[n] = {
            "covered": round(float((exposure > 0).mean()), 3),
            "seen_5x": round(float((exposure >= 5).mean()), 3),
            "seen_20x": round(float((exposure >= 20).mean()), 3),
            "median_times_seen": float(np.median(exposure)),
            "objects_seen": int((seen > 0).sum()),
        }
    top10 = np.sort(full)[::-1][:10].sum() / full.sum()
    return {
        "objects": k,
        "zipf": zipf,
        "eval_objects": int(len(np.unique(mentions))),
        "objects_in_full_train": int((full > 0).sum()),
        "top10_share_of_train_mentions": round(float(top10), 3),
        "by_size": rows,
    }


def main() -> None:
    """Measure and write bench/results/emoji_bench.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=max(SIZES))
    parser.add_argument("--eval-scenes", type=int, default=500)
    parser.add_argument("--skip-build", action="store_true", help="only names, glyphs, coverage")
    args = parser.parse_args()
    result = {
        "bench": "emoji_corpus",
        "machine": platform.machine(),
        "names_and_glyphs": names_and_glyphs(),
        "default_build": None if args.skip_build else build_default(),
        "coverage": [coverage(k, s, args.scenes, args.eval_scenes) for k, s in GRID],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    ng, build = result["names_and_glyphs"], result["default_build"]
    row = next(r for r in result["coverage"] if (r["objects"], r["zipf"]) == (400, 0.8))
    spread = " -> ".join(f"{r['covered']:.0%}" for r in row["by_size"].values())
    built = f", default corpus in {build['build_s']} s" if build else ""
    print(
        f"emoji: {ng['languages']} languages ({ng['source'].split('(')[1].split(';')[0]}) parsed "
        f"in {ng['parse_s']} s, {ng['drawn_by_font']} glyphs at {ng['glyphs_per_s']}/s{built}; "
        f"eval mentions covered at N={'/'.join(map(str, row['by_size']))} (K=400, zipf 0.8): {spread}"
    )


if __name__ == "__main__":
    main()
