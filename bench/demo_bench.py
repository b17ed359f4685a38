"""The demo study's wall time, split into data, Ray start, feature cache, trials and analysis.

Runs `configs/demo.yaml` from nothing (fresh cache and storage in a temporary dir), exactly as
`study run` does, and reads the phase timings the sweep records in `<run>/timings.json`.

Usage: python bench/demo_bench.py [--set key=value ...]
Writes bench/results/demo_bench.json and prints one summary line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "demo_bench.json"
ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    """Run the demo study once and write its timing split."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()

    from study.config import load_config
    from study.sweep import run_study

    work = Path(tempfile.mkdtemp(prefix="demo-bench-"))
    overrides = [f"data.cache_dir={work / 'cache'}", f"resources.storage={work / 'runs'}"]
    cfg = load_config(ROOT / "configs" / "demo.yaml", overrides + args.overrides)
    started = time.perf_counter()
    outcome = run_study(cfg)
    total = time.perf_counter() - started
    result = {
        "bench": "demo_study_wall_time",
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "trials": outcome.trials,
        "errored": outcome.errored,
        "total_s": total,
        "phases_s": outcome.timings,
        "overrides": args.overrides,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    split = ", ".join(f"{k} {v:.0f} s" for k, v in outcome.timings.items())
    print(f"demo study: {outcome.trials} trials in {total:.0f} s ({split})")


if __name__ == "__main__":
    main()
