"""faiss search as `study search` runs it: a flat inner-product index on the GPU where faiss-gpu
and a GPU are present (`study.search_index.on_device`), else on the CPU.

Random unit vectors stand in for caption embeddings: `--items` vectors indexed, `--queries`
searched for their top `--k`; the top-1 ids are checked against an exact numpy product on a
sample of queries. Prints one line and writes bench/results/faiss_bench_<device>.json.

Usage: python bench/faiss_bench.py [--items 129600] [--queries 3600] [--dim 256] [--k 10]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import faiss
import numpy as np

from study.search_index import on_device

RESULTS = Path(__file__).parent / "results"


def unit_vectors(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    """`n` random unit vectors of `dim` floats."""
    x = rng.standard_normal((n, dim), dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def main() -> None:
    """Index, search (best of 3), check against numpy, write the JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--items", type=int, default=129_600)
    p.add_argument("--queries", type=int, default=3600)
    p.add_argument("--dim", type=int, default=256)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--out", help="JSON path (default: bench/results/faiss_bench_<device>.json)")
    args = p.parse_args()
    rng = np.random.default_rng(0)
    base, queries = (
        unit_vectors(rng, args.items, args.dim),
        unit_vectors(rng, args.queries, args.dim),
    )
    began = time.perf_counter()
    cpu_index = faiss.IndexFlatIP(args.dim)
    cpu_index.add(base)
    index = on_device(cpu_index)
    build_s = time.perf_counter() - began
    gpu = index is not cpu_index
    times = []
    for _ in range(3):
        began = time.perf_counter()
        _, ids = index.search(queries, args.k)
        times.append(time.perf_counter() - began)
    sample = rng.choice(args.queries, size=min(200, args.queries), replace=False)
    exact = np.argmax(queries[sample] @ base.T, axis=1)
    agree = float(np.mean(ids[sample, 0] == exact))
    result = {
        "bench": "faiss_flat_search",
        "date": time.strftime("%Y-%m-%d"),
        "device": "gpu" if gpu else "cpu",
        "faiss": faiss.__version__,
        "items": args.items,
        "queries": args.queries,
        "dim": args.dim,
        "k": args.k,
        "build_s": build_s,
        "search_s": min(times),
        "queries_per_s": args.queries / min(times),
        "top1_agrees_with_numpy": agree,
    }
    out = Path(args.out or RESULTS / f"faiss_bench_{result['device']}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"faiss flat search ({result['device']}, {args.items} x {args.dim}, {args.queries} "
        f"queries, top {args.k}): {min(times):.3f} s ({result['queries_per_s']:.0f} queries/s), "
        f"top-1 agrees with numpy on {100 * agree:.0f} % of {len(sample)}"
    )


if __name__ == "__main__":
    main()
