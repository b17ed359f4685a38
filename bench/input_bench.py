"""Input pipeline: prepared image-text pairs/s from COCO-sized JPEGs at 224 px with 1 and 2 loader
workers, and the demo loop's data-wait share with an unfrozen image tower.

1. A corpus of --images 640x480 photo-like JPEGs of about 100 KB (bench/photos.py), stored as
   given, with 2 captions in each of 5 languages; the hybrid sampler (alpha 0.5, batch 64) feeds
   `trainers.input_pipeline`, which tokenises the texts and decodes and resizes the images to
   224 px. Pairs/s over --batches batches after a warm-up, 1 and 2 workers alternating.
2. The demo study's largest hybrid trial (tiny towers, unfrozen image tower, batch 64) trained
   in-process on one torch thread, whole (or for --steps steps), with 0 and 1 loader workers: the
   share of step time spent waiting for data (the final report's `data_wait_share`).

Usage: python bench/input_bench.py [--images 2000] [--batches 40] [--steps 0] [--repeats 2]
Writes bench/results/input_bench.json and prints one summary line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

RESULTS = Path(__file__).parent / "results" / "input_bench.json"
LANGUAGES = ("de", "en", "es", "fr", "ja")
WORDS = ("a", "the", "red", "small", "dog", "man", "woman", "car", "street", "table", "of", "on")


def photo_corpus(work: Path, count: int) -> tuple[Path, list[Path]]:
    """The benchmark corpus (built once per size under `work`) and its image files."""
    from photos import photo_folder

    from study.data.common import Images
    from trainers.corpus import write_corpus

    out, files = work / f"corpus-{count}", photo_folder(count)
    if (out / "manifest.json").is_file():
        return out, files
    images = Images()
    rng = np.random.default_rng(0)
    rows = []
    for path in files:
        images.add(path.stem, path)
        for lang in LANGUAGES:
            rows += [
                (path.stem, lang, k, f"{lang} " + " ".join(rng.choice(WORDS, 9))) for k in (0, 1)
            ]
    captions = {k: [r[i] for r in rows] for i, k in enumerate(("item_id", "lang", "idx", "text"))}
    import pandas as pd

    write_corpus(
        out,
        name="coco-like",
        captions=pd.DataFrame(captions),
        images=images,
        source="bench/photos.py",
        licence="CC0",
    )
    return out, files


def pairs_per_s(corpus_dir: Path, tokenizer, workers: int, batches: int, warmup: int = 4) -> float:
    """Image-text pairs/s the loader prepares (tokens + 224 px pixels) with `workers` workers."""
    from trainers.corpus import open_corpus
    from trainers.input_pipeline import BatchPreparer, BatchStream
    from trainers.sampler import PairSampler

    index = open_corpus(corpus_dir).caption_index()
    sampler = PairSampler(index, np.arange(index.num_items), arm="hybrid", alpha=0.5, batch_size=64)
    preparer = BatchPreparer(
        str(corpus_dir), tokenizer, 32, use_it=True, use_tt=True, image_size=224
    )
    stream = BatchStream(
        sampler, preparer, warmup + batches, workers=workers, device=torch.device("cpu")
    )
    for _ in range(warmup):
        stream.next()
    start, pairs = time.perf_counter(), 0
    for _ in range(batches):
        pairs += stream.next().p
    elapsed = time.perf_counter() - start
    stream.close()
    return pairs / elapsed


def demo_wait(steps: int, workers: int, cache: Path) -> dict:
    """The demo trial in-process: data-wait share and samples/s with `workers` loader workers."""
    from train_bench import demo_job

    from trainers.loop import run_training

    job = demo_job(steps, max(1, steps // 3) if steps else None, cache)
    job = job.model_copy(update={"train": job.train.model_copy(update={"loader_workers": workers})})
    final = run_training(job, device="cpu")
    return {
        "data_wait_share": final["data_wait_share"],
        "data_wait_s": final["data_wait_s"],
        "samples_per_s": final["samples_per_s"],
    }


def main() -> None:
    """Run both parts, alternating worker counts, and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--steps", type=int, default=0, help="0: the trial's own budget")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "input-bench")
    args = parser.parse_args()
    os.environ["TOKENIZERS_PARALLELISM"] = "false"  # one core per process, as in a trial
    torch.set_num_threads(1)

    from trainers.corpus import open_corpus
    from trainers.tokenizer import corpus_tokenizer, load_tokenizer

    corpus_dir, files = photo_corpus(args.work, args.images)
    tokenizer = load_tokenizer(corpus_tokenizer(open_corpus(corpus_dir), 2000, args.work))
    load = os.getloadavg()[0]
    rates: dict[int, list[float]] = {1: [], 2: []}
    waits: dict[int, list[dict]] = {0: [], 1: []}
    for i in range(args.repeats):
        for workers in (1, 2) if i % 2 == 0 else (2, 1):  # noise hits both ends
            rates[workers].append(pairs_per_s(corpus_dir, tokenizer, workers, args.batches))
        for workers in (0, 1) if i % 2 == 0 else (1, 0):
            waits[workers].append(demo_wait(args.steps, workers, args.work / "cache"))
    one, two = statistics.median(rates[1]), statistics.median(rates[2])
    share = {w: statistics.median(r["data_wait_share"] for r in v) for w, v in waits.items()}
    result = {
        "bench": "input_pipeline",
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "load_average_at_start": load,
        "images": args.images,
        "image_kb": statistics.mean(p.stat().st_size for p in files) / 1e3,
        "pairs_per_s": {str(k): v for k, v in rates.items()},
        "speedup_2_over_1_worker": two / one,
        "demo_loop": {str(k): v for k, v in waits.items()},
        "demo_data_wait_share": {str(k): v for k, v in share.items()},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"input pipeline, COCO-sized JPEGs at 224 px, batch 64: 1 worker {one:.0f} pairs/s, "
        f"2 workers {two:.0f} pairs/s ({two / one:.2f}x); demo loop (unfrozen tower) data wait "
        f"{100 * share[0]:.1f} % of step time with 0 loader workers, {100 * share[1]:.1f} % with 1"
    )


if __name__ == "__main__":
    main()
