"""A sweep on a local multi-node Ray cluster (docs/cluster.md) survives losing a worker node.

Head with no CPUs (trial drivers take TRAIN_DRIVER), two 1-CPU worker nodes, shared storage. One
worker node is killed while its trial trains; Tune retries that trial from its newest checkpoint
on the other node and every trial ends with the metrics of an undisturbed run. Runs in its own
pytest process (`-m cluster`, see scripts/test.sh): it needs a Ray cluster of its own.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import psutil
import pytest
import ray
from conftest import TIMING_KEYS
from ray._private import ray_constants
from ray.cluster_utils import Cluster

from study.config import StudyConfig
from study.data.sources import resolve_corpora
from study.plan import expand_grid
from study.run_dir import TUNE_DIR
from study.sweep import base_job, run_study
from trainers.job import TrainJob
from trainers.loop import run_training

pytestmark = pytest.mark.cluster

TOWER = {"hidden_size": 32, "layers": 1, "heads": 2, "vocab_size": 1200}
TIMING = (*TIMING_KEYS, "checkpoint_path")


@pytest.fixture(scope="module")
def cluster():
    """Head (0 CPUs, TRAIN_DRIVER) and two 1-CPU worker nodes; yields (cluster, workers)."""
    os.environ["RAY_AUTH_MODE"] = "disabled"
    nodes = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 0, "resources": {"TRAIN_DRIVER": 8}}
    )
    workers = [nodes.add_node(num_cpus=1) for _ in range(2)]
    nodes.wait_for_nodes()
    ray.init(address=nodes.address)
    yield nodes, workers
    ray.shutdown()
    nodes.shutdown()


def _study(tmp: Path) -> dict:
    return {
        "name": "nodes",
        "data": {"synthetic": {"items": 300, "eval_items": 60, "seed": 0}, "cache_dir": str(tmp)},
        "model": {"text_tower": TOWER, "image_tower": TOWER, "embed_dim": 32},
        "train": {"batch_size": 32, "budget": {"steps": 300}, "checkpoint_every": 25},
        "sweep": {"data_sizes": [200], "mix_ratios": [0.5], "arms": ["hybrid", "clip"]},
        "resources": {"max_concurrent_trials": 2, "storage": str(tmp / "runs"), "max_failures": 2},
        "eval": {"block_size": 256},
        "analysis": {"bootstrap": 0},
    }


def _node_of(pid: int, workers) -> object | None:
    """The worker node whose raylet started process `pid`."""
    raylets = {
        w.all_processes[ray_constants.PROCESS_TYPE_RAYLET][0].process.pid: w for w in workers
    }
    for parent in psutil.Process(pid).parents():
        if parent.pid in raylets:
            return raylets[parent.pid]
    return None


def _checkpointed_trial_pid(tune_dir: Path) -> int | None:
    """The pid of a trial that has persisted a checkpoint and is still training."""
    for trial in tune_dir.glob("*/"):
        if not list(trial.glob("checkpoint_*")) or not (trial / "result.json").is_file():
            continue
        reports = [json.loads(x) for x in (trial / "result.json").read_text().splitlines() if x]
        if reports and not reports[-1].get("final") and reports[-1]["step"] < 250:
            return int(reports[-1]["pid"])
    return None


def test_sweep_survives_a_killed_worker_node(cluster, tmp_path, capsys):
    nodes, workers = cluster
    cfg = StudyConfig.model_validate(_study(tmp_path))
    outcome: dict = {}
    sweep = threading.Thread(target=lambda: outcome.update(done=run_study(cfg)))
    sweep.start()

    tune_dir = tmp_path / "runs" / "nodes" / TUNE_DIR
    deadline = time.monotonic() + 300
    while (pid := _checkpointed_trial_pid(tune_dir)) is None:
        assert sweep.is_alive() and time.monotonic() < deadline, "no trial checkpointed in time"
        time.sleep(0.2)
    victim = _node_of(pid, workers)
    assert victim is not None
    nodes.remove_node(victim, allow_graceful=False)
    sweep.join(timeout=600)
    assert not sweep.is_alive()

    done = outcome["done"]
    assert (done.trials, done.errored) == (2, 0)
    console = capsys.readouterr().out
    assert "retrying" in console and "resumed on node" in console, console

    # Every trial ends exactly as an undisturbed run of the same job (the loop in-process).
    train_dir, eval_dir = resolve_corpora(cfg)
    job = base_job(cfg, train_dir, eval_dir)
    finals = {}
    for trial in tune_dir.glob("*/"):
        reports = [json.loads(x) for x in (trial / "result.json").read_text().splitlines() if x]
        finals[json.loads((trial / "params.json").read_text())["arm"]] = reports[-1]
    attempts = {arm: r["attempts"] for arm, r in finals.items()}
    assert sorted(attempts.values()) == [1, 2], attempts  # the victim's trial resumed once
    for spec in expand_grid(cfg):
        expected = run_training(TrainJob(**job, **spec.as_params()))
        got = finals[spec.arm]
        for key, value in expected.items():
            if key not in TIMING:
                assert got[key] == value, (spec.arm, key)
