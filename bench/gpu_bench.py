"""GPU training throughput: an XLM-R-base-sized text tower on cached image features, bf16,
plain PyTorch (`trainers.loop.run_training` in-process) versus the same loop under Ray Train.

The text tower is an XLMRobertaModel built from its config with random weights (no download),
saved as a local Hugging Face model dir together with a WordPiece tokenizer trained on the demo
corpus, and named as `model.text_tower.source`; the image tower is the demo's tiny one, frozen,
so every step reads cached image features. The job is the demo's hybrid (alpha 0.5) trial.

Model FLOPs utilisation (MFU) = model FLOPs per sample x samples/s / the device's peak dense
bf16 FLOP/s, with model FLOPs per training step = 6 N T + 12 L d S:
  N  the text encoder's non-embedding parameters (embedding lookups do no matmul work; the
     projections and the loss add < 0.1 % and are left out),
  T  text tokens the step's forward processed (padded length x texts, what the device computes),
  L, d  layers and hidden size; S = sum over the step's text forwards of texts x length^2
     (QK^T and attention x V: 4 d s^2 per text and layer forward, x3 with the backward).
T and S are counted by a forward pre-hook on the text tower during training steps only.

Usage: python bench/gpu_bench.py [--size base|tiny] [--steps 200] [--batch-size 512]
  [--device cuda] [--repeats 2] [--threads 4] [--peak-flops F]
Without CUDA, `--size base` prints one line and exits 0; `--size tiny` is a CPU smoke check.
Writes bench/results/gpu_bench.json (base) or gpu_bench_tiny.json (tiny), or --out, and prints one line.
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

import torch
import train_bench
from train_bench import FileReporter, demo_job, recording_loop, throughput

RESULTS = Path(__file__).parent / "results"
# Text encoder shapes: XLM-R base (278M parameters, 86M outside the embeddings) and a smoke size.
SIZES = {
    "base": {"hidden": 768, "layers": 12, "heads": 12, "ffn": 3072, "vocab": 250002, "length": 64},
    "tiny": {"hidden": 64, "layers": 2, "heads": 4, "ffn": 256, "vocab": 0, "length": 32},
}
# Peak dense bf16 FLOP/s by device name (first match wins; PCIe H100 is clocked lower than SXM).
PEAK_BF16 = (("H100 PCIe", 756e12), ("H100", 989e12), ("H200", 989e12), ("A100", 312e12))


class TokenCounter:
    """Counts tokens and sum(texts x length^2) of the text tower's training forwards.

    The tower is built inside `run_training`, so a global pre-hook waits for its first call,
    then moves to a hook on that tower alone (global hooks slow every module call).
    """

    def __init__(self) -> None:
        self.tokens = self.real_tokens = self.length_sq = 0
        self.encoder_params = self.layers = self.hidden = 0
        self._global = None

    def install(self) -> TokenCounter:
        """Start watching for the text tower."""
        from torch.nn.modules.module import register_module_forward_pre_hook

        self._global = register_module_forward_pre_hook(self._find)
        return self

    def _find(self, module: torch.nn.Module, args: tuple) -> None:
        from trainers.towers import TextTower

        if not isinstance(module, TextTower):
            return
        self._global.remove()
        enc = module.encoder
        self.encoder_params = sum(
            p.numel() for n, p in enc.named_parameters() if not n.startswith("embeddings.")
        )
        self.layers, self.hidden = enc.config.num_hidden_layers, enc.config.hidden_size
        module.register_forward_pre_hook(self._count, with_kwargs=True)
        self._count(module, args, {})

    def _count(self, module: torch.nn.Module, args: tuple, kwargs: dict) -> None:
        if not (module.training and torch.is_grad_enabled()):
            return
        ids = args[0] if args else kwargs["input_ids"]
        mask = args[1] if len(args) > 1 else kwargs["attention_mask"]
        n, s = ids.shape
        self.tokens += n * s
        self.length_sq += n * s * s
        self.real_tokens += int(mask.sum())

    def stats(self) -> dict:
        """The counts and the model FLOPs they add up to."""
        flops = 6 * self.encoder_params * self.tokens + 12 * self.layers * self.hidden * (
            self.length_sq
        )
        return {
            "encoder_params_non_embedding": self.encoder_params,
            "tokens": self.tokens,
            "real_tokens": self.real_tokens,
            "model_flops": flops,
        }


def text_tower_dir(size: str, job, out: Path) -> Path:
    """A local HF model dir: a randomly initialised XLM-R encoder and a corpus-trained tokenizer."""
    from transformers import XLMRobertaConfig, XLMRobertaModel

    from trainers.corpus import open_corpus
    from trainers.tokenizer import corpus_tokenizer, load_tokenizer
    from trainers.towers import seeded

    shape = SIZES[size]
    vocab = job.model.text_tower.vocab_size
    tokenizer = load_tokenizer(
        corpus_tokenizer(open_corpus(job.train_corpus), vocab, job.cache_dir)
    )
    config = XLMRobertaConfig(
        vocab_size=max(shape["vocab"], len(tokenizer)),
        hidden_size=shape["hidden"],
        num_hidden_layers=shape["layers"],
        num_attention_heads=shape["heads"],
        intermediate_size=shape["ffn"],
        max_position_embeddings=shape["length"] + 2,  # RoBERTa positions start after padding_idx
        type_vocab_size=1,
        layer_norm_eps=1e-5,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id,
    )
    with seeded(0):
        XLMRobertaModel(config, add_pooling_layer=False).save_pretrained(out)
    tokenizer.save_pretrained(str(out))
    return out


def bench_job(args, work: Path):
    """The demo hybrid trial with the benchmark's text tower, frozen image tower and batch."""
    from study.sweep import prepare_artifacts
    from trainers.job import TrainJob

    job = demo_job(args.steps, args.log_every, work / "cache")
    source = text_tower_dir(args.size, job, work / "text-tower")
    spec = job.model_dump(mode="json")
    spec["model"].update(frozen_image_tower=True, max_text_length=SIZES[args.size]["length"])
    spec["model"]["text_tower"]["source"] = str(source)
    spec["train"].update(batch_size=args.batch_size, precision="bf16")
    job = TrainJob.model_validate(spec)
    prepare_artifacts(spec["model"], job.train_corpus, job.eval_corpus, job.cache_dir)
    return job


