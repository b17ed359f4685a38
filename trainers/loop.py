"""The train loop: plain PyTorch, in-process (world size 1) or as one DDP rank of many.

Per step: this rank's pairs from the sampler, prepared ahead by loader workers
(`trainers.input_pipeline`) -> one forward of all their texts (and image features or pixels) ->
L = L_it + lambda * L_tt over the global batch -> AdamW step with gradient clipping and the
warm-up + cosine schedule. Reports go to a `Reporter` every `eval.every` steps (cheap metrics),
every `train.checkpoint_every` steps (with a checkpoint) and once at the end (full evaluation,
final checkpoint with an exported model); each says how long the steps waited for data.
torch.distributed must already be initialised when world_size > 1 (Ray Train does it).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from trainers.checkpoint import (
    PER_LANGUAGE_FILE,
    gather_rank_states,
    rng_state,
    trainable_state,
    write_checkpoint,
)
from trainers.evaluation import evaluate_embeddings
from trainers.evaluation.encode import encode_corpus
from trainers.input_pipeline import (
    BatchPreparer,
    BatchStream,
    PreparedBatch,
    default_loader_workers,
)
from trainers.job import TrainJob
from trainers.loss import clamp_logit_scale, contrastive_loss
from trainers.precision import autocast
from trainers.reporting import Reporter
from trainers.run_setup import RunSetup, setup_run

log = logging.getLogger(__name__)


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite; the message names the step and the loss terms."""


def _batch_stream(
    run: RunSetup, job: TrainJob, use_it: bool, use_tt: bool, device, cpus: float | None
) -> BatchStream | None:
    """The run's remaining batches, prepared by `train.loader_workers` processes (None for an
    arm that does not train)."""
    if run.sampler is None:
        return None
    model = run.model
    unfrozen = run.train_features is None and model.image_tower is not None
    preparer = BatchPreparer(
        job.train_corpus,
        run.tokenizer,
        model.config.max_text_length,
        use_it=use_it,
        use_tt=use_tt,
        image_size=model.image_tower.image_size if unfrozen else None,
        features=run.train_features,
        tokens=run.train_tokens,
    )
    workers = job.train.loader_workers
    workers = default_loader_workers(cpus) if workers is None else workers
    count = run.steps - run.step
    return BatchStream(run.sampler, preparer, count, workers=workers if count else 0, device=device)


def _pair_embeddings(run: RunSetup, net, prepared: PreparedBatch):
    """(image, caption of each image, text a, text b, scale_it, scale_tt) for one rank's pairs."""
    p, q = prepared.p, prepared.q
    images = {}
    if prepared.features is not None:
        images["image_features"] = prepared.features
    elif prepared.pixels is not None:
        images["pixel_values"] = run.model.image_tower.preprocess(prepared.pixels)
    enc = {"input_ids": prepared.input_ids, "attention_mask": prepared.attention_mask}
    text, image, scale_it, scale_tt = net(**enc, **images)
    text = text[prepared.text_index]
    if image is None:
        image = text.new_zeros(0, text.shape[1])
    return image, text[:p], text[p : p + q], text[p + q : p + 2 * q], scale_it, scale_tt


