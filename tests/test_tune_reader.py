"""The one reader of a Tune directory: its rules on a run written as Ray Tune 2.60 writes one."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.fs as pafs
import pytest

from analysis.raydir import ARMS_FILE, INTERRUPTED_FILE, TuneDir, read_trials, read_tune_dir
from analysis.tables import normalise_trials
from analysis.trial_errors import error_line

# error.txt of a trial whose Tune function failed pydantic validation (Ray 2.60, colours kept).
VALIDATION_ERROR = """Failure # 1 (occurred at 2026-12-01_01-03-57)
\x1b[36mray::ImplicitFunc.train()\x1b[39m (pid=11477, ip=192.0.2.2, repr=trial)
  File "/x/study/trial.py", line 19, in run_trial
    J(data_size=0)
pydantic_core._pydantic_core.ValidationError: 2 validation errors for TrainJob
data_size
  Input should be greater than or equal to 1 [type=greater_than_equal, input_value=0, input_type=int]
    For further information visit https://errors.pydantic.dev/2.14/v/greater_than_equal
arm
  Value error, unknown arm 'x' [type=value_error, input_value='x', input_type=str]
    For further information visit https://errors.pydantic.dev/2.14/v/value_error
"""
# error.txt of a trial whose Ray Train worker raised (the worker's snippet ends the text).
WORKER_ERROR = """Failure # 1 (occurred at 2026-12-01_01-04-11)
  File "/x/ray/train/v2/api/data_parallel_trainer.py", line 195, in fit
    raise result.error
ray.train.WorkerGroupError: Training failed due to worker errors:
[Rank 0 Error Snippet]:
\x1b[36mray::ImplicitFunc.train()\x1b[39m (pid=11476, ip=192.0.2.2, repr=trial)
  File "/x/trainers/model.py", line 15, in load_pretrained
    raise InputError("/m/model.json: invalid model config: embed_dim: too small")
trainers.errors.InputError: /m/model.json: invalid model config: embed_dim: too small
"""


def test_error_line_names_the_cause_in_one_line():
    assert error_line(VALIDATION_ERROR) == (
        "ValidationError: TrainJob: data_size: Input should be greater than or equal to 1 "
        "(got 0); arm: Value error, unknown arm 'x' (got 'x')"
    )
    assert error_line(WORKER_ERROR) == (
        "InputError: /m/model.json: invalid model config: embed_dim: too small"
    )
    assert error_line("Failure # 1\n\x1b[31mKeyboardInterrupt\x1b[0m\n") == "KeyboardInterrupt"
    assert error_line("worker died unexpectedly\n") == "worker died unexpectedly"
    assert error_line("\n") == "the error file is empty"


def _state(tune, trials: list[tuple[dict, dict]]) -> None:
    data = [[json.dumps(t), json.dumps(r)] for t, r in trials]
    (tune / "experiment_state-2026-12-01_00-00-00.json").write_text(
        json.dumps({"trial_data": data})
    )


def _trial(tune, trial_id, params, status, last=None, reports=(), error=None) -> tuple[dict, dict]:
    folder = tune / f"run_trial_{trial_id}"
    folder.mkdir()
    (folder / "params.json").write_text(json.dumps(params))
    (folder / "result.json").write_text("".join(json.dumps(r) + "\n" for r in reports))
    runtime = {"last_result": last or {}}
    if error is not None:
        (folder / "error.txt").write_text(error)
        runtime["error_filename"] = "error.txt"
    info = {"trial_id": trial_id, "config": params, "status": status}
    return {**info, "relative_logdir": folder.name}, runtime


@pytest.fixture
def run(tmp_path):
    """A study run's tune/ dir: finished, running (interrupted), pending and errored trials."""
    tune = tmp_path / "tune"
    tune.mkdir()
    hybrid = {"arm": "hybrid", "alpha": 0.5, "data_size": 100, "seed": 0}
    final = {"step": 8, "steps": 8, "final": 1, "loss": 1.2, "samples_seen": 256, "wall_s": 3.0,
             "cross.t2t.r1": 0.5, "cross.t2t.r1.lo": 0.4, "cross.t2t.r1.hi": 0.6,
             "per_language_file": "long.csv", "checkpoint_path": "/c", "trial_id": "a"}  # fmt: skip
    pretrained = {"arm": "pretrained", "alpha": None, "data_size": None, "seed": 0}
    _state(
        tune,
        [
            _trial(tune, "a", hybrid, "TERMINATED", final, [{"step": 4}, final]),
            # The state lags behind the trial's own reports (saved before the driver stopped).
            _trial(
                tune,
                "b",
                {**hybrid, "alpha": 1.0},
                "RUNNING",
                {"step": 2},
                [{"step": 2}, {"step": 6, "samples_seen": 192}],
            ),  # fmt: skip
            _trial(tune, "c", {**hybrid, "data_size": 50}, "PENDING"),
            _trial(tune, "d", pretrained, "ERROR", error=VALIDATION_ERROR),
        ],
    )
    pd.DataFrame({"metric": ["mono.t2i.r1"], "lang_a": ["de"], "lang_b": [None], "value": [0.3]}).to_csv(
        tune / "run_trial_a" / "long.csv", index=False
    )  # fmt: skip
    (tune / INTERRUPTED_FILE).write_text(json.dumps({"trials": ["b", "c"]}))
    arms = {"hybrid": {"label": "hybrid", "baseline": False},
            "pretrained": {"label": "pretrained", "baseline": True}}  # fmt: skip
    (tune / ARMS_FILE).write_text(json.dumps(arms))
    return tune


def test_records_follow_the_rules_through_any_pyarrow_filesystem(run):
    fs = pafs.SubTreeFileSystem(str(run.parent), pafs.LocalFileSystem())
    records = {r.trial_id: r for r in read_trials(TuneDir("tune", fs, where="s3://b/run/tune"))}
    a, b, c, d = (records[k] for k in "abcd")
    assert a.status == "TERMINATED" and a.steps == 8
    assert a.metrics() == {"cross.t2t.r1": 0.5, "cross.t2t.r1.lo": 0.4, "cross.t2t.r1.hi": 0.6}
    assert (b.status, b.steps, b.result["samples_seen"], b.metrics()) == ("INTERRUPTED", 6, 192, {})
    assert c.status == "PENDING"  # never started: nothing was interrupted
    assert d.status == "ERROR" and d.error.startswith("ValidationError: TrainJob: data_size: ")


def test_tables_carry_labels_roles_and_the_named_per_language_file(run):
    trials, long = read_tune_dir(TuneDir(run))
    table = normalise_trials(trials, str(run)).set_index("trial_id")
    assert list(table.columns[:7]) == [
        "arm",
        "label",
        "is_baseline",
        "alpha",
        "data_size",
        "seed",
        "status",
    ]
    assert table.loc["d", "is_baseline"] and not table.loc["a", "is_baseline"]
    assert table.loc["d", "data_size"] is pd.NA
    assert table.loc["a", "cross.t2t.r1.hi"] == 0.6 and np.isnan(table.loc["b", "cross.t2t.r1"])
    assert table.loc["b", "status"] == "INTERRUPTED"
    assert long[["trial_id", "metric", "value"]].values.tolist() == [["a", "mono.t2i.r1", 0.3]]


def test_tables_without_labels_fall_back_to_names_and_mix_ratios():
    old = pd.DataFrame(
        {"arm": ["hybrid", "hybrid", "clip", "pretrained"], "alpha": [0.0, 1.0, None, None],
         "data_size": [100, 100, 100, 0], "seed": 0, "acc": [0.1, 0.2, 0.3, 0.4]}
    )  # fmt: skip
    table = normalise_trials(old, "old.csv").set_index("arm")
    assert table["label"].to_dict() == {
        "clip": "clip",
        "hybrid": "hybrid",
        "pretrained": "pretrained",
    }
    assert table["is_baseline"].to_dict() == {"clip": True, "hybrid": False, "pretrained": True}
    assert table.loc["pretrained", "data_size"] is pd.NA  # 0, as older runs wrote it: no size
