"""One Tune trial: train (arm, alpha, N, seed) in the trial process or through Ray Train, report once.

A one-worker CPU trial runs the train loop inside its Tune trial process: a Ray Train worker group
would only add its start-up to every trial. Multi-worker and GPU trials build a `TorchTrainer`
whose run name is the trial id, so a restarted trial resumes its Train run.
"""

from __future__ import annotations

import shutil
from contextlib import nullcontext
from pathlib import Path, PurePosixPath
from typing import Any

import torch
from pydantic import ValidationError
from ray import tune
from ray.tune.integration.ray_train import TuneReportCallback

from study.errors import StudyError
from trainers.checkpoint import PER_LANGUAGE_FILE
from trainers.errors import describe_validation
from trainers.job import TrainJob
from trainers.loop import run_training
from trainers.ray_train import build_torch_trainer, with_tune_step

PARAM_KEYS = ("arm", "alpha", "data_size", "seed")


class TuneReporter:
    """Forwards the loop's reports to Tune; Tune persists each checkpoint dir into the run."""

    def report(self, metrics: dict, checkpoint_dir: str | None) -> None:
        """Report one result (and checkpoint) of this trial."""
        checkpoint = tune.Checkpoint.from_directory(checkpoint_dir) if checkpoint_dir else None
        tune.report(with_tune_step(metrics), checkpoint=checkpoint)


def runs_in_trial(launch: dict[str, Any]) -> bool:
    """True when a trial trains in its own process: one worker, no GPU."""
    return launch["num_workers"] == 1 and not launch["use_gpu"]


def _train_in_trial(job: TrainJob, launch: dict[str, Any]) -> tuple[dict, Any, str | None]:
    """Run the loop here, resuming from the trial's latest checkpoint.

    Returns the final metrics, the final checkpoint (as Tune persisted it, inside the trial dir)
    and where in the trial dir its per-language table is.
    """
    cpus = launch["resources_per_worker"]["CPU"]
    torch.set_num_threads(max(1, int(cpus)))
    resume = tune.get_checkpoint()
    with resume.as_directory() if resume is not None else nullcontext() as resume_dir:
        # The trial's CPUs, not the machine's, set the default loader-worker count (as on Ray Train).
        final = run_training(
            job, device="cpu", reporter=TuneReporter(), resume_dir=resume_dir, cpus=cpus
        )
    checkpoint = tune.get_checkpoint()
    # A reused trial process has no trial dir of its own to write to, but the checkpoint is in it.
    table = f"{PurePosixPath(checkpoint.path).name}/{PER_LANGUAGE_FILE}" if checkpoint else None
    return final, checkpoint, table


def _train_with_ray_train(job: TrainJob, launch: dict[str, Any]) -> tuple[dict, Any, str | None]:
    """Fit a TorchTrainer named after the trial; final metrics, checkpoint, per-language table
    (copied into the trial dir: the Train run's checkpoints live elsewhere)."""
    ctx = tune.get_context()
    trainer = build_torch_trainer(
        job, name=ctx.get_trial_id(), callbacks=[TuneReportCallback()], **launch
    )
    result = trainer.fit()
    checkpoint, table = result.checkpoint, None
    if checkpoint is not None:
        with checkpoint.as_directory() as ckpt_dir:
            source = Path(ckpt_dir) / PER_LANGUAGE_FILE
            if source.is_file():
                shutil.copyfile(source, Path(ctx.get_trial_dir()) / PER_LANGUAGE_FILE)
                table = PER_LANGUAGE_FILE
    return dict(result.metrics or {}), checkpoint, table


def run_trial(config: dict[str, Any], *, base_job: dict[str, Any], launch: dict[str, Any]) -> None:
    """The Tune function: one training run, then one final report with the checkpoint path.

    The final report names the trial's per-language table (`per_language_file`, a path inside
    the trial dir), so readers of the run learn where it is from the run.
    """
    params = {key: config[key] for key in PARAM_KEYS}
    try:
        job = TrainJob(**base_job, **params)
    except ValidationError as exc:
        # One line for `study status`, not pydantic's block with its documentation URL.
        raise StudyError(f"trial {params}: {describe_validation(exc)}") from None
    train = _train_in_trial if runs_in_trial(launch) else _train_with_ray_train
    final, checkpoint, table = train(job, launch)
    if table is not None:
        final["per_language_file"] = table
    if checkpoint is not None:
        final["checkpoint_path"] = checkpoint.path
    tune.report({**final, "final": 1})