class _Tally:
    """Loss sums, sample counts and data waits since the last report, reduced over ranks on demand;
    this attempt's training and waiting seconds."""

    def __init__(self, world_size: int):
        self.world_size = world_size
        # loss, L_it, L_tt, steps, samples, seconds waiting for data
        self.sums = torch.zeros(6, dtype=torch.float64)
        self.clock = time.perf_counter()
        self.train_s = self.wait_s = 0.0

    def restart_clock(self) -> None:
        """Start timing training afresh (after an evaluation or a checkpoint)."""
        self.clock = time.perf_counter()

    def add(self, loss: float, l_it: float, l_tt: float, samples: int, wait_s: float) -> None:
        self.sums += torch.tensor([loss, l_it, l_tt, 1.0, samples, wait_s], dtype=torch.float64)

    def flush(self) -> tuple[dict, int]:
        """Mean global loss terms and throughput since the last flush, and the samples seen."""
        elapsed = time.perf_counter() - self.clock
        sums, self.sums = self.sums, torch.zeros_like(self.sums)
        if self.world_size > 1:
            dist.all_reduce(sums)
            sums[:3] /= self.world_size  # each rank's loss is 1/W of the global (trainers.loss)
            sums[5] /= self.world_size  # the mean rank's wait
        steps, wait = sums[3].item(), sums[5].item()
        self.train_s, self.wait_s = self.train_s + elapsed, self.wait_s + wait
        means = {}
        if steps:
            means = {
                k: sums[i].item() / steps for i, k in enumerate(("loss", "loss_it", "loss_tt"))
            }
            means["samples_per_s"] = sums[4].item() / max(elapsed, 1e-9)
            means["data_wait_s"], means["data_wait_share"] = wait, wait / max(elapsed, 1e-9)
        return means, int(sums[4].item())


def _every(step: int, period: int) -> bool:
    return period > 0 and step % period == 0


