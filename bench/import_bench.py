"""Import throughput: a COCO-35L corpus of COCO-sized JPEGs through Ray Data on 1 and 2 CPUs.

Generates once (cached) N 640x480 photos (bench/photos.py) and a COCO-35L JSONL with
2 English captions per image, each translated into 4 languages (5 languages). Each import is
`study data mt-captions ... --image-size S` (decode, check, shrink, re-encode, write shards) in a
fresh process: on Ray Data with a local cluster of 1 CPU, of 2 CPUs (cluster start timed apart),
and in one process without Ray, alternating so machine noise hits all. The Ray corpora must equal
the single-process one: items, captions, image bytes and the decoded pixels of a sample.

Usage: python bench/import_bench.py [--images 20000] [--image-size 224] [--repeats 1] [--work DIR]
Writes bench/results/import_bench.json and prints one summary line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from photos import PHOTO_CACHE, photo_folder

RESULTS = Path(__file__).parent / "results" / "import_bench.json"
LANGUAGES = ("de", "fr", "es", "ja")  # targets of the English captions
WORDS = ("a", "the", "red", "small", "dog", "man", "woman", "car", "street", "table", "plate", "of")


def write_captions(path: Path, images: int) -> None:
    """A COCO-35L JSONL: per image 2 English captions, each translated into LANGUAGES."""
    rng = np.random.default_rng(0)
    with open(path, "w", encoding="utf-8") as out:
        for image in range(images):
            for n in range(2):
                caption = " ".join(rng.choice(WORDS, 10))
                for lang in LANGUAGES:
                    line = {
                        "image_id": f"{image}_{n}",
                        "src_lang": "en",
                        "trg_lang": lang,
                        "caption_tokenized": caption,
                        "translation_tokenized": f"{lang}: {caption[::-1]}",
                        "backtranslation_tokenized": caption,
                    }
                    out.write(json.dumps(line) + "\n")


def child(args: argparse.Namespace) -> None:
    """One import in this process; prints {"ray_start_s", "import_s"} as JSON."""
    os.environ["RAY_AUTH_MODE"] = "disabled"
    from study.data.mt_captions import import_mt_captions

    started = time.perf_counter()
    if args.cpus:
        import ray

        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    ready = time.perf_counter()
    import_mt_captions(
        args.work / "coco35l.jsonl",
        args.out,
        images=args.photos,
        image_size=args.image_size,
        use_ray=bool(args.cpus),
    )
    done = time.perf_counter()
    print(json.dumps({"ray_start_s": ready - started, "import_s": done - ready}))


def run_import(args: argparse.Namespace, cpus: int, out: Path) -> dict:
    """Import in a fresh process: Ray Data on a local cluster of `cpus` CPUs, or none (0)."""
    cmd = [sys.executable, __file__, "--child", "--cpus", str(cpus), "--out", str(out)]
    cmd += ["--work", str(args.work), "--image-size", str(args.image_size)]
    cmd += ["--photos", str(args.photos)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode:
        sys.exit(f"import with {cpus} CPUs failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def same_corpus(a: Path, b: Path, sample: int = 256) -> bool:
    """Same items, captions, stored image bytes and decoded pixels (of a sample of items)."""
    from trainers.corpus import open_corpus

    x, y = open_corpus(a), open_corpus(b)
    items = np.arange(x.num_items)
    picked = np.random.default_rng(0).choice(items, min(sample, len(items)), replace=False)
    return (
        x.item_ids.tolist() == y.item_ids.tolist()
        and x.captions.equals(y.captions)
        and x.encoded_images(items) == y.encoded_images(items)
        and np.array_equal(x.images(picked, size=224), y.images(picked, size=224))
    )


def main() -> None:
    """Generate the data, run the imports side by side, compare, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "import-bench")
    parser.add_argument("--photos", type=Path, default=PHOTO_CACHE, help="photo cache folder")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cpus", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    clock = time.perf_counter()
    args.work.mkdir(parents=True, exist_ok=True)
    files = photo_folder(args.images, args.photos)
    write_captions(args.work / "coco35l.jsonl", args.images)
    generated = time.perf_counter() - clock
    runs: dict[str, list[dict]] = {"ray_1cpu": [], "ray_2cpu": [], "single_process": []}
    outs = Path(tempfile.mkdtemp(prefix="imports-", dir=args.work))
    load = os.getloadavg()[0]
    order = [("ray_1cpu", 1), ("ray_2cpu", 2), ("single_process", 0)]
    for i in range(args.repeats):
        for name, cpus in order if i % 2 == 0 else order[::-1]:  # noise hits both ends
            runs[name].append(run_import(args, cpus, outs / f"{name}-{i}"))
    same = all(same_corpus(outs / f"ray_{c}cpu-0", outs / "single_process-0") for c in (1, 2))
    shutil.rmtree(outs)
    median = {k: statistics.median(r["import_s"] for r in v) for k, v in runs.items()}
    mb = sum(f.stat().st_size for f in files) / 1e6
    result = {
        "bench": "import_throughput",
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "load_average_at_start": load,
        "images": args.images,
        "image_mb": mb,
        "languages": 1 + len(LANGUAGES),
        "image_size": args.image_size,
        "generate_s": generated,
        "runs": runs,
        "import_s": median,
        "speedup_2cpu_over_1cpu": median["ray_1cpu"] / median["ray_2cpu"],
        "same_corpus_as_single_process": same,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"import of {args.images:,} COCO-sized JPEGs ({mb / args.images * 1e3:.0f} KB each), "
        f"5 languages, shrunk to {args.image_size} px: Ray Data 1 CPU "
        f"{median['ray_1cpu']:.1f} s, 2 CPUs {median['ray_2cpu']:.1f} s "
        f"({result['speedup_2cpu_over_1cpu']:.2f}x), one process {median['single_process']:.1f} s; "
        f"same corpus: {same}"
    )


if __name__ == "__main__":
    main()
