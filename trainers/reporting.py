"""Where a training run sends its metrics and checkpoints: Ray Train, or a local dir in-process."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Protocol


class Reporter(Protocol):
    """Receives every report; `checkpoint_dir` is only valid during the call (copy it to keep it)."""

    def report(self, metrics: dict, checkpoint_dir: str | None) -> None:
        """Take one report (and a checkpoint dir on the reporting rank, else None)."""


class LocalReporter:
    """Keeps reports in memory and copies each checkpoint to `root/checkpoint_<step>`."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.reports: list[dict] = []
        self.checkpoints: list[Path] = []

    def report(self, metrics: dict, checkpoint_dir: str | None) -> None:
        """Record the metrics; copy the checkpoint, if any."""
        self.reports.append(dict(metrics))
        if checkpoint_dir is not None:
            dest = self.root / f"checkpoint_{int(metrics['step']):06d}"
            shutil.copytree(checkpoint_dir, dest, dirs_exist_ok=True)
            self.checkpoints.append(dest)
