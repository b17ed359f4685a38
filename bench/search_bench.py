"""`study search` latency as a user sees it (a fresh process per query), on the demo's eval corpus
(300 items, 10 languages) with the demo's model (untrained weights: latency does not depend on
them): the first search (builds the index), warm searches with the index cached, warm searches
that load the whole model instead of the cached traced text encoder (how every search ran
before), and `python -c "import torch"` (the floor of both), interleaved so machine noise hits
all of them.

Usage: python bench/search_bench.py [--repeats 5]
Writes bench/results/search_bench.json and prints one summary line.
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

import yaml

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "search_bench.json"
sys.path.insert(0, str(ROOT))

from study.search_index import CACHE_DIRNAME  # noqa: E402
from trainers.traced_text import TRACED_FILE  # noqa: E402


def build_inputs(work: Path) -> tuple[Path, Path]:
    """The demo's synthetic corpus (500 train, 300 eval items) and its model, exported."""
    from study.data.synthetic import generate
    from trainers.config import ModelConfig
    from trainers.corpus import open_corpus
    from trainers.model import build_model

    demo = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text())
    corpus = generate(work / "corpus", items=500, eval_items=300, seed=0)
    config = ModelConfig.model_validate(demo["model"])
    model, tokenizer = build_model(config, corpus=open_corpus(corpus.train), cache_dir=work)
    model.save_pretrained(work / "model", tokenizer)
    return work / "model", corpus.eval


def timed(argv: list[str]) -> float:
    """Wall seconds of one process, which must succeed."""
    start = time.perf_counter()
    subprocess.run(
        argv, check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    return time.perf_counter() - start


def main() -> None:
    """Build, then time the first, warm, whole-model and bare-torch runs."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--repeats", type=int, default=5, help="runs of each warm measurement")
    p.add_argument("--out", default=str(RESULTS))
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model, corpus = build_inputs(work)
        search = [sys.executable, "-m", "study", "search", "--model", str(model)]
        search += ["--corpus", str(corpus), "-k", "5", "a small red circle on the left"]
        load_before = os.getloadavg()[0]
        first_s = timed(search)
        # The same cache without the traced encoder: queries go through the whole model.
        cache = next((model / CACHE_DIRNAME).iterdir())
        eager = work / "eager_cache"
        shutil.copytree(cache, eager / cache.name)
        (eager / cache.name / TRACED_FILE).unlink()
        runs: dict[str, list[float]] = {"warm": [], "whole_model": [], "import_torch": []}
        for _ in range(args.repeats):
            runs["warm"].append(timed(search))
            runs["whole_model"].append(timed([*search, "--cache-dir", str(eager)]))
            runs["import_torch"].append(timed([sys.executable, "-c", "import torch"]))
        load_after = os.getloadavg()[0]
    median = {name: statistics.median(values) for name, values in runs.items()}
    report = {
        "command": "python bench/search_bench.py " + " ".join(sys.argv[1:]),
        "corpus": "synthetic eval split, 300 items x 10 languages x 2 captions",
        "model": "configs/demo.yaml model (tiny towers, untrained)",
        "cpu": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "load_average_before_after": [round(load_before, 1), round(load_after, 1)],
        "repeats": args.repeats,
        "first_search_s": round(first_s, 2),
        "warm_search_median_s": round(median["warm"], 2),
        "whole_model_search_median_s": round(median["whole_model"], 2),
        "import_torch_median_s": round(median["import_torch"], 2),
        "whole_model_over_warm": round(median["whole_model"] / median["warm"], 2),
        "runs_s": {name: [round(v, 2) for v in values] for name, values in runs.items()},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"study search, 300 items: first {first_s:.1f} s (builds the index), warm "
        f"{median['warm']:.2f} s median (whole model {median['whole_model']:.2f} s, "
        f"import torch alone {median['import_torch']:.2f} s)"
    )


if __name__ == "__main__":
    main()
