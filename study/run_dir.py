"""Locate a study run from a user's argument: a run directory or URI, or a study config."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from analysis.raydir import TUNE_DIR
from study.errors import StudyError
from study.storage import Storage, resolve_storage

TRAIN_DIR = "train"


@dataclass(frozen=True)
class RunLocation:
    """A study run inside its storage."""

    storage: Storage
    name: str

    @property
    def uri(self) -> str:
        """The run as users name it (a path or URI)."""
        return self.storage.ray_join(self.name)


def locate_run(arg: str) -> RunLocation:
    """`runs/demo`, `s3://bucket/runs/demo` or a study config (its storage and name)."""
    if arg.endswith((".yaml", ".yml")):
        from study.config import load_config

        cfg = load_config(arg)
        loc = RunLocation(resolve_storage(cfg.resources.storage), cfg.name)
    else:
        parent, _, name = arg.rstrip("/").rpartition("/")
        loc = RunLocation(resolve_storage(parent or "."), name)
    if not loc.storage.exists(loc.name):
        raise StudyError(f"{arg}: no such run directory{_closest_run(loc)}; pass <storage>/<name>")
    if not loc.storage.exists(loc.name, TUNE_DIR):
        raise StudyError(f"{arg}: not a study run (no {TUNE_DIR}/ inside); pass runs/<study name>")
    return loc


def _closest_run(loc: RunLocation) -> str:
    """' (did you mean <run>?)' for a run beside a misspelt local one, else ''."""
    parent = Path(loc.storage.root)
    if not loc.storage.is_local or not parent.is_dir():
        return ""
    runs = [p.name for p in parent.iterdir() if (p / TUNE_DIR).is_dir()]
    close = difflib.get_close_matches(loc.name, runs, n=1)
    return f" (did you mean {loc.storage.ray_join(close[0])}?)" if close else ""
