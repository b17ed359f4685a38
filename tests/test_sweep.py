"""The Tune sweep on the shared local Ray cluster: every arm on Hugging Face towers, errors,
storage URIs, interrupted and killed drivers."""

from __future__ import annotations

import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from transformers import (
    CLIPVisionConfig,
    CLIPVisionModel,
    SiglipConfig,
    SiglipImageProcessor,
    SiglipModel,
    XLMRobertaConfig,
    XLMRobertaModel,
)

from analysis.errors import InputError
from study.cli import main
from study.config import StudyConfig
from study.data.sources import resolve_corpora
from study.results import run_trials
from study.run_dir import TUNE_DIR
from study.storage import resolve_storage
from study.sweep import run_study
from trainers.config import ModelConfig, TowerConfig
from trainers.corpus import open_corpus
from trainers.model import build_model
from trainers.tokenizer import corpus_tokenizer, load_tokenizer

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


@pytest.fixture(scope="module")
def hf_dirs(study_cache, tmp_path_factory) -> dict[str, Path]:
    """Hugging Face model dirs written with `save_pretrained` from small configs (no download):
    an XLM-R text tower with the corpus's tokenizer, a full SigLIP and a CLIP vision tower, and
    an export (XLM-R + CLIP vision) for the pretrained arm."""
    root = tmp_path_factory.mktemp("hf")
    cfg = StudyConfig.model_validate(study_raw("hf", study_cache, str(root)))
    train_dir, _ = resolve_corpora(cfg)
    tok = load_tokenizer(corpus_tokenizer(open_corpus(train_dir), 1200, root / "tok"))
    torch.manual_seed(0)
    small = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
             "num_attention_heads": 2}  # fmt: skip
    xlmr = XLMRobertaConfig(
        vocab_size=len(tok), max_position_embeddings=40, pad_token_id=tok.pad_token_id, **small
    )
    XLMRobertaModel(xlmr).save_pretrained(root / "xlmr")
    tok.save_pretrained(str(root / "xlmr"))
    vision = {**small, "image_size": 32, "patch_size": 8}
    siglip = SiglipConfig(text_config={**small, "vocab_size": 64}, vision_config=vision)
    SiglipModel(siglip).save_pretrained(root / "siglip")
    SiglipImageProcessor(size={"height": 32, "width": 32}).save_pretrained(str(root / "siglip"))
    CLIPVisionModel(CLIPVisionConfig(**vision)).save_pretrained(root / "clipv")
    model_cfg = ModelConfig(
        text_tower=TowerConfig(source=str(root / "xlmr")),
        image_tower=TowerConfig(source=str(root / "clipv")),
        embed_dim=32,
    )
    model, model_tok = build_model(model_cfg, seed=0)
    model.save_pretrained(root / "export", model_tok)
    return {name: root / name for name in ("xlmr", "siglip", "clipv", "export")}


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


