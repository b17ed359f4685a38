"""The one reader of a Ray Tune experiment directory, local or remote (a pyarrow filesystem).

`study status`, `study best`, the results tables and `study analyze` all read a run through it,
by these rules:
- trials: those of the newest `experiment_state-*.json` (id, parameters, status, last result,
  error file); without a state (a copied run), the trial dirs holding a `params.json`;
- a trial's result is its final report (`final: 1`) when it sent one, else its last report
  (Tune's last result, or the last line of `result.json` while it runs);
- metrics: the numeric keys of the final report whose name holds a dot (`cross.t2t.r1`, and
  interval columns such as `cross.t2t.r1.lo` / `.hi`); other keys are bookkeeping;
- steps: `steps` of the final report, else `step` of the last one;
- status: TERMINATED once the final report exists; INTERRUPTED for a trial the driver left
  running when it was interrupted (listed in `interrupted.json`); else Tune's status, or
  without a state one guessed from the files (ERROR with an error file, RUNNING with reports);
- error (ERROR trials): one line naming the cause (`analysis.trial_errors.error_line`);
- labels: `arms.json` (written by `study run`: per arm its label and whether it is a baseline)
  gives the `label` and `is_baseline` of each trial;
- the per-language table: the file the final report names in `per_language_file`.
"""

from __future__ import annotations

import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.fs as pafs

from analysis.errors import InputError
from analysis.trial_errors import error_line

TUNE_DIR = "tune"  # where a study run keeps its Tune experiment
ARMS_FILE, INTERRUPTED_FILE = "arms.json", "interrupted.json"  # written by `study run`
PARAM_KEYS = ("arm", "alpha", "data_size", "seed")
PER_LANGUAGE_COLUMNS = ("metric", "lang_a", "lang_b", "value")
_TRIAL_ID = re.compile(r"_([0-9a-f]{5}_\d{5})_")
_UNFINISHED = ("RUNNING", "PENDING", "PAUSED")


@dataclass
class TrialRecord:
    """One trial as its run last recorded it."""

    trial_id: str
    params: dict[str, Any]
    status: str
    dirname: str
    result: dict[str, Any] = field(default_factory=dict)  # final report, else the last one
    error: str = ""

    @property
    def finished(self) -> bool:
        """True when the trial's final report (with all metrics) arrived."""
        return bool(self.result.get("final"))

    @property
    def steps(self) -> int | None:
        """Optimiser steps done: the final report's count, else the last report's step."""
        return self.result.get("steps", self.result.get("step"))

    def reported_metrics(self) -> dict[str, float]:
        """The metrics of the trial's latest report (numeric keys with a dot): periodic
        evaluations while it runs, every aggregate once it finished."""
        return {
            k: v
            for k, v in self.result.items()
            if "." in k and isinstance(v, (int, float)) and not isinstance(v, bool)
        }

    def metrics(self) -> dict[str, float]:
        """The aggregate metrics of the final report; {} before it."""
        return self.reported_metrics() if self.finished else {}


class TuneDir:
    """A Tune experiment directory in a filesystem (local by default)."""

    def __init__(self, path: str | os.PathLike, fs: pafs.FileSystem | None = None, where=None):
        self.fs = fs or pafs.LocalFileSystem()
        self.path = str(path).rstrip("/")
        self.where = where or self.path  # how users name it, for messages

    def join(self, *parts: str) -> str:
        """A path inside the experiment."""
        return "/".join([self.path, *parts])

    def read_text(self, *parts: str) -> str | None:
        """A file's text, or None where it does not exist."""
        try:
            with self.fs.open_input_stream(self.join(*parts)) as stream:
                return stream.read().decode("utf-8", errors="replace")
        except (FileNotFoundError, OSError):
            return None

    def read_json(self, *parts: str) -> Any:
        """A JSON file, None where it does not exist, an InputError where it is corrupt."""
        text = self.read_text(*parts)
        if text is None:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{self.where}/{'/'.join(parts)}: cannot read JSON ({exc.msg}); fix or remove it"
            ) from None

    def listing(self) -> list[pafs.FileInfo]:
        """The entries directly inside the experiment directory."""
        try:
            return self.fs.get_file_info(pafs.FileSelector(self.path))
        except (FileNotFoundError, OSError):
            raise InputError(f"{self.where}: not a study run (no Tune experiment)") from None


def tune_root(run: Path) -> Path:
    """The Tune experiment directory of a run: `<run>/tune` in a study run, else the run itself."""
    return run / TUNE_DIR if (run / TUNE_DIR).is_dir() else run


def trial_dirs(run: Path) -> list[Path]:
    """Local trial directories of a Tune experiment, in name order."""
    return sorted(p.parent for p in tune_root(run).glob("*/params.json"))


def read_reports(tune: TuneDir, dirname: str) -> list[dict]:
    """The JSON-lines reports of a trial; a last line cut short by a running trial is skipped."""
    text = tune.read_text(dirname, "result.json")
    lines = (text or "").split("\n")
    reports = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            reports.append(json.loads(line))
        except json.JSONDecodeError as exc:
            if number == len(lines):
                break
            raise InputError(
                f"{tune.where}/{dirname}/result.json:{number}: not a JSON report ({exc.msg}); "
                "fix or remove that line"
            ) from None
    return reports