def samples_seen(log: Path) -> int:
    """Samples of the whole run, from its final report."""
    return json.loads(log.read_text().splitlines()[-1])["samples_seen"]


def run_in_process(job, log: Path, device: str) -> dict:
    """Samples/s and token counts of `run_training` called directly."""
    from trainers.loop import run_training

    counter = TokenCounter().install()
    run_training(job, reporter=FileReporter(str(log)), device=device)
    return {"samples_per_s": throughput(log), "samples": samples_seen(log), **counter.stats()}


def counting_loop(log: Path, counts: Path):
    """A Ray Train worker entry: the recording loop, its token counts written to `counts`."""
    inner = recording_loop(log)

    def loop(config: dict) -> None:
        counter = TokenCounter().install()
        inner(config)
        counts.write_text(json.dumps(counter.stats()))

    return loop


def run_under_ray(job, log: Path, work: Path, name: str, use_gpu: bool, threads: int) -> dict:
    """Samples/s and token counts of the same job as a 1-worker TorchTrainer run."""
    from trainers.ray_train import build_torch_trainer

    counts = log.with_suffix(".counts.json")
    build_torch_trainer(
        job,
        name=name,
        storage_path=str(work / "ray"),
        num_workers=1,
        use_gpu=use_gpu,
        resources_per_worker={"CPU": threads, "GPU": int(use_gpu)},
        max_failures=0,
        train_loop=counting_loop(log, counts),
    ).fit()
    stats = json.loads(counts.read_text())
    return {"samples_per_s": throughput(log), "samples": samples_seen(log), **stats}


def peak_flops(device: str, given: float | None) -> tuple[str, float | None]:
    """The device's name and peak dense bf16 FLOP/s (`--peak-flops` wins over the table)."""
    if not device.startswith("cuda"):
        return platform.processor() or platform.machine(), given
    name = torch.cuda.get_device_name(torch.device(device))
    table = next((peak for key, peak in PEAK_BF16 if key in name), None)
    return name, given or table