def test_every_arm_runs_on_hugging_face_towers(ray_cluster, study_cache, hf_dirs, capsys):
    """hybrid (two alphas), clip, clip-en and pretrained on file:// storage: XLM-R text and full
    SigLIP image towers for the trained arms, an XLM-R + CLIP vision export for pretrained.
    One-worker CPU trials train in their Tune trial process; the console prints a line per trial
    start and end; TensorBoard curves and MLflow runs land in the run."""
    import mlflow

    root = ray_cluster / "uri-store"
    model = {
        "text_tower": {"source": str(hf_dirs["xlmr"])},
        "image_tower": {"source": str(hf_dirs["siglip"])},
        "embed_dim": 32,
    }
    arms = ["hybrid", "clip", "clip-en", "pretrained"]
    raw = study_raw(
        "arms",
        study_cache,
        f"file://{root}",
        sweep={"mix_ratios": [0.0, 0.5], "arms": arms, "pretrained_from": str(hf_dirs["export"])},
        resources={"max_concurrent_trials": 2},
    )
    raw["model"] = model
    raw["tracking"] = "mlflow"
    capsys.readouterr()
    outcome = run_study(StudyConfig.model_validate(raw))
    console = capsys.readouterr().out

    assert (outcome.run, outcome.trials, outcome.errored) == (str(root / "arms"), 5, 0)
    # One line per trial start and end, with a running count, headline metrics and times.
    titles = {"hybrid a=0 N=200 s=0", "hybrid a=0.5 N=200 s=0", "clip N=200 s=0"}
    titles |= {"clip-en N=200 s=0", "pretrained s=0"}
    lines = console.splitlines()
    assert {line.split(" start ")[1] for line in lines if " start " in line} == titles, console
    ends = [line for line in lines if line.startswith("[") and " start " not in line]
    assert {e.split("] ", 1)[1].split(":")[0] for e in ends} == titles, console
    assert {e.split("]")[0] for e in ends} == {f"[{k}/5" for k in range(1, 6)}, console
    assert all("mono.t2i.r1 0." in e and "cross.t2t.r1 0." in e and "elapsed" in e for e in ends)
    assert "Trial status" not in console  # Ray's periodic table only with --verbose
    # Training curves: TensorBoard scalars per training step in each trained trial's dir.
    for trial_dir in (root / "arms" / TUNE_DIR).glob("*-N200-*"):
        (events,) = trial_dir.glob("events.out.tfevents.*")
        steps = _scalar_steps(events)
        assert steps["ray/tune/loss"][:8] == list(range(1, 9)), steps["ray/tune/loss"]
        assert {"ray/tune/lr", "ray/tune/temperature_it", "ray/tune/samples_per_s"} <= set(steps)
    # MLflow: one run per trial in the run's local file store, with parameters and metrics.
    mlflow.set_tracking_uri((root / "arms" / "mlruns").as_uri())
    runs = mlflow.search_runs(experiment_names=["arms"])
    assert sorted(runs["params.arm"]) == sorted(
        ["hybrid", "hybrid", "clip", "clip-en", "pretrained"]
    )
    assert (runs["status"] == "FINISHED").all() and runs["metrics.cross.t2t.r1"].between(0, 1).all()
    # timings.json: each trial's wall time split into start-up, training and evaluation.
    per_trial = json.loads((root / "arms" / "timings.json").read_text())["per_trial"]
    assert sorted(t["trial"] for t in per_trial.values()) == sorted(titles)
    for split in per_trial.values():
        assert split["eval_s"] > 0 and (split["train_s"] > 0) == (
            split["trial"] != "pretrained s=0"
        )
        assert split["startup_s"] + split["train_s"] + split["eval_s"] == pytest.approx(
            split["wall_s"], abs=0.05
        )
    trials = pd.read_parquet(root / "arms" / "results" / "trials.parquet").set_index("arm")
    assert sorted(trials.index) == sorted(["hybrid", "hybrid", "clip", "clip-en", "pretrained"])
    assert (trials["status"] == "TERMINATED").all() and trials["cross.t2t.r1"].between(0, 1).all()
    assert trials.loc["pretrained", "data_size"] is pd.NA and trials.loc["pretrained", "steps"] == 0
    assert (trials.drop(index="pretrained")["steps"] == 8).all()
    assert trials.loc["clip-en", "label"] == "CLIP (en)" and trials.loc["clip-en", "is_baseline"]
    assert not trials.loc["hybrid", "is_baseline"].any()
    long = pd.read_parquet(root / "arms" / "results" / "per_language.parquet")
    assert set(long["trial_id"]) == set(trials["trial_id"])
    report = outcome.report.read_text()
    for series in ("hybrid α=0 (cross-only)", "hybrid α=0.5", "CLIP", "CLIP (en)", "pretrained"):
        assert f"| {series} |" in report, series
    data = json.loads((root / "arms" / "results" / "data.json").read_text())
    assert data["train"]["num_items"] > data["eval"]["num_items"] > 0
    assert f"Data: train {data['train']['name']}, {data['train']['num_items']:,} items" in report

    run = f"file://{root}/arms"
    status = _status(run, capsys)
    assert "5 terminated" in status
    assert all(any(f" {arm} " in line for line in status.splitlines()) for arm in arms)
    export = root / "exports" / "pretrained"
    assert main(["best", run, "--arm", "pretrained", "--export", str(export)]) == 0
    row = capsys.readouterr().out.splitlines()[3].split()  # run, choice, header, the trial
    assert row[1:5] == ["pretrained", "-", "-", "0"]
    assert (export / "model.json").is_file() and (export / "metrics.json").is_file()


