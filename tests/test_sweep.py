"""The Tune sweep on the shared local Ray cluster: runs, errors, storage URIs, driver-kill resume."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from study.cli import main
from study.config import StudyConfig
from study.results import read_trials
from study.run_dir import TUNE_DIR
from study.storage import resolve_storage
from study.sweep import run_study

pytestmark = pytest.mark.ray

TOWER = {"hidden_size": 32, "layers": 1, "heads": 2, "vocab_size": 1200}


@pytest.fixture(scope="module")
def study_cache(tmp_path_factory) -> Path:
    """One cache (embedded corpus, tokenizer, features) shared by this module's studies."""
    return tmp_path_factory.mktemp("study-cache")


def study_raw(name: str, cache: Path, storage: str, **sections) -> dict:
    """A tiny 2-trial study (hybrid alpha 0.5 and clip at N=200) as a raw config dict."""
    raw = {
        "name": name,
        "data": {
            "synthetic": {"items": 300, "eval_items": 60, "seed": 0},
            "cache_dir": str(cache),
        },
        "model": {"text_tower": TOWER, "image_tower": TOWER, "embed_dim": 32},
        "train": {"batch_size": 32, "budget": {"steps": 8}, "checkpoint_every": 4},
        "sweep": {"data_sizes": [200], "mix_ratios": [0.5], "arms": ["hybrid", "clip"]},
        "resources": {"max_concurrent_trials": 1, "storage": storage, "max_failures": 0},
        "eval": {"block_size": 256},
        "analysis": {"bootstrap": 0},
    }
    for key, value in sections.items():
        raw[key] = {**raw[key], **value}
    return raw


def _status(run: str, capsys) -> str:
    capsys.readouterr()  # drop Tune's progress tables
    assert main(["status", run]) == 0
    return capsys.readouterr().out


def _scalar_steps(events: Path) -> dict[str, list[int]]:
    """tag -> steps of a TensorBoard event file (TFRecord framing: length, crc, event, crc)."""
    from tensorboardX.proto import event_pb2

    data, at, steps = events.read_bytes(), 0, {}
    while at < len(data):
        (size,) = struct.unpack("<Q", data[at : at + 8])
        event = event_pb2.Event.FromString(data[at + 12 : at + 12 + size])
        at += 12 + size + 4
        for value in event.summary.value:
            steps.setdefault(value.tag, []).append(event.step)
    return steps


def test_two_trial_sweep_on_a_file_uri(ray_cluster, study_cache, capsys):
    import mlflow

    root = ray_cluster / "uri-store"
    raw = study_raw("pair", study_cache, f"file://{root}", resources={"max_concurrent_trials": 2})
    raw["tracking"] = "mlflow"
    cfg = StudyConfig.model_validate(raw)
    capsys.readouterr()
    outcome = run_study(cfg)
    console = capsys.readouterr().out

    assert (outcome.run, outcome.trials, outcome.errored) == (str(root / "pair"), 2, 0)
    # One line per trial start and end, with a running count, headline metrics and times.
    lines = console.splitlines()
    assert sum(" start " in line for line in lines) == 2, console
    ends = [
        line for line in lines if line.startswith(("[1/2] ", "[2/2] ")) and " start " not in line
    ]
    assert len(ends) == 2 and {e.split(":")[0].split("] ")[1] for e in ends} == {
        "hybrid a=0.5 N=200 s=0",
        "clip N=200 s=0",
    }, console
    assert all("mono.t2i.r1 0." in e and "cross.t2t.r1 0." in e and "elapsed" in e for e in ends)
    assert "Trial status" not in console  # Ray's periodic table only with --verbose
    # Training curves: TensorBoard scalars per training step in each trial's dir under the run.
    for trial_dir in (root / "pair" / TUNE_DIR).glob("*-N200-*"):
        (events,) = trial_dir.glob("events.out.tfevents.*")
        steps = _scalar_steps(events)
        assert steps["ray/tune/loss"][:8] == list(range(1, 9)), steps["ray/tune/loss"]
        assert {"ray/tune/lr", "ray/tune/temperature_it", "ray/tune/samples_per_s"} <= set(steps)
    # MLflow: one run per trial in the run's local file store, with parameters and metrics.
    mlflow.set_tracking_uri((root / "pair" / "mlruns").as_uri())
    runs = mlflow.search_runs(experiment_names=["pair"])
    assert sorted(runs["params.arm"]) == ["clip", "hybrid"]
    assert set(runs["params.data_size"]) == {"200"} and (runs["status"] == "FINISHED").all()
    assert runs["metrics.cross.t2t.r1"].between(0, 1).all()
    per_trial = json.loads((root / "pair" / "timings.json").read_text())["per_trial"]
    assert len(per_trial) == 2
    for split in per_trial.values():
        assert split["train_s"] > 0 and split["eval_s"] > 0
        assert split["startup_s"] + split["train_s"] + split["eval_s"] == pytest.approx(
            split["wall_s"], abs=0.05
        )
    trials = pd.read_parquet(root / "pair" / "results" / "trials.parquet")
    assert sorted(trials["arm"]) == ["clip", "hybrid"]
    assert (trials["status"] == "TERMINATED").all() and (trials["steps"] == 8).all()
    assert trials["cross.t2t.r1"].between(0, 1).all()
    long = pd.read_parquet(root / "pair" / "results" / "per_language.parquet")
    assert set(long["trial_id"]) == set(trials["trial_id"])
    assert outcome.report is not None and outcome.report.exists()
    status = _status(f"file://{root}/pair", capsys)
    assert status.count("TERMINATED") == 2 and "2 terminated" in status
    # One-worker CPU trials train in their Tune trial process; their checkpoints export as well.
    export = root / "exports" / "best"
    assert main(["best", f"file://{root}/pair", "--export", str(export)]) == 0
    assert (export / "model.json").is_file() and (export / "metrics.json").is_file()


