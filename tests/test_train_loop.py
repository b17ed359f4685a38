"""The plain-PyTorch train loop in-process: it learns, resumes exactly, and fails loudly."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from conftest import CORPUS_EVAL_ITEMS

from trainers.checkpoint import MODEL_DIR, PER_LANGUAGE_FILE
from trainers.loop import NonFiniteLossError, run_training
from trainers.model import load_pretrained
from trainers.reporting import LocalReporter

TIMING_KEYS = ("wall_s", "accel_s", "samples_per_s", "data_wait_s", "data_wait_share")


def _without_timing(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if k not in TIMING_KEYS}


def test_training_lowers_loss_and_lifts_retrieval_far_above_chance(tiny_job, tmp_path):
    job = tiny_job(
        budget={"epochs": 10},
        frozen=False,
        train={"optimizer": {"lr": 3e-3, "warmup_fraction": 0.1}},
        eval={"every": 40, "max_items": 50},
    )
    reporter = LocalReporter(tmp_path / "checkpoints")
    final = run_training(job, reporter=reporter, out_dir=str(tmp_path / "out"))

    periodic, last = reporter.reports[:-1], reporter.reports[-1]
    assert last == final and final["final"] == 1
    assert final["steps"] == 10 * 13 and final["samples_seen"] == 10 * 400
    assert final["accel_s"] == 0.0 and final["wall_s"] > 0
    assert periodic and all("cross.t2t.r1" in r and r["step"] % 40 == 0 for r in periodic)
    assert final["loss"] < 0.9 * periodic[0]["loss"]
    chance = 1 / CORPUS_EVAL_ITEMS
    assert final["mono.t2i.r10"] > 2 * (10 * chance)
    assert final["cross.t2t.r1"] > 10 * chance

    table = pd.read_csv(tmp_path / "out" / PER_LANGUAGE_FILE)
    assert list(table.columns) == ["metric", "lang_a", "lang_b", "value"]
    assert len(reporter.checkpoints) == 1  # checkpoint_every = 0: the final one only
    ckpt = reporter.checkpoints[0]
    assert (ckpt / PER_LANGUAGE_FILE).is_file()
    model, _ = load_pretrained(ckpt / MODEL_DIR)
    assert model.config == job.model


@pytest.mark.parametrize("workers", [0, 2])
def test_resume_from_a_checkpoint_matches_the_uninterrupted_run(tiny_job, tmp_path, workers):
    """Loader workers prepare batches ahead of the step; the checkpoint at step 5 must hold the
    sampler state of the 5 batches trained on, so a resume with any worker count continues
    with the same batches."""
    job = tiny_job(
        budget={"steps": 12},
        frozen=False,
        train={"checkpoint_every": 5, "loader_workers": workers},
    )
    full = LocalReporter(tmp_path / "full")
    expected = run_training(job, reporter=full)
    assert [r["step"] for r in full.reports] == [5, 10, 12]
    assert all(0 <= r["data_wait_share"] <= 1 and r["data_wait_s"] >= 0 for r in full.reports)

    for resume_workers in (workers, 2 - workers):
        torch.manual_seed(12345)  # the resumed run must restore, not inherit, the RNG state
        resumed = LocalReporter(tmp_path / f"resumed-{resume_workers}")
        train = job.train.model_copy(update={"loader_workers": resume_workers})
        got = run_training(
            job.model_copy(update={"train": train}),
            reporter=resumed,
            resume_dir=str(full.checkpoints[0]),
        )
        assert [r["step"] for r in resumed.reports] == [10, 12]
        assert _without_timing(resumed.reports[0]) == _without_timing(full.reports[1])
        assert _without_timing(got) == _without_timing(expected)


def test_non_finite_loss_fails_naming_the_step(tiny_job):
    job = tiny_job(budget={"steps": 20}, train={"optimizer": {"lr": 1e30, "warmup_fraction": 0}})
    with pytest.raises(NonFiniteLossError, match=r"non-finite loss at step \d+ of 20: .*L_it="):
        run_training(job)
