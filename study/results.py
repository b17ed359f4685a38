"""Read a study's Tune experiment state into trial records and the results tables."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from study.errors import StudyError
from study.storage import Storage

META_KEYS = ("step", "steps", "samples_seen", "wall_s", "accel_s", "loss", "checkpoint_path")


@dataclass
class TrialRecord:
    """One trial as Tune last saw it."""

    trial_id: str
    params: dict[str, Any]
    status: str
    dirname: str
    last_result: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    @property
    def finished(self) -> bool:
        """True when the trial's final report (with all metrics) arrived."""
        return bool(self.last_result.get("final"))

    def metrics(self) -> dict[str, float]:
        """The aggregate metrics of the last report (names with a dot, spec section 5)."""
        return {
            k: v
            for k, v in self.last_result.items()
            if "." in k and isinstance(v, (int, float)) and not isinstance(v, bool)
        }


def _read_text(storage: Storage, *parts: str) -> str:
    with storage.fs.open_input_stream(storage.join(*parts)) as stream:
        return stream.read().decode("utf-8", errors="replace")


def _error_line(storage: Storage, tune_dir: str, dirname: str, error_file: str | None) -> str:
    """The last line of a trial's error file: the exception and its message."""
    for candidate in filter(None, (error_file, f"{dirname}/error.txt")):
        rel = candidate.split(f"{tune_dir}/", 1)[-1] if candidate.startswith("/") else candidate
        try:
            lines = [
                ln.strip() for ln in _read_text(storage, tune_dir, rel).splitlines() if ln.strip()
            ]
        except (OSError, FileNotFoundError):
            continue
        if lines:
            return lines[-1]
    return ""


def read_trials(storage: Storage, tune_dir: str) -> list[TrialRecord]:
    """Trials of the newest experiment state under `tune_dir` (no Ray session needed)."""
    from pyarrow.fs import FileSelector

    try:
        infos = storage.fs.get_file_info(FileSelector(storage.join(tune_dir)))
    except (OSError, FileNotFoundError):
        raise StudyError(
            f"{storage.ray_join(tune_dir)}: not a study run (no Tune experiment)"
        ) from None
    states = sorted(i.base_name for i in infos if i.base_name.startswith("experiment_state"))
    if not states:
        raise StudyError(
            f"{storage.ray_join(tune_dir)}: no experiment state yet; has the run started?"
        )
    state = json.loads(_read_text(storage, tune_dir, states[-1]))
    records = []
    for trial_json, runtime_json in state["trial_data"]:
        trial, runtime = json.loads(trial_json), json.loads(runtime_json)
        dirname = trial.get("relative_logdir") or ""
        record = TrialRecord(
            trial_id=trial["trial_id"],
            params=trial["config"],
            status=trial["status"],
            dirname=dirname,
            last_result=runtime.get("last_result") or {},
        )
        if record.status == "ERROR":
            record.error = _error_line(storage, tune_dir, dirname, runtime.get("error_filename"))
        records.append(record)
    return records


def trials_table(records: list[TrialRecord]):
    """The tidy trial table of docs/architecture.md (one row per trial)."""
    import pandas as pd

    rows = []
    for r in records:
        last = r.last_result
        rows.append(
            {
                "trial_id": r.trial_id,
                **{k: r.params.get(k) for k in ("arm", "alpha", "data_size", "seed")},
                "status": r.status,
                "error": r.error,
                "steps": last.get("steps", last.get("step")),
                "samples_seen": last.get("samples_seen"),
                "wall_s": last.get("wall_s"),
                "accel_s": last.get("accel_s"),
                **(r.metrics() if r.finished else {}),
            }
        )
    return pd.DataFrame(rows)


def per_language_table(storage: Storage, tune_dir: str, records: list[TrialRecord]):
    """The long per-language / per-pair table of every finished trial."""
    import pandas as pd

    frames = []
    for r in records:
        try:
            text = _read_text(storage, tune_dir, r.dirname, "per_language.csv")
        except (OSError, FileNotFoundError):
            continue
        frame = pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""])
        for key in ("seed", "data_size", "alpha", "arm", "trial_id"):
            frame.insert(0, key, r.trial_id if key == "trial_id" else r.params.get(key))
        frames.append(frame)
    columns = [
        "trial_id",
        "arm",
        "alpha",
        "data_size",
        "seed",
        "metric",
        "lang_a",
        "lang_b",
        "value",
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def language_table(train_dir: Path):
    """Training coverage per language with a resource level (high, mid, low)."""
    import numpy as np
    import pandas as pd

    from trainers.corpus import open_corpus

    corpus = open_corpus(train_dir)
    index = corpus.caption_index()
    rows = []
    for code, lang in enumerate(index.languages):
        items = int(np.unique(index.item[index.lang == code]).size)
        share = items / max(index.num_items, 1)
        level = "high" if share >= 0.9 else "mid" if share >= 0.5 else "low"
        rows.append({"lang": lang, "train_items": items, "share": share, "resource": level})
    return pd.DataFrame(rows)


def collect_results(storage: Storage, name: str, local: Path, train_dir: Path) -> Path | None:
    """Write `<local>/results/` (trials, per-language, languages); None if no trial ran yet."""
    from study.run_dir import TUNE_DIR

    tune_dir = f"{name}/{TUNE_DIR}"
    records = read_trials(storage, tune_dir)
    if not records:
        return None
    out = local / "results"
    out.mkdir(parents=True, exist_ok=True)
    for stem, table in (
        ("trials", trials_table(records)),
        ("per_language", per_language_table(storage, tune_dir, records)),
    ):
        table.to_parquet(out / f"{stem}.parquet", index=False)
        table.to_csv(out / f"{stem}.csv", index=False)
    language_table(train_dir).to_csv(out / "languages.csv", index=False)
    return out
