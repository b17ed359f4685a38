"""One Tune trial: build and fit a TorchTrainer for (arm, alpha, N, seed), then report once."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ray import tune
from ray.tune.integration.ray_train import TuneReportCallback

from trainers.checkpoint import PER_LANGUAGE_FILE
from trainers.job import TrainJob
from trainers.ray_train import build_torch_trainer


def run_trial(config: dict[str, Any], *, base_job: dict[str, Any], launch: dict[str, Any]) -> None:
    """The Tune function: one Ray Train run whose name is the trial id (so a restart resumes it)."""
    ctx = tune.get_context()
    job = TrainJob(
        **base_job,
        arm=config["arm"],
        alpha=config["alpha"],
        data_size=config["data_size"],
        seed=config["seed"],
    )
    trainer = build_torch_trainer(
        job, name=ctx.get_trial_id(), callbacks=[TuneReportCallback()], **launch
    )
    result = trainer.fit()
    final = dict(result.metrics or {})
    checkpoint = result.checkpoint
    if checkpoint is not None:
        with checkpoint.as_directory() as ckpt_dir:
            table = Path(ckpt_dir) / PER_LANGUAGE_FILE
            if table.is_file():
                shutil.copyfile(table, Path(ctx.get_trial_dir()) / PER_LANGUAGE_FILE)
        final["checkpoint_path"] = checkpoint.path
    tune.report({**final, "final": 1})
