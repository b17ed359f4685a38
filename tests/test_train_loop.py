"""The plain-PyTorch train loop in-process: it learns, resumes exactly, and fails loudly."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch
from conftest import CORPUS_EVAL_ITEMS, TIMING_KEYS
from torch.nn.modules.module import register_module_forward_hook

from trainers.checkpoint import MODEL_DIR, PER_LANGUAGE_FILE, load_state
from trainers.encoder import Encoder
from trainers.features import ensure_image_features
from trainers.loop import NonFiniteLossError, run_training
from trainers.model import load_pretrained
from trainers.reporting import LocalReporter


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
    evals = [r for r in periodic if "cross.t2t.r1" in r]
    assert [r["step"] for r in evals] == [40, 80, 120]
    # Without train.log_every, about 10 progress reports per run: every 130 // 10 = 13 steps.
    progress = sorted({r["step"] for r in periodic} - {40, 80, 120})
    assert progress == list(range(13, 130, 13))
    assert all({"loss", "lr", "temperature_it", "samples_per_s"} <= set(r) for r in periodic)
    assert final["loss"] < 0.9 * periodic[0]["loss"]
    chance = 1 / CORPUS_EVAL_ITEMS
    assert final["mono.t2i.r10"] > 2 * (10 * chance)
    assert final["cross.t2t.r1"] > 10 * chance
    aggregates = [k for k in final if "." in k and not k.endswith((".lo", ".hi"))]
    for name in aggregates:  # eval.bootstrap (default 1000): a 95 % interval of each
        assert final[f"{name}.lo"] <= final[name] <= final[f"{name}.hi"], name

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
        train={"checkpoint_every": 5, "log_every": 0, "loader_workers": workers},
        eval={"bootstrap": 0},
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
        # A resumed run first says which attempt it is and where it resumes.
        assert resumed.reports[0] == {"step": 5, "attempt": 2, "resumed_from_step": 5}
        assert [r["step"] for r in resumed.reports[1:]] == [10, 12]
        assert _without_timing(resumed.reports[1]) == _without_timing(full.reports[1])
        assert _without_timing(got) == _without_timing(expected)
        assert (expected["attempts"], got["attempts"]) == (1, 2)
        # Training and evaluation seconds add up over the attempts.
        before = load_state(full.checkpoints[0])["seconds"]
        assert before["train_s"] > 0 and got["train_s"] > before["train_s"]
        assert "cross.t2t.r1" in got and not any(k.endswith((".lo", ".hi")) for k in got)


def test_non_finite_loss_fails_naming_the_step(tiny_job):
    job = tiny_job(budget={"steps": 20}, train={"optimizer": {"lr": 1e30, "warmup_fraction": 0}})
    with pytest.raises(NonFiniteLossError, match=r"non-finite loss at step \d+ of 20: .*L_it="):
        run_training(job)


def test_pretrained_arm_evaluates_an_export_as_is_without_data_or_steps(tiny_job, tmp_path):
    trained = LocalReporter(tmp_path / "trained")
    first = run_training(tiny_job(budget={"steps": 3}), reporter=trained)
    export = trained.checkpoints[-1] / MODEL_DIR
    job = tiny_job(
        budget={"steps": 3},
        arm="pretrained",
        alpha=None,
        data_size=None,
        pretrained_from=str(export),
    )
    reporter = LocalReporter(tmp_path / "pretrained")
    got = run_training(job, reporter=reporter)

    assert (got["steps"], got["samples_seen"], got["final"]) == (0, 0, 1)
    aggregates = {k for k in first if "." in k}
    assert {k: round(got[k], 4) for k in aggregates} == {k: round(first[k], 4) for k in aggregates}
    assert (reporter.checkpoints[-1] / MODEL_DIR / "model.json").is_file()


def test_samples_budget_is_met_within_one_batch_despite_short_last_batches(tiny_job):
    # 100 items in batches of 32: every epoch ends in a batch of 4.
    final = run_training(tiny_job(budget={"samples": 400}, data_size=100))
    assert 400 <= final["samples_seen"] < 400 + 32


class LinearDtypes:
    """Dtypes of every nn.Linear output, split by whether it ran under inference mode (encoding)."""

    def __enter__(self):
        self.seen = {"train": set(), "encode": set()}

        def hook(module, args, output):
            if isinstance(module, torch.nn.Linear):
                self.seen["encode" if torch.is_inference_mode_enabled() else "train"].add(
                    output.dtype
                )

        self.handle = register_module_forward_hook(hook)
        return self.seen

    def __exit__(self, *exc):
        self.handle.remove()


@pytest.mark.parametrize(
    ("precision", "dtype"),
    [("fp32", torch.float32), ("bf16", torch.bfloat16), ("auto", torch.float32)],
)
def test_train_precision_governs_training_evaluation_and_the_exports_encoder(
    tiny_job, tmp_path, precision, dtype
):
    job = tiny_job(budget={"steps": 2}, train={"precision": precision})
    for corpus in (job.train_corpus, job.eval_corpus):  # cached first: computed apart, in fp32
        ensure_image_features(job.model, corpus, job.cache_dir, device="cpu")
    reporter = LocalReporter(tmp_path)
    with LinearDtypes() as seen:
        run_training(job, reporter=reporter, device="cpu")
    # On a CPU, auto is fp32 and bf16 autocasts all the same (the torch CPU autocast).
    assert seen == {"train": {dtype}, "encode": {dtype}}

    export = reporter.checkpoints[-1] / MODEL_DIR
    assert json.loads((export / "model.json").read_text())["precision"] == precision
    for asked, want in ((None, dtype), ("fp32", torch.float32), ("bf16", torch.bfloat16)):
        encoder = Encoder.load(export, device="cpu", precision=asked)
        with LinearDtypes() as seen:
            texts = encoder.encode_texts(["a red circle"])
        assert seen["encode"] == {want} and texts.dtype == "float32"
