"""A study's best trial by one metric, and the export of its final model as a self-contained dir."""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs

from analysis.metrics import lower_is_better
from analysis.raydir import TrialRecord
from study.errors import StudyError
from study.results import run_trials
from study.run_dir import TRAIN_DIR, TUNE_DIR, RunLocation, locate_run
from study.storage import resolve_storage
from trainers.checkpoint import JOB_FILE, MODEL_DIR, PER_LANGUAGE_FILE
from trainers.metric_names import check_metric_name

DEFAULT_METRIC = "cross.t2t.r1"
# Files of a final checkpoint copied next to the model (the exported model is its `model/` dir).
CHECKPOINT_EXTRAS = (PER_LANGUAGE_FILE, JOB_FILE)
METRICS_FILE, PARAMS_FILE = "metrics.json", "params.json"


@dataclass(frozen=True)
class BestTrial:
    """The winning trial of a run under one metric and direction."""

    record: TrialRecord
    run: RunLocation
    metric: str
    mode: str
    value: float
    candidates: int  # finished trials it was chosen from

    trial_id = property(lambda self: self.record.trial_id)
    params = property(lambda self: self.record.params)

    def summary(self) -> dict[str, Any]:
        """What metrics.json records: the choice, the trial and all its final metrics."""
        last = self.record.result
        return {
            "run": self.run.uri,
            "trial_id": self.trial_id,
            "params": self.params,
            "metric": self.metric,
            "mode": self.mode,
            "value": self.value,
            "chosen_from": self.candidates,
            **{k: last.get(k) for k in ("steps", "samples_seen", "wall_s", "accel_s")},
            "checkpoint_path": last.get("checkpoint_path"),
            "metrics": {k: None if math.isnan(v) else v for k, v in self.record.metrics().items()},
        }


def default_mode(metric: str) -> str:
    """'min' for metrics where lower is better, else 'max'."""
    return "min" if lower_is_better(metric) else "max"


def _value(record: TrialRecord, metric: str) -> float | None:
    value = record.metrics().get(metric)
    return None if value is None or math.isnan(value) else float(value)


def best_trial(
    run: str | RunLocation,
    metric: str = DEFAULT_METRIC,
    mode: str | None = None,
    arm: str | None = None,
) -> BestTrial:
    """The finished trial with the best `metric` (`mode` max/min, default by metric) in `arm`."""
    check_metric_name(metric)
    loc = run if isinstance(run, RunLocation) else locate_run(run)
    mode = mode or default_mode(metric)
    if mode not in ("max", "min"):
        raise StudyError(f"mode '{mode}': expected 'max' or 'min'; pass --mode max|min")
    records = run_trials(loc.storage, loc.name)
    if arm is not None:
        arms = sorted({str(r.params.get("arm")) for r in records})
        records = [r for r in records if r.params.get("arm") == arm]
        if not records:
            raise StudyError(
                f"{loc.uri}: arm '{arm}' has no trials (arms: {', '.join(arms)}); pass one of them"
            )
    finished = [r for r in records if r.finished]
    if not finished:
        states = ", ".join(sorted({r.status.lower() for r in records})) or "no trials"
        raise StudyError(
            f"{loc.uri}: no finished trial{f' of arm {arm}' if arm else ''} yet ({states}); "
            f"see `study status {loc.uri}`"
        )
    scored = [(v, r) for r in finished if (v := _value(r, metric)) is not None]
    if not scored:
        raise StudyError(
            f"{loc.uri}: metric '{metric}' has no value in any finished trial (text-only "
            "corpus?); pass another --metric"
        )
    sign = 1.0 if mode == "max" else -1.0
    # Ties go to the smaller data size, then the lower trial id: deterministic and frugal.
    value, record = max(
        scored,
        key=lambda vr: (sign * vr[0], -(vr[1].params.get("data_size") or 0), vr[1].trial_id),
    )
    return BestTrial(record, loc, metric, mode, value, len(finished))


def _checkpoint(best: BestTrial) -> tuple[pafs.FileSystem, str]:
    """The filesystem and path of the trial's final checkpoint (the one holding `model/`)."""
    path = best.record.result.get("checkpoint_path") or ""
    storage = best.run.storage
    candidates = []
    if "://" in path:
        with contextlib.suppress(pa.ArrowInvalid, OSError):
            candidates.append(pafs.FileSystem.from_uri(path))
    elif path:
        candidates.append((storage.fs, path))  # Ray reports it in the storage filesystem's form
    if path:
        # A run moved or copied elsewhere keeps the checkpoint in its own tree: under train/
        # (Ray Train trials) or in the Tune trial dir (trials that train in their own process).
        name = path.rstrip("/").rsplit("/", 1)[-1]
        for parent in (f"{TRAIN_DIR}/{best.trial_id}", f"{TUNE_DIR}/{best.record.dirname}"):
            candidates.append((storage.fs, storage.join(best.run.name, parent, name)))
    for fs, ckpt in candidates:
        if fs.get_file_info(f"{ckpt}/{MODEL_DIR}/model.json").type == pafs.FileType.File:
            return fs, ckpt
    raise StudyError(
        f"trial {best.trial_id}: final checkpoint missing "
        f"({path or 'its final report has no checkpoint_path'}); keep the run's {TRAIN_DIR}/ dir "
        "with it, or re-run the trial"
    )


def _unwritable(out: str, exc: OSError) -> StudyError:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return StudyError(f"{out}: cannot write the export ({reason}); choose a new, writable path")


def export_best(
    run: str | RunLocation,
    out: str,
    *,
    metric: str = DEFAULT_METRIC,
    mode: str | None = None,
    arm: str | None = None,
) -> BestTrial:
    """Copy the best trial's exported model (+ metrics.json, params.json) to `out` (path or URI)."""
    dest = resolve_storage(out)
    if dest.exists():
        raise StudyError(f"{out}: export dir already exists; choose a new path or remove it")
    best = best_trial(run, metric, mode, arm)
    fs, ckpt = _checkpoint(best)
    # Stage next to a local destination so the final rename is atomic (no half-written export).
    try:
        local_parent = Path(dest.root).parent if dest.is_local else None
        if local_parent is not None:
            local_parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=".export-", dir=local_parent))
    except OSError as exc:
        raise _unwritable(out, exc) from None
    try:
        pafs.copy_files(f"{ckpt}/{MODEL_DIR}", str(stage), source_filesystem=fs)
        for extra in CHECKPOINT_EXTRAS:
            if fs.get_file_info(f"{ckpt}/{extra}").type == pafs.FileType.File:
                pafs.copy_files(f"{ckpt}/{extra}", str(stage / extra), source_filesystem=fs)
        (stage / METRICS_FILE).write_text(json.dumps(best.summary(), indent=2) + "\n")
        (stage / PARAMS_FILE).write_text(json.dumps(best.params, indent=2) + "\n")
        if dest.is_local:
            stage.chmod(0o755)  # mkdtemp makes it private; an export is meant to be shared
            os.rename(stage, dest.root)
        else:
            dest.upload(stage)
    except OSError as exc:
        raise _unwritable(out, exc) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return best
