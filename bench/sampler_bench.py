"""Pair sampler throughput (pairs per second, one core) on an XM3600-like caption index.

Usage: python bench/sampler_bench.py [--items 100000] [--seconds 1.0]
Writes bench/results/sampler_bench.json and prints one summary line.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from trainers.batch import CaptionIndex
from trainers.sampler import PairSampler

RESULTS = Path(__file__).parent / "results" / "sampler_bench.json"
# (arm, alpha, global batch, world size): rank 0 of a W-rank job still simulates the global batch.
CASES = [
    ("hybrid", 0.5, 64, 1),
    ("hybrid", 0.5, 256, 1),
    ("hybrid", 0.5, 1024, 1),
    ("hybrid", 0.5, 1024, 8),
    ("hybrid", 1.0, 256, 1),
    ("hybrid", 0.0, 256, 1),
    ("clip", None, 256, 1),
]


def xm3600_like(num_items: int, num_langs: int = 36, seed: int = 0) -> CaptionIndex:
    """Items with ~2 captions per language (30 % only one); the last 4 languages in 30 % of items."""
    rng = np.random.default_rng(seed)
    present = np.ones((num_items, num_langs), dtype=bool)
    present[:, -4:] = rng.random((num_items, 4)) < 0.3
    counts = (np.where(rng.random(present.shape) < 0.3, 1, 2) * present).ravel()
    item = np.repeat(np.arange(num_items).repeat(num_langs), counts)
    lang = np.repeat(np.tile(np.arange(num_langs), num_items), counts)
    idx = np.arange(len(item)) - np.repeat(np.cumsum(counts) - counts, counts)
    codes = tuple(f"l{i:02d}" for i in range(num_langs))
    return CaptionIndex(item, lang.astype(np.int16), idx.astype(np.int32), codes, num_items)


def label(row: dict) -> str:
    """A short case name, e.g. `hybrid a=0.5 B=1024 W=8`."""
    alpha = "" if row["alpha"] is None else f" a={row['alpha']:g}"
    world = "" if row["world_size"] == 1 else f" W={row['world_size']}"
    return f"{row['arm']}{alpha} B={row['batch_size']}{world}"


def measure(sampler: PairSampler, seconds: float) -> dict:
    """Steps and pairs (image-text + text-text) per second over about `seconds`."""
    steps = pairs = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(20):
            b = sampler.next_batch()
            pairs += len(b.it_rows) + len(b.tt_rows_a)
        steps += 20
    return {"steps_per_s": steps / elapsed, "pairs_per_s": pairs / elapsed}


def main() -> None:
    """Run every case and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    index = xm3600_like(args.items)
    items = np.arange(args.items)
    rows = []
    for arm, alpha, batch, world in CASES:
        start = time.perf_counter()
        sampler = PairSampler(
            index, items, arm=arm, alpha=alpha, batch_size=batch, world_size=world
        )
        build_s = time.perf_counter() - start
        rows.append(
            {
                "arm": arm,
                "alpha": alpha,
                "batch_size": batch,
                "world_size": world,
                "build_s": build_s,
                **measure(sampler, args.seconds),
            }
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "items": args.items,
        "languages": len(index.languages),
        "captions": len(index.item),
        "machine": platform.processor() or platform.machine(),
        "numpy": np.__version__,
    }
    RESULTS.write_text(json.dumps({"meta": meta, "results": rows}, indent=2) + "\n")
    summary = ", ".join(f"{label(r)}: {r['pairs_per_s'] / 1e6:.2f}M" for r in rows)
    print(
        f"sampler pairs/s on one core ({args.items} items, {len(index.languages)} langs): {summary}"
    )


if __name__ == "__main__":
    main()