def test_failing_trial_is_errored_with_its_reason_and_the_other_finishes(
    ray_cluster, study_cache, capsys
):
    # lambda = 1e38 overflows L_it + lambda * L_tt in float32 for the hybrid arm only (the clip
    # arm has no text-text term): a planted non-finite loss. Two workers per trial: these trials
    # run through Ray Train (TorchTrainer inside the Tune trial).
    raw = study_raw(
        "planted",
        study_cache,
        str(ray_cluster),
        train={"text_text_weight": 1e38},
        resources={"workers_per_trial": 2, "max_concurrent_trials": 1},
    )
    outcome = run_study(StudyConfig.model_validate(raw))

    assert (outcome.trials, outcome.errored) == (2, 1)
    status = _status(str(ray_cluster / "planted"), capsys)
    lines = status.splitlines()
    hybrid = next(i for i, line in enumerate(lines) if " hybrid " in line)
    assert "ERROR" in lines[hybrid]
    assert "non-finite loss at step 1 of 8" in lines[hybrid + 1]
    assert any(" clip " in line and "TERMINATED" in line for line in lines)


def _final_trials(storage_dir: Path, name: str) -> list:
    try:
        records = read_trials(resolve_storage(str(storage_dir)), f"{name}/{TUNE_DIR}")
    except Exception:  # noqa: BLE001 - the experiment state may not exist yet
        return []
    return [r for r in records if r.status == "TERMINATED"]


def _result_lines(storage_dir: Path, name: str, dirname: str) -> list[dict]:
    path = storage_dir / name / TUNE_DIR / dirname / "result.json"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_killed_driver_rerun_keeps_the_finished_trial_and_completes_the_rest(
    ray_cluster, study_cache, tmp_path, capsys
):
    import ray

    storage = ray_cluster / "kill-store"
    raw = study_raw("killed", study_cache, str(storage), train={"budget": {"steps": 40}})
    config = tmp_path / "killed.yaml"
    config.write_text(yaml.safe_dump(raw))
    address = ray.get_runtime_context().gcs_address
    driver = subprocess.Popen(
        [sys.executable, "-m", "study", "run", str(config), "--address", address],
        env={**os.environ, "RAY_AUTH_MODE": "disabled"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 240
    while not _final_trials(storage, "killed") and driver.poll() is None:
        assert time.monotonic() < deadline, "no trial finished within 240 s"
        time.sleep(0.5)
    assert driver.poll() is None, "the driver ended before it could be killed"
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    (done,) = _final_trials(storage, "killed")
    before = _result_lines(storage, "killed", done.dirname)

    outcome = run_study(StudyConfig.model_validate(raw))

    assert (outcome.trials, outcome.errored) == (2, 0)
    after = _final_trials(storage, "killed")
    assert len(after) == 2 and all(r.last_result["steps"] == 40 for r in after)
    assert _result_lines(storage, "killed", done.dirname) == before  # not retrained
    assert "2 terminated" in _status(str(storage / "killed"), capsys)
