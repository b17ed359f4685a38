"""The Ray Train wrapper: a 2-worker gloo TorchTrainer trains, reports, checkpoints and resumes."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import ray.train
from conftest import TIMING_KEYS

from trainers.checkpoint import MODEL_DIR, PER_LANGUAGE_FILE
from trainers.ray_train import RayReporter, build_torch_trainer, train_loop_per_worker

pytestmark = pytest.mark.ray

LAUNCH = {"num_workers": 2, "use_gpu": False, "resources_per_worker": {"CPU": 1}}


@pytest.fixture(scope="module")
def ray_job(tiny_job):
    return tiny_job(
        budget={"steps": 12}, frozen=False, train={"checkpoint_every": 5, "log_every": 1}
    )


@pytest.fixture(scope="module")
def uninterrupted(ray_cluster, ray_job):
    trainer = build_torch_trainer(
        ray_job, name="plain", storage_path=str(ray_cluster), max_failures=0, **LAUNCH
    )
    return trainer.fit()


def test_two_workers_train_report_and_checkpoint(uninterrupted):
    metrics = uninterrupted.metrics
    assert metrics["final"] == 1 and metrics["steps"] == 12
    assert metrics["loss"] > 0 and 0 <= metrics["cross.t2t.r1"] <= 1
    with uninterrupted.checkpoint.as_directory() as ckpt:
        assert (Path(ckpt) / PER_LANGUAGE_FILE).is_file()
        assert (Path(ckpt) / MODEL_DIR / "model.json").is_file()
    steps = [m["step"] for m in uninterrupted.metrics_dataframe.to_dict("records")]
    assert steps == [10, 12]  # num_to_keep=2: the latest two of 5, 10, 12


def test_killed_worker_resumes_from_its_checkpoint_to_the_same_end(
    ray_cluster, ray_job, uninterrupted, tmp_path
):
    """SIGKILL rank 0 as it reports step 8 (checkpoint at 5): FailureConfig restarts the
    worker group, which resumes from step 5 and ends exactly like the uninterrupted run."""
    steps_log = tmp_path / "steps.txt"

    class KillAtStep8(RayReporter):
        def report(self, metrics: dict, checkpoint_dir: str | None) -> None:
            with steps_log.open("a") as out:
                out.write(f"{os.getpid()} {metrics['step']}\n")
            if metrics["step"] == 8 and not steps_log.with_suffix(".killed").exists():
                steps_log.with_suffix(".killed").touch()
                os.kill(os.getpid(), signal.SIGKILL)
            super().report(metrics, checkpoint_dir)

    def fragile_loop(config: dict) -> None:
        if ray.train.get_context().get_world_rank() == 0:
            train_loop_per_worker(config, reporter=KillAtStep8())
        else:
            train_loop_per_worker(config)

    trainer = build_torch_trainer(
        ray_job,
        name="killed-worker",
        storage_path=str(ray_cluster),
        max_failures=1,
        train_loop=fragile_loop,
        **LAUNCH,
    )
    result = trainer.fit()

    runs: dict[str, list[int]] = {}
    for line in steps_log.read_text().splitlines():
        pid, step = line.split()
        runs.setdefault(pid, []).append(int(step))
    first, second = runs.values()
    # The new attempt reports its resume at step 5 at once, then redoes steps 6-8.
    assert first == list(range(1, 9)) and second == [5, *range(6, 13)]
    assert result.metrics["attempts"] == 2
    expected = {k: v for k, v in uninterrupted.metrics.items() if k not in TIMING_KEYS}
    assert {k: v for k, v in result.metrics.items() if k not in TIMING_KEYS} == expected
