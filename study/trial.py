"""One Tune trial: build and fit a TorchTrainer for (arm, alpha, N, seed), then report once."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ray import tune
from ray.tune.integration.ray_train import TuneReportCallback

from study.errors import StudyError
from trainers.checkpoint import PER_LANGUAGE_FILE
from trainers.errors import describe_validation
from trainers.job import TrainJob
from trainers.ray_train import build_torch_trainer

PARAM_KEYS = ("arm", "alpha", "data_size", "seed")


def run_trial(config: dict[str, Any], *, base_job: dict[str, Any], launch: dict[str, Any]) -> None:
    """The Tune function: one Ray Train run whose name is the trial id (so a restart resumes it).

    The final report names the trial's per-language table (`per_language_file`, a file in the
    trial dir), so readers of the run learn its name from the run.
    """
    ctx = tune.get_context()
    params = {key: config[key] for key in PARAM_KEYS}
    try:
        job = TrainJob(**base_job, **params)
    except ValidationError as exc:
        # One line for `study status`, not pydantic's block with its documentation URL.
        raise StudyError(f"trial {params}: {describe_validation(exc)}") from None
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
                final["per_language_file"] = PER_LANGUAGE_FILE
        final["checkpoint_path"] = checkpoint.path
    tune.report({**final, "final": 1})