def _state_trials(tune: TuneDir, state: str) -> list[TrialRecord]:
    """Trials of an experiment state file, with Tune's status and last result."""
    data = tune.read_json(state)
    try:
        pairs = [(json.loads(t), json.loads(r)) for t, r in data["trial_data"]]
    except (KeyError, TypeError, ValueError):
        raise InputError(f"{tune.where}/{state}: not a Tune experiment state") from None
    records = []
    for trial, runtime in pairs:
        record = TrialRecord(
            trial_id=trial["trial_id"],
            params=trial["config"],
            status=trial["status"],
            dirname=trial.get("relative_logdir") or "",
            result=runtime.get("last_result") or {},
        )
        if record.status in _UNFINISHED and record.dirname:
            # The driver may have stopped before saving the state again: the trial's own
            # reports are newer.
            reports = read_reports(tune, record.dirname)
            record.result = _pick(reports) or record.result
        if record.status == "ERROR":
            record.error = _error(tune, record.dirname, runtime.get("error_filename"))
        records.append(record)
    return records


def _pick(reports: list[dict]) -> dict:
    return next((r for r in reversed(reports) if r.get("final")), reports[-1] if reports else {})


def _error(tune: TuneDir, dirname: str, error_file: str | None) -> str:
    names = dict.fromkeys(filter(None, (os.path.basename(error_file or ""), "error.txt")))
    for name in names:
        text = tune.read_text(dirname, name)
        if text is not None:
            return error_line(text)
    return ""


def _dir_trials(tune: TuneDir, infos: list[pafs.FileInfo]) -> list[TrialRecord]:
    """Trials of the trial directories, when no experiment state lists them."""
    records = []
    for info in sorted(infos, key=lambda i: i.base_name):
        if info.type != pafs.FileType.Directory:
            continue
        params = tune.read_json(info.base_name, "params.json")
        if params is None:
            continue
        missing = [k for k in PARAM_KEYS if k not in params]
        if missing:
            raise InputError(
                f"{tune.where}/{info.base_name}/params.json: missing {', '.join(missing)}; trial "
                f"parameters must hold {', '.join(PARAM_KEYS)} (docs/architecture.md)"
            )
        reports = read_reports(tune, info.base_name)
        found = _TRIAL_ID.search(info.base_name)
        trial_id = next(
            (r["trial_id"] for r in reports if "trial_id" in r),
            found.group(1) if found else info.base_name,
        )
        text = tune.read_text(info.base_name, "error.txt")
        error = error_line(text) if text is not None else ""
        status = "ERROR" if error else "RUNNING" if reports else "PENDING"
        records.append(TrialRecord(trial_id, params, status, info.base_name, _pick(reports), error))
    return records


def read_trials(tune: TuneDir) -> list[TrialRecord]:
    """Every trial of a Tune experiment."""
    infos = tune.listing()
    states = sorted(i.base_name for i in infos if i.base_name.startswith("experiment_state"))
    records = _state_trials(tune, states[-1]) if states else _dir_trials(tune, infos)
    interrupted = set((tune.read_json(INTERRUPTED_FILE) or {}).get("trials", []))
    for record in records:
        if record.finished:
            record.status, record.error = "TERMINATED", ""
        elif record.status == "RUNNING" and record.trial_id in interrupted:
            record.status = "INTERRUPTED"
    return records


def trials_frame(records: list[TrialRecord], arms: dict[str, dict] | None = None) -> pd.DataFrame:
    """The raw trials table (docs/architecture.md): one row per trial, metrics when finished."""
    arms = arms or {}
    rows = []
    for r in records:
        arm = arms.get(str(r.params.get("arm")), {})
        rows.append(
            {
                "trial_id": r.trial_id,
                **{k: r.params.get(k) for k in PARAM_KEYS},
                "label": arm.get("label"),
                "is_baseline": arm.get("baseline"),
                "status": r.status,
                "error": r.error,
                "steps": r.steps,
                **{k: r.result.get(k) for k in ("samples_seen", "wall_s", "accel_s")},
                **r.metrics(),
            }
        )
    return pd.DataFrame(rows)


def per_language_frame(tune: TuneDir, records: list[TrialRecord]) -> pd.DataFrame:
    """The long per-language / per-pair rows of every finished trial, keyed by its parameters."""
    frames = []
    for r in records:
        name = r.result.get("per_language_file") if r.finished else None
        text = tune.read_text(r.dirname, name) if name else None
        if text is None:
            continue
        where = f"{tune.where}/{r.dirname}/{name}"
        try:
            table = pd.read_csv(io.StringIO(text), dtype={"lang_a": str, "lang_b": str})
        except ValueError as exc:
            raise InputError(f"{where}: cannot read CSV ({exc}); fix or remove it") from None
        missing = [c for c in PER_LANGUAGE_COLUMNS if c not in table]
        if missing:
            raise InputError(
                f"{where}: missing column(s) {', '.join(missing)}; a per-language table needs "
                f"{', '.join(PER_LANGUAGE_COLUMNS)}"
            )
        keys = {"trial_id": r.trial_id, **{k: r.params.get(k) for k in PARAM_KEYS}}
        frames.append(table[list(PER_LANGUAGE_COLUMNS)].assign(**keys))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def read_tune_dir(tune: TuneDir) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Raw trials and per-language tables of a Tune experiment (not yet normalised)."""
    records = read_trials(tune)
    return trials_frame(records, tune.read_json(ARMS_FILE)), per_language_frame(tune, records)
