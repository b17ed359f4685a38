"""Read a Ray Tune experiment directory (trial dirs with params.json, result.json, error.txt)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from analysis.errors import InputError

TUNE_DIR = "tune"  # where a study run keeps its Tune experiment (study/run_dir.py)
PARAM_KEYS = ("arm", "alpha", "data_size", "seed")
PER_LANGUAGE_COLUMNS = ("metric", "lang_a", "lang_b", "value")
# Fields Tune adds to every report, plus the trial's bookkeeping: none of them is a metric.
NOT_METRICS = frozenset(
    [
        "step",
        "samples_seen",
        "loss",
        "final",
        "wall_s",
        "accel_s",
        "checkpoint_path",
        "timestamp",
        "checkpoint_dir_name",
        "done",
        "training_iteration",
        "trial_id",
        "date",
        "time_this_iter_s",
        "time_total_s",
        "pid",
        "hostname",
        "node_ip",
        "config",
        "time_since_restore",
        "iterations_since_restore",
        "should_checkpoint",
    ]
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_TRIAL_ID = re.compile(r"_([0-9a-f]{5}_\d{5})_")


def tune_root(run: Path) -> Path:
    """The Tune experiment directory of a run: `<run>/tune` in a study run, else the run itself."""
    return run / TUNE_DIR if (run / TUNE_DIR).is_dir() else run


def trial_dirs(run: Path) -> list[Path]:
    """Trial directories of a Tune experiment, in name order."""
    return sorted(p.parent for p in tune_root(run).glob("*/params.json"))


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            f"{path}: cannot read JSON ({exc}); fix or remove that trial directory"
        ) from exc


def read_reports(path: Path) -> list[dict]:
    """The JSON-lines reports of a trial; a last line cut short by a running trial is skipped."""
    if not path.exists():
        return []
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{path}: cannot read ({exc}); fix or remove that trial directory"
        ) from exc
    lines = text.split("\n")
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
                f"{path}:{number}: not a JSON report ({exc.msg}); fix or remove that line"
            ) from exc
    return reports


def tune_status(run: Path) -> dict[str, str]:
    """trial_id -> status from the newest experiment_state-*.json, when Tune left one."""
    states = sorted(tune_root(run).glob("experiment_state-*.json"))
    if not states:
        return {}
    try:
        data = json.loads(states[-1].read_text())
        trials = [json.loads(state) for state, _ in data["trial_data"]]
        return {t["trial_id"]: t["status"] for t in trials}
    except (OSError, ValueError, KeyError, TypeError):
        return {}  # a state file from another Ray version: fall back to the trial files


def error_reason(trial: Path) -> str:
    """Last non-empty line of error.txt (the exception), without terminal colours."""
    path = trial / "error.txt"
    if not path.exists():
        return ""
    lines = [
        ln.strip()
        for ln in _ANSI.sub("", path.read_text(errors="replace")).splitlines()
        if ln.strip()
    ]
    return lines[-1][:300] if lines else "error.txt is empty"


def read_trial(trial: Path, status: dict[str, str]) -> tuple[dict, pd.DataFrame]:
    """One row of the trials table and the trial's per-language rows."""
    params = _read_json(trial / "params.json")
    missing = [k for k in PARAM_KEYS if k not in params]
    if missing:
        raise InputError(
            f"{trial / 'params.json'}: missing {', '.join(missing)}; trial parameters must hold "
            f"{', '.join(PARAM_KEYS)} (docs/architecture.md, 'Trial parameters')"
        )
    reports = read_reports(trial / "result.json")
    found = _TRIAL_ID.search(trial.name)
    trial_id = next(
        (r["trial_id"] for r in reports if "trial_id" in r), found.group(1) if found else trial.name
    )
    final = next((r for r in reversed(reports) if r.get("final")), None)
    last = reports[-1] if reports else {}
    error = error_reason(trial)
    guessed = "TERMINATED" if final else "ERROR" if error else "RUNNING" if reports else "PENDING"
    row = {
        "trial_id": trial_id,
        **{k: params[k] for k in PARAM_KEYS},
        "status": "TERMINATED" if final else status.get(trial_id, guessed),
        "error": error,
        "steps": last.get("step"),
        "samples_seen": last.get("samples_seen"),
        "wall_s": (final or last).get("wall_s"),
        "accel_s": (final or last).get("accel_s"),
    }
    # Aggregates come from the final report only: an early-stopped trial has none.
    for key, value in (final or {}).items():
        if (
            key not in NOT_METRICS
            and isinstance(value, (int, float))
            and not isinstance(value, bool)
        ):
            row[key] = value
    return row, _per_language(trial / "per_language.csv", row)


def _per_language(path: Path, row: dict) -> pd.DataFrame:
    if not path.exists():
        return pd.DataFrame()
    try:
        table = pd.read_csv(path, dtype={"lang_a": str, "lang_b": str})
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read CSV ({exc}); fix or remove it") from exc
    missing = [c for c in PER_LANGUAGE_COLUMNS if c not in table]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)}; per_language.csv needs "
            f"{', '.join(PER_LANGUAGE_COLUMNS)}"
        )
    keys = {k: row[k] for k in ("trial_id", *PARAM_KEYS)}
    return table[list(PER_LANGUAGE_COLUMNS)].assign(**keys)


def scan(run: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Trials and per-language tables (raw, not yet normalised) of a Tune experiment directory."""
    status = tune_status(run)
    rows, langs = [], []
    for trial in trial_dirs(run):
        row, lang = read_trial(trial, status)
        rows.append(row)
        langs.append(lang)
    per_language = (
        pd.concat(langs, ignore_index=True) if any(len(x) for x in langs) else pd.DataFrame()
    )
    return pd.DataFrame(rows), per_language