def test_failing_trials_end_the_run_non_zero_with_one_line_causes(
    ray_cluster, study_cache, hf_dirs, tmp_path, capsys
):
    # lambda = 1e38 overflows L_it + lambda * L_tt in float32 for the hybrid arm only (the clip
    # arm has no text-text term): a planted non-finite loss. The pretrained arm's export holds
    # a model config that fails validation (embed_dim 1 < 2). Two workers per trial: these
    # trials run through Ray Train (a TorchTrainer inside each Tune trial).
    export = tmp_path / "bad-export"
    shutil.copytree(hf_dirs["export"], export)
    meta = json.loads((export / "model.json").read_text())
    meta["config"]["embed_dim"] = 1
    (export / "model.json").write_text(json.dumps(meta))
    raw = study_raw(
        "planted",
        study_cache,
        str(ray_cluster),
        train={"text_text_weight": 1e38},
        sweep={"arms": ["hybrid", "clip", "pretrained"], "pretrained_from": str(export)},
        resources={"workers_per_trial": 2, "max_concurrent_trials": 1},
    )
    config = tmp_path / "planted.yaml"
    config.write_text(yaml.safe_dump(raw))

    assert main(["run", str(config)]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == (
        f"error: 2 of 3 trials ended in error; see why with `study status {ray_cluster / 'planted'}`"
    )
    lines = _status(str(ray_cluster / "planted"), capsys).splitlines()
    hybrid = next(i for i, line in enumerate(lines) if " hybrid " in line)
    assert "ERROR" in lines[hybrid]
    assert "NonFiniteLossError: non-finite loss at step 1 of 8" in lines[hybrid + 1]
    pretrained = next(i for i, line in enumerate(lines) if " pretrained " in line)
    assert "ERROR" in lines[pretrained]
    cause = lines[pretrained + 1]
    assert (
        "invalid model config: embed_dim: Input should be greater than or equal to 2 (got 1)"
        in cause
    )
    assert str(export / "model.json") in cause and "errors.pydantic.dev" not in cause
    assert sum(line.strip().startswith("error: ") for line in lines) == 2
    assert any(" clip " in line and "TERMINATED" in line for line in lines)


def _trials(storage_dir: Path, name: str, status: str = "TERMINATED") -> list:
    try:
        records = run_trials(resolve_storage(str(storage_dir)), name)
    except InputError:  # the experiment state may not exist yet
        return []
    return [r for r in records if r.status == status]


def _result_lines(storage_dir: Path, name: str, dirname: str) -> list[dict]:
    path = storage_dir / name / TUNE_DIR / dirname / "result.json"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _driver_once(config: Path, storage: Path, name: str, finished: int) -> subprocess.Popen:
    """`study run CONFIG` in its own process, returned once `finished` trials are done and
    another one runs."""
    import ray

    address = ray.get_runtime_context().gcs_address
    driver = subprocess.Popen(
        [sys.executable, "-m", "study", "run", str(config), "--address", address],
        env={**os.environ, "RAY_AUTH_MODE": "disabled"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while not (len(_trials(storage, name)) >= finished and _trials(storage, name, "RUNNING")):
        assert driver.poll() is None, "the driver ended before it could be stopped"
        assert time.monotonic() < deadline, f"{finished} trials did not finish within 300 s"
        time.sleep(0.5)
    return driver


def test_interrupted_or_killed_driver_keeps_finished_trials_and_a_rerun_resumes_the_rest(
    ray_cluster, study_cache, tmp_path, capsys
):
    """Ctrl-C (SIGINT) to `study run` once a trial finished: the running trial shows as
    INTERRUPTED in `study status` and the results table. A second run resumes it and is killed
    (SIGKILL) in turn; a third completes the study, never retraining a finished trial."""
    storage = ray_cluster / "interrupt-store"
    raw = study_raw(
        "stopped", study_cache, str(storage), train={"budget": {"steps": 40}},
        sweep={"mix_ratios": [0.5, 1.0]},
    )  # fmt: skip
    config = tmp_path / "stopped.yaml"
    config.write_text(yaml.safe_dump(raw))

    driver = _driver_once(config, storage, "stopped", finished=1)
    driver.send_signal(signal.SIGINT)
    assert driver.wait(timeout=180) == 130
    status = _status(str(storage / "stopped"), capsys)  # Tune has not created the third yet
    assert "1 interrupted, 1 terminated" in status and "RUNNING" not in status
    table = pd.read_parquet(storage / "stopped" / "results" / "trials.parquet")
    assert sorted(table["status"]) == ["INTERRUPTED", "TERMINATED"]

    driver = _driver_once(config, storage, "stopped", finished=2)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    done = _trials(storage, "stopped")
    before = {r.dirname: _result_lines(storage, "stopped", r.dirname) for r in done}

    outcome = run_study(StudyConfig.model_validate(raw))

    assert (outcome.trials, outcome.errored, outcome.interrupted) == (3, 0, 0)
    after = _trials(storage, "stopped")
    assert len(after) == 3 and all(r.steps == 40 for r in after)
    assert {d: _result_lines(storage, "stopped", d) for d in before} == before  # not retrained
    assert "3 terminated" in _status(str(storage / "stopped"), capsys)
