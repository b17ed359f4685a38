"""Training step throughput: the demo's train loop in-process versus under Ray Train (1 worker).

Both sides run the same TrainJob (the demo config's model, batch and data; a fixed step budget)
with the same torch thread count, alternating in-process and Ray runs so machine noise hits both.
Throughput is the median `samples_per_s` of the progress reports after the first (warm-up).

Usage: python bench/train_bench.py [--steps 240] [--log-every 40] [--repeats 2] [--threads 1]
Writes bench/results/train_bench.json and prints one summary line.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "train_bench.json"
ROOT = Path(__file__).resolve().parents[1]


class FileReporter:
    """Appends every report's metrics to a JSON-lines file (works inside a Ray worker too)."""

    def __init__(self, path: str, inner=None):
        self.path, self.inner = path, inner

    def report(self, metrics: dict, checkpoint_dir: str | None) -> None:
        """Record, then forward to the wrapped reporter (Ray's), if any."""
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(metrics) + "\n")
        if self.inner is not None:
            self.inner.report(metrics, checkpoint_dir)


def recording_loop(log: Path):
    """A Ray Train worker entry: the product's worker loop with a reporter that records to `log`."""

    def loop(config: dict) -> None:
        from trainers.ray_train import RayReporter, train_loop_per_worker

        train_loop_per_worker(config, reporter=FileReporter(str(log), RayReporter()))

    return loop


def demo_job(steps: int, log_every: int | None, cache: Path):
    """The demo study's hybrid (alpha 0.5, largest N) trial as a TrainJob with a step budget
    (0: its own budget)."""
    from study.config import load_config
    from study.data.sources import resolve_corpora
    from study.sweep import base_job, prepare_artifacts
    from trainers.job import TrainJob

    cfg = load_config(ROOT / "configs" / "demo.yaml", [f"data.cache_dir={cache}"])
    train_dir, eval_dir = resolve_corpora(cfg)
    prepare_artifacts(cfg.model.model_dump(mode="json"), str(train_dir), str(eval_dir), str(cache))
    job = base_job(cfg, train_dir, eval_dir)
    if steps:
        job["train"].update(budget={"steps": steps}, log_every=log_every)
    job["eval"].update(max_items=50)
    size = max(cfg.sweep.data_sizes)
    return TrainJob(**job, arm="hybrid", alpha=0.5, data_size=size, seed=0)


def throughput(log: Path) -> float:
    """Median samples/s of the progress reports, skipping the first (warm-up) and the final."""
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    rates = [r["samples_per_s"] for r in rows if "samples_per_s" in r and not r.get("final")]
    return statistics.median(rates[1:])


def run_in_process(job, log: Path, threads: int) -> float:
    """Samples/s of `run_training` called directly, with the CPUs of the Ray worker it is
    compared with (so both prepare batches with the same loader workers)."""
    from trainers.loop import run_training

    run_training(job, reporter=FileReporter(str(log)), device="cpu", cpus=threads)
    return throughput(log)


def run_under_ray(job, log: Path, storage: Path, name: str, threads: int) -> float:
    """Samples/s of the same job as a 1-worker TorchTrainer run (gloo)."""
    from trainers.ray_train import build_torch_trainer

    trainer = build_torch_trainer(
        job,
        name=name,
        storage_path=str(storage),
        num_workers=1,
        use_gpu=False,
        resources_per_worker={"CPU": threads},
        max_failures=0,
        train_loop=recording_loop(log),
    )
    trainer.fit()
    return throughput(log)


def main() -> None:
    """Run the comparison and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=240)
    parser.add_argument("--log-every", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="torch threads on both sides")
    args = parser.parse_args()

    import ray
    import torch

    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="train-bench-"))
    job = demo_job(args.steps, args.log_every, work / "cache")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    local, remote = [], []
    for i in range(args.repeats):
        local.append(run_in_process(job, work / f"local-{i}.jsonl", args.threads))
        remote.append(
            run_under_ray(job, work / f"ray-{i}.jsonl", work / "ray", f"r{i}", args.threads)
        )
    ray.shutdown()
    result = {
        "bench": "train_step_throughput",
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "torch_threads": args.threads,
        "batch_size": job.train.batch_size,
        "steps": args.steps,
        "in_process_samples_per_s": local,
        "ray_train_samples_per_s": remote,
        "ray_overhead": 1 - statistics.median(remote) / statistics.median(local),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"train step throughput, batch {result['batch_size']}, {args.threads} thread(s): "
        f"in-process {statistics.median(local):.0f} samples/s, Ray Train "
        f"{statistics.median(remote):.0f} samples/s, overhead {100 * result['ray_overhead']:.1f} %"
    )


if __name__ == "__main__":
    main()
