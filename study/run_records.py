"""Files `study run` keeps beside Ray Tune's in a run's `tune/` dir, for the run's readers
(`analysis/raydir.py`): the arms' labels and roles, and the trials an interrupt stopped."""

from __future__ import annotations

import json

from analysis.raydir import ARMS_FILE, INTERRUPTED_FILE
from study.config import StudyConfig
from study.results import run_trials
from study.run_dir import TUNE_DIR
from study.storage import Storage
from trainers.arms import get_arm


def write_json(storage: Storage, data: dict, *parts: str) -> None:
    """Write `data` as JSON to a file of the storage."""
    with storage.fs.open_output_stream(storage.join(*parts)) as out:
        out.write(json.dumps(data, indent=2).encode())


def record_arms(cfg: StudyConfig, storage: Storage) -> None:
    """`tune/arms.json`: label and role of each arm, so readers of the run need no registry."""
    path = (cfg.name, TUNE_DIR, ARMS_FILE)
    arms = {}
    if storage.exists(*path):
        with storage.fs.open_input_stream(storage.join(*path)) as stream:
            arms = json.loads(stream.read())
    for arm in map(get_arm, cfg.sweep.arms):
        arms[arm.name] = {"label": arm.label, "baseline": arm.baseline, "grid": arm.grid}
    storage.fs.create_dir(storage.join(cfg.name, TUNE_DIR), recursive=True)
    write_json(storage, arms, *path)


def mark_interrupted(cfg: StudyConfig, storage: Storage) -> None:
    """Once the sweep stopped: list the trials it left running as interrupted
    (`tune/interrupted.json`)."""
    running = [r.trial_id for r in run_trials(storage, cfg.name) if r.status == "RUNNING"]
    if running:
        write_json(storage, {"trials": running}, cfg.name, TUNE_DIR, INTERRUPTED_FILE)


def clear_interrupted(cfg: StudyConfig, storage: Storage) -> None:
    """Forget the last interrupt: the trials it stopped are about to resume."""
    if storage.exists(cfg.name, TUNE_DIR, INTERRUPTED_FILE):
        storage.fs.delete_file(storage.join(cfg.name, TUNE_DIR, INTERRUPTED_FILE))