def run_training(
    job: TrainJob,
    *,
    rank: int = 0,
    world_size: int = 1,
    device: str | torch.device | None = None,
    reporter: Reporter | None = None,
    resume_dir: str | None = None,
    out_dir: str | None = None,
    cpus: float | None = None,
) -> dict:
    """Train one trial (the pretrained arm only evaluates) and return its final metrics.

    `resume_dir`: a checkpoint of this job to continue from exactly. `out_dir`: where
    per_language.csv goes (the final checkpoint holds it too). `cpus`: this worker's CPUs (the
    default `train.loader_workers` is one fewer; default: the CPUs this process may use).
    Ranks other than 0 return {}.
    """
    started = time.perf_counter()
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    run = setup_run(job, rank=rank, world_size=world_size, device=device, resume_dir=resume_dir)
    model, optimizer, schedule = run.model, run.optimizer, run.schedule
    net = model
    if world_size > 1:
        ids = [device.index] if device.type == "cuda" else None
        # Some steps leave parameters unused (no text-text pair, the CLIP arms' L_tt scale).
        net = DistributedDataParallel(model, device_ids=ids, find_unused_parameters=True)
    params = [p for p in model.parameters() if p.requires_grad]
    lam, use_it, use_tt = (
        job.text_text_weight,
        run.train_corpus.has_images,
        job.text_text_weight > 0,
    )
    tally = _Tally(world_size)
    seconds = dict(run.seconds)  # training (from the tally) and evaluation time over all attempts
    stream = _batch_stream(run, job, use_it, use_tt, device, cpus)

    def evaluate(items: np.ndarray | None):
        began = time.perf_counter()
        arrays = encode_corpus(
            model,
            run.tokenizer,
            run.eval_corpus,
            features=run.eval_features,
            items=items,
            device=device,
            precision=job.train.precision,
        )
        result = evaluate_embeddings(
            **arrays, protocol=job.eval.protocol, block_size=job.eval.block_size, device=device
        )
        seconds["eval_s"] += time.perf_counter() - began
        return result

    def report(metrics: dict, checkpoint: bool, per_language=None) -> None:
        """Send a report; with `checkpoint`, rank 0 attaches a dir that lives during the call."""
        sampler = stream.sampler_state() if stream is not None else None
        ranks = (
            gather_rank_states({"sampler": sampler, "rng": rng_state()}, world_size)
            if checkpoint
            else None
        )
        if rank != 0:
            if reporter is not None:
                reporter.report(metrics, None)
            return
        log.info("step %d/%d: %s", run.step, run.steps, metrics)
        if reporter is None:
            return
        ckpt = None
        if checkpoint:
            state = {
                "model": trainable_state(model),
                "optimizer": optimizer.state_dict(),
                "schedule": schedule.state_dict(),
                "ranks": ranks,
                "step": run.step,
                "samples_seen": run.samples_seen,
                "wall_s": run.wall_s + time.perf_counter() - started,
                "seconds": dict(seconds),
                "attempt": run.attempt,
            }
            ckpt = tempfile.mkdtemp(prefix=f"checkpoint-{run.step}-")
            write_checkpoint(
                ckpt,
                state=state,
                model=model,
                tokenizer=run.tokenizer,
                job_json=job.model_dump_json(),
                per_language=per_language,
                precision=job.train.precision,
            )
        try:
            reporter.report(metrics, ckpt)
        finally:
            if ckpt is not None:
                shutil.rmtree(ckpt, ignore_errors=True)

    def progress() -> dict:
        means, samples = tally.flush()
        run.samples_seen += samples
        seconds["train_s"] = run.seconds["train_s"] + tally.train_s
        return {
            "step": run.step,
            "samples_seen": run.samples_seen,
            **means,
            "lr": schedule.get_last_lr()[0],
            "temperature_it": float(torch.exp(-model.log_scale_it.detach())),
            "temperature_tt": float(torch.exp(-model.log_scale_tt.detach())),
        }

    log_period = job.train.log_period(run.steps)
    if resume_dir is not None:
        # A resumed run says so at once: which attempt, from which step.
        report({"step": run.step, "attempt": run.attempt, "resumed_from_step": run.step}, False)
    model.train()
    tally.restart_clock()
    while run.step < run.steps:
        prepared = stream.next()
        with autocast(job.train.precision, device):
            image, text_it, text_a, text_b, scale_it, scale_tt = _pair_embeddings(
                run, net, prepared
            )
            zero = scale_it.new_zeros(())
            l_it = contrastive_loss(image, text_it, scale_it) if use_it else zero
            l_tt = contrastive_loss(text_a, text_b, scale_tt) if use_tt else zero
            loss = l_it + lam * l_tt
        if not torch.isfinite(loss):
            raise NonFiniteLossError(
                f"non-finite loss at step {run.step + 1} of {run.steps}: loss={loss.item()} "
                f"(L_it={l_it.item()}, L_tt={l_tt.item()}, lambda={lam}); lower "
                f"train.optimizer.lr (now {job.train.optimizer.lr}) or check the data"
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, job.train.optimizer.grad_clip)
        optimizer.step()
        schedule.step()
        clamp_logit_scale(model.log_scale_it)
        clamp_logit_scale(model.log_scale_tt)
        run.step += 1
        samples = len(prepared.batch.it_items)
        tally.add(loss.item(), l_it.item(), l_tt.item(), samples, stream.wait_s)
        checkpoint = _every(run.step, job.train.checkpoint_every) and run.step < run.steps
        cheap_eval = _every(run.step, job.eval.every) and run.step < run.steps
        log_only = _every(run.step, log_period) and run.step < run.steps
        if checkpoint or cheap_eval or log_only:
            metrics = progress()
            if cheap_eval and rank == 0:
                items = None
                if job.eval.max_items:
                    items = np.arange(min(job.eval.max_items, run.eval_corpus.num_items))
                metrics.update(evaluate(items).aggregates)
            report(metrics, checkpoint)
            tally.restart_clock()

    metrics = progress()
    if stream is not None:
        stream.close()
    wait = {"data_wait_s": tally.wait_s, "data_wait_share": tally.wait_s / max(tally.train_s, 1e-9)}
    result = evaluate(None) if rank == 0 else None
    wall = run.wall_s + time.perf_counter() - started
    if result is not None:
        accel = wall * world_size if device.type == "cuda" else 0.0
        metrics.update(result.aggregates)
        metrics.update(result.intervals(job.eval.bootstrap))
        metrics.update(**wait, final=1, steps=run.step, wall_s=wall, accel_s=accel)
        metrics.update(seconds, attempts=run.attempt)
        if out_dir is not None:
            Path(out_dir).mkdir(parents=True, exist_ok=True)
            result.long.to_csv(Path(out_dir) / PER_LANGUAGE_FILE, index=False)
    report(metrics, True, per_language=result.long if result is not None else None)
    return metrics if rank == 0 else {}
