"""The console of a running sweep: one line per trial start and end, a count, elapsed time and ETA.

Also the per-trial time split (start-up, training, evaluation) that `timings.json` records.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from ray.tune import Callback

from study.metric_display import with_interval
from study.plan import TrialSpec

TRIAL_TIMES_FILE = "trial_times.json"  # in the driver's local run dir, merged into timings.json


def trial_label(config: dict) -> str:
    """`hybrid a=0.5 N=700 s=1` for a trial's parameters."""
    spec = TrialSpec(**{k: config.get(k) for k in ("arm", "alpha", "data_size", "seed")})
    return spec.title


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def format_metric(result: dict, name: str) -> str:
    """`name 0.21 [0.18, 0.24]` (the interval where the result carries `name.lo` / `name.hi`)."""
    if not isinstance(result.get(name), (int, float)):
        return f"{name} n/a"
    return f"{name} {with_interval(result, name, digits=2)}"


def time_split(result: dict, wall: float) -> dict[str, float]:
    """A finished trial's seconds: start-up (everything but training and evaluation) and the rest."""
    train, evaluate = float(result.get("train_s", 0.0)), float(result.get("eval_s", 0.0))
    return {
        "wall_s": wall,
        "startup_s": max(0.0, wall - train - evaluate),
        "train_s": train,
        "eval_s": evaluate,
    }


def read_trial_times(path: str | Path) -> dict[str, dict]:
    """Per-trial time splits recorded so far (trial id -> label and seconds)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}


def record_trial_time(path: str | Path, trial_id: str, label: str, split: dict) -> None:
    """Add one trial's time split to the JSON file at `path` (replaced atomically)."""
    times = read_trial_times(path)
    times[trial_id] = {"trial": label, **{k: round(v, 2) for k, v in split.items()}}
    tmp = f"{path}.tmp"
    Path(tmp).write_text(json.dumps(times, indent=2) + "\n")
    os.replace(tmp, path)


class SweepConsole(Callback):
    """Prints `[k/n] label: metrics  time` lines and keeps each trial's time split."""

    def __init__(self, total: int, metrics: tuple[str, ...], timings_file: str):
        self.total, self.metrics, self.timings_file = total, metrics, timings_file
        self._reset()

    def _reset(self) -> None:
        self.started = time.monotonic()
        self.trial_start: dict[str, float] = {}
        self.ended: set[str] = set()  # trials that ended in this session

    def __setstate__(self, state: dict) -> None:
        # Tune pickles its callbacks with the experiment; a restored sweep starts a new clock.
        self.__dict__.update(state)
        self._reset()

    def _print(self, text: str) -> None:
        print(text, flush=True)

    def _done(self, trials) -> int:
        """Trials ended so far, restored ones included (Tune sets a status after the callback)."""
        ended = {t.trial_id for t in trials if t.status in ("TERMINATED", "ERROR")}
        return len(ended | self.ended)

    def _clock(self, done: int) -> str:
        elapsed = time.monotonic() - self.started
        left = self.total - done
        text = f"elapsed {_duration(elapsed)}"
        if self.ended and left > 0:
            text += f", about {_duration(elapsed / len(self.ended) * left)} left"
        return text

    def on_trial_start(self, iteration, trials, trial, **info):
        """A trial got its resources and starts (or resumes)."""
        self.trial_start[trial.trial_id] = time.monotonic()
        self._print(f"[{self._done(trials)}/{self.total}] start {trial_label(trial.config)}")

    def _ended(self, trials, trial, text: str) -> float:
        wall = time.monotonic() - self.trial_start.pop(trial.trial_id, time.monotonic())
        self.ended.add(trial.trial_id)
        done = self._done(trials)
        self._print(
            f"[{done}/{self.total}] {trial_label(trial.config)}: {text}  {_duration(wall)}"
            f"  ({self._clock(done)})"
        )
        return wall

    def on_trial_complete(self, iteration, trials, trial, **info):
        """A trial finished: its headline metrics with intervals, and its time."""
        result = trial.last_result or {}
        metrics = "  ".join(format_metric(result, m) for m in self.metrics)
        wall = self._ended(trials, trial, metrics)
        record_trial_time(
            self.timings_file, trial.trial_id, trial_label(trial.config), time_split(result, wall)
        )

    def on_trial_error(self, iteration, trials, trial, **info):
        """A trial failed for good: its reason and its error file in the run's storage."""
        where = f"{trial.path}/error.txt" if trial.path else "see `study status`"
        self._ended(trials, trial, f"ERROR: {_last_line(trial.error_file)} ({where})")

    def on_trial_recover(self, iteration, trials, trial, **info):
        """A trial failed and Tune retries it (from its latest checkpoint, if any)."""
        self.trial_start.pop(trial.trial_id, None)
        self._print(
            f"[{self._done(trials)}/{self.total}] {trial_label(trial.config)}: failed on node "
            f"{trial.node_ip or '?'} ({_last_line(trial.error_file)}); retrying, failure "
            f"{trial.num_failures}"
        )

    def on_trial_result(self, iteration, trials, trial, result, **info):
        """A (re)started run's first report says where it resumed: print that."""
        if "resumed_from_step" in result:
            self._print(
                f"[{self._done(trials)}/{self.total}] {trial_label(trial.config)}: attempt "
                f"{result.get('attempt', '?')} resumed on node {result.get('node_ip', '?')} "
                f"from the checkpoint at step {result['resumed_from_step']}"
            )


def _last_line(path: str | None) -> str:
    """The last non-empty line of an error file (the exception and its message)."""
    try:
        text = Path(path).read_text(errors="replace")
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    except (OSError, TypeError):
        return "see `study status`"
    return lines[-1][:200] if lines else "see `study status`"
