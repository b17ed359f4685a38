"""The thin Ray Train (V2) wrapper: one trial = one TorchTrainer run of `trainers.loop`."""

from __future__ import annotations

from collections.abc import Callable

import ray.train
from ray.train import Checkpoint, CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
from ray.train.torch import TorchConfig, TorchTrainer, get_device

from trainers.job import TrainJob
from trainers.loop import run_training
from trainers.reporting import Reporter


def with_tune_step(metrics: dict) -> dict:
    """A report whose x-axis in Tune's loggers (TensorBoard) is the training step."""
    return {**metrics, "timesteps_total": metrics["step"]}


class RayReporter:
    """Forwards reports to `ray.train.report`; a checkpoint dir is persisted during the call."""

    def report(self, metrics: dict, checkpoint_dir: str | None) -> None:
        """Report on this worker (every worker must call it the same number of times)."""
        checkpoint = Checkpoint.from_directory(checkpoint_dir) if checkpoint_dir else None
        ray.train.report(with_tune_step(metrics), checkpoint=checkpoint)


def train_loop_per_worker(config: dict, reporter: Reporter | None = None) -> None:
    """Ray Train worker entry: rebuild the job, resume from the latest checkpoint if any, train."""
    job = TrainJob.model_validate(config["job"])
    ctx = ray.train.get_context()
    kwargs = {
        "rank": ctx.get_world_rank(),
        "world_size": ctx.get_world_size(),
        "device": get_device(),
        "reporter": reporter or RayReporter(),
        "cpus": ray.get_runtime_context().get_assigned_resources().get("CPU"),
    }
    checkpoint = ray.train.get_checkpoint()
    if checkpoint is None:
        run_training(job, **kwargs)
        return
    with checkpoint.as_directory() as resume_dir:
        run_training(job, resume_dir=resume_dir, **kwargs)


def build_torch_trainer(
    job: TrainJob,
    *,
    name: str,
    storage_path: str,
    num_workers: int,
    use_gpu: bool,
    resources_per_worker: dict,
    max_failures: int,
    num_to_keep: int = 2,
    callbacks: list | None = None,
    train_loop: Callable[[dict], None] = train_loop_per_worker,
) -> TorchTrainer:
    """A TorchTrainer for `job` (gloo on CPU, NCCL on GPU); the same name and storage resume it.

    `train_loop` defaults to `train_loop_per_worker`; tests pass wrappers of it (e.g. one that
    fails once after a checkpoint).
    """
    return TorchTrainer(
        train_loop,
        train_loop_config={"job": job.model_dump(mode="json")},
        torch_config=TorchConfig(backend="nccl" if use_gpu else "gloo"),
        scaling_config=ScalingConfig(
            num_workers=num_workers, use_gpu=use_gpu, resources_per_worker=resources_per_worker
        ),
        run_config=RunConfig(
            name=name,
            storage_path=storage_path,
            failure_config=FailureConfig(max_failures=max_failures),
            checkpoint_config=CheckpointConfig(num_to_keep=num_to_keep),
            callbacks=callbacks,
        ),
    )