def summarise(runs: list[dict], peak: float | None) -> dict:
    """Median samples/s and tokens/s over repeats, and MFU where the peak is known."""
    rate = statistics.median(r["samples_per_s"] for r in runs)
    per_sample = runs[0]["model_flops"] / runs[0]["samples"]
    return {
        "samples_per_s": [r["samples_per_s"] for r in runs],
        "median_samples_per_s": rate,
        "tokens_per_s": rate * runs[0]["tokens"] / runs[0]["samples"],
        "mfu": rate * per_sample / peak if peak else None,
    }


def main() -> None:
    """Run both sides, alternating, and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="base")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--log-every", type=int, default=25)
    parser.add_argument("--batch-size", type=int, default=512, help="global pairs per step")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--threads",
        type=int,
        default=min(4, os.cpu_count() or 1),
        help="torch threads on both sides",
    )
    parser.add_argument("--peak-flops", type=float, default=None, help="device peak bf16 FLOP/s")
    parser.add_argument("--out", help="JSON path (default: bench/results/gpu_bench[_SIZE].json)")
    args = parser.parse_args()
    use_gpu = args.device.startswith("cuda")
    if args.size != "tiny" and not (use_gpu and torch.cuda.is_available()):
        print("gpu bench: no CUDA device here; skipped (use --size tiny for a CPU smoke run)")
        return

    import ray
    import ray.cloudpickle

    # Ray workers cannot import bench/ modules: ship the helpers' code with the worker loop.
    ray.cloudpickle.register_pickle_by_value(train_bench)
    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="gpu-bench-"))
    job = bench_job(args, work)
    ray.init(include_dashboard=False, log_to_driver=False)
    local, remote = [], []
    for i in range(args.repeats):
        local.append(run_in_process(job, work / f"local-{i}.jsonl", args.device))
        if use_gpu:
            torch.cuda.empty_cache()  # leave the worker process the memory this one cached
        remote.append(
            run_under_ray(job, work / f"ray-{i}.jsonl", work, f"r{i}", use_gpu, args.threads)
        )
    ray.shutdown()
    device_name, peak = peak_flops(args.device, args.peak_flops)
    first = local[0]
    result = {
        "bench": "gpu_train_throughput",
        "date": time.strftime("%Y-%m-%d"),
        "device": device_name,
        "torch": torch.__version__,
        "size": args.size,
        "precision": "bf16 autocast" if use_gpu else "fp32",
        "batch_size": args.batch_size,
        "steps": args.steps,
        "max_text_length": SIZES[args.size]["length"],
        "torch_threads": args.threads,
        "encoder_params_non_embedding": first["encoder_params_non_embedding"],
        "tokens_per_sample": first["tokens"] / first["samples"],
        "real_token_share": first["real_tokens"] / first["tokens"],
        "model_flops_per_sample": first["model_flops"] / first["samples"],
        "peak_flops": peak,
        "in_process": summarise(local, peak),
        "ray_train": summarise(remote, peak),
    }
    result["ray_overhead"] = (
        1
        - result["ray_train"]["median_samples_per_s"] / result["in_process"]["median_samples_per_s"]
    )
    default = RESULTS / ("gpu_bench.json" if args.size == "base" else f"gpu_bench_{args.size}.json")
    out = Path(args.out or default)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    mfu = {k: result[k]["mfu"] for k in ("in_process", "ray_train")}
    mfu_text = (
        f"MFU {100 * mfu['in_process']:.1f} % vs {100 * mfu['ray_train']:.1f} %"
        if peak
        else "MFU n/a (unknown peak; pass --peak-flops)"
    )
    print(
        f"gpu train throughput ({args.size}, {device_name}, batch {args.batch_size}): in-process "
        f"{result['in_process']['median_samples_per_s']:.0f} samples/s, Ray Train "
        f"{result['ray_train']['median_samples_per_s']:.0f} samples/s, overhead "
        f"{100 * result['ray_overhead']:.1f} %, {mfu_text}"
    )


if __name__ == "__main__":
    main()
