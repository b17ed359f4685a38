"""The results tables of a study: load them from a run directory or a table file, write them."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import raydir
from analysis.errors import InputError

REQUIRED = ("arm", "alpha", "data_size", "seed")
TRIAL_COLUMNS = (
    "trial_id",
    "arm",
    "label",
    "is_baseline",
    "alpha",
    "data_size",
    "seed",
    "status",
    "error",
    "steps",
    "samples_seen",
    "wall_s",
    "accel_s",
)
PER_LANGUAGE_COLUMNS = ("trial_id", *REQUIRED, "metric", "lang_a", "lang_b", "value")
LANGUAGE_COLUMNS = ("lang", "resource")
TRIALS, PER_LANGUAGE = "trials", "per_language"  # table names: <name>.parquet and <name>.csv
# The corpora a run trained and evaluated on, as `study run` writes them beside its tables:
# {"train": CORPUS, "eval": CORPUS}, CORPUS = {"name", "source", "num_items", "languages",
# "names" (where the caption texts come from, if recorded), "left_out" (chosen languages the
# name source lacked)}.
DATA_FILE = "data.json"
_SUFFIXES = (".parquet", ".pq", ".csv")


@dataclass
class Results:
    """The tidy trials table, the long per-language table and (optionally) language resource levels."""

    trials: pd.DataFrame
    per_language: pd.DataFrame
    languages: pd.DataFrame | None = None
    source: Path | None = None
    data: dict | None = None  # DATA_FILE's content, where the run wrote one

    @property
    def metrics(self) -> list[str]:
        """Aggregate metric columns of the trials table."""
        return [c for c in self.trials.columns if c not in TRIAL_COLUMNS]


def read_table(path: Path) -> pd.DataFrame:
    """A CSV or parquet file as a DataFrame, or a one-line InputError."""
    if path.suffix.lower() not in _SUFFIXES:
        raise InputError(f"{path}: unsupported table format '{path.suffix}'; use .csv or .parquet")
    try:
        if path.suffix.lower() == ".csv":
            return pd.read_csv(path, dtype={"lang_a": str, "lang_b": str, "lang": str})
        return pd.read_parquet(path)
    except Exception as exc:  # pandas and pyarrow raise many types for a corrupt file
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(
            f"{path}: cannot read table ({reason}); check the file is a valid {path.suffix[1:]}"
        ) from exc


def _trial_ids(df: pd.DataFrame) -> pd.Series:
    """Readable ids for tables that have none, e.g. 'hybrid-a0.5-n1000-s0'."""
    ids = [
        f"{arm}{f'-a{alpha:g}' if pd.notna(alpha) else ''}{f'-n{size}' if pd.notna(size) else ''}"
        f"-s{seed}"
        for arm, alpha, size, seed in zip(
            df["arm"], df["alpha"], df["data_size"], df["seed"], strict=True
        )
    ]
    ids = pd.Series(ids, index=df.index)
    dup = ids.duplicated(keep=False)
    return ids.where(~dup, ids + "-" + ids.groupby(ids).cumcount().astype(str))


def normalise_trials(df: pd.DataFrame, where: str) -> pd.DataFrame:
    """Check the required columns and bring a trials table to the contract's column order and types."""
    if {"metric", "lang_a", "value"} <= set(df.columns):
        raise InputError(
            f"{where}: this is a long per-language table; pass the trials table (one row per trial)"
        )
    missing = [c for c in REQUIRED if c not in df]
    if missing:
        raise InputError(
            f"{where}: missing column(s) {', '.join(missing)}; a trials table needs "
            f"{', '.join(REQUIRED)} and one column per metric"
        )
    out = df.copy()
    out["arm"] = out["arm"].astype(str)
    out["alpha"] = pd.to_numeric(out["alpha"], errors="coerce").astype(float)
    sizes = pd.to_numeric(out["data_size"], errors="coerce")
    # No size (or 0, as older runs wrote it): an arm evaluated once, without training data.
    out["data_size"] = sizes.where(sizes > 0).round().astype("Int64")
    out["seed"] = pd.to_numeric(out["seed"], errors="coerce").round().astype("Int64")
    out = _arm_columns(out)
    if "trial_id" not in out:
        out["trial_id"] = _trial_ids(out)
    out["trial_id"] = out["trial_id"].astype(str)
    out["status"] = (
        out["status"].fillna("TERMINATED").astype(str) if "status" in out else "TERMINATED"
    )
    out["error"] = out["error"].fillna("").astype(str) if "error" in out else ""
    for col in ("steps", "samples_seen", "wall_s", "accel_s"):
        out[col] = pd.to_numeric(out[col], errors="coerce") if col in out else np.nan
    metrics = [
        c for c in out.columns
        if c not in TRIAL_COLUMNS and pd.api.types.is_numeric_dtype(out[c]) and not pd.api.types.is_bool_dtype(out[c])
    ]  # fmt: skip
    out = out[[*TRIAL_COLUMNS, *metrics]].astype({m: float for m in metrics})
    return out.sort_values(["arm", "alpha", "data_size", "seed"], na_position="first").reset_index(
        drop=True
    )


def _arm_columns(out: pd.DataFrame) -> pd.DataFrame:
    """`label` and `is_baseline` as the run recorded them; for tables without them (older runs,
    tables from elsewhere) the arm's name, and baseline = an arm that never has a mix ratio."""
    swept = out.groupby("arm")["alpha"].transform(lambda a: a.notna().any()).astype(bool)
    label = out["label"] if "label" in out else pd.Series(None, index=out.index, dtype=object)
    out["label"] = label.where(label.notna(), out["arm"]).astype(str)
    given = out["is_baseline"] if "is_baseline" in out else pd.Series(pd.NA, index=out.index)
    out["is_baseline"] = given.astype("boolean").fillna(~swept).astype(bool)
    return out


def normalise_per_language(df: pd.DataFrame, trials: pd.DataFrame, where: str) -> pd.DataFrame:
    """Bring a long per-language table to the contract, taking trial keys from the trials table."""
    if df.empty:
        return pd.DataFrame(
            {
                c: pd.Series(dtype=trials[c].dtype if c in trials else object)
                for c in PER_LANGUAGE_COLUMNS
            }
        )
    missing = [c for c in ("metric", "lang_a", "value") if c not in df]
    if "trial_id" not in df and not set(REQUIRED) <= set(df.columns):
        missing.append("trial_id (or arm, alpha, data_size, seed)")
    if missing:
        raise InputError(
            f"{where}: missing column(s) {', '.join(missing)}; see docs/architecture.md 'Results tables'"
        )
    out = df.copy()
    out["lang_b"] = out["lang_b"].fillna("").astype(str) if "lang_b" in out else ""
    out["lang_a"] = out["lang_a"].astype(str)
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype(float)
    out["metric"] = out["metric"].astype(str)
    keys = trials[["trial_id", *REQUIRED]]
    if "trial_id" in out:
        out["trial_id"] = out["trial_id"].astype(str)
        out = out.drop(columns=[c for c in REQUIRED if c in out]).merge(
            keys, on="trial_id", how="inner"
        )
    else:
        out["alpha"] = pd.to_numeric(out["alpha"], errors="coerce").astype(float)
        sizes = pd.to_numeric(out["data_size"], errors="coerce")
        out["data_size"] = sizes.where(sizes > 0).round().astype("Int64")
        out["seed"] = pd.to_numeric(out["seed"], errors="coerce").round().astype("Int64")
        out = out.merge(keys, on=list(REQUIRED), how="inner")
    return out[list(PER_LANGUAGE_COLUMNS)].reset_index(drop=True)


def read_languages(path: Path) -> pd.DataFrame | None:
    """languages.csv (lang, resource, ...) if the file exists."""
    if not path.exists():
        return None
    table = read_table(path)
    missing = [c for c in LANGUAGE_COLUMNS if c not in table]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)}; languages.csv needs lang, resource (high, mid, low)"
        )
    return table.assign(lang=table["lang"].astype(str), resource=table["resource"].astype(str))


def _find(folder: Path, stem: str) -> Path | None:
    return next(
        (folder / f"{stem}{s}" for s in _SUFFIXES if (folder / f"{stem}{s}").exists()), None
    )


def _tables_current(table: Path, run: Path) -> bool:
    """results/ is at least as new as every trial's result.json (a resumed sweep makes it stale)."""
    reports = [d / "result.json" for d in raydir.trial_dirs(run) if (d / "result.json").exists()]
    return not reports or table.stat().st_mtime >= max(p.stat().st_mtime for p in reports)


def _from_tables(table: Path, languages: list[Path]) -> Results:
    trials = normalise_trials(read_table(table), str(table))
    lang_file = _find(table.parent, PER_LANGUAGE)
    raw = read_table(lang_file) if lang_file and lang_file != table else pd.DataFrame()
    per_language = normalise_per_language(raw, trials, str(lang_file))
    found = next((p for p in languages if p.exists()), None)
    data_file = table.parent / DATA_FILE
    data = json.loads(data_file.read_text()) if data_file.is_file() else None
    return Results(trials, per_language, read_languages(found) if found else None, table, data)


def load_results(path: str | os.PathLike) -> Results:
    """Results of a run directory (results/ tables, else the Ray Tune trial dirs) or of a trials table file."""
    path = Path(path).expanduser()
    if not path.exists():
        raise InputError(
            f"{path}: no such file or directory; pass a study run directory or a trials table (.csv/.parquet)"
        )
    if path.is_file():
        return _from_tables(path, [path.parent / "languages.csv"])
    table = _find(path / "results", TRIALS)
    tune = raydir.tune_root(path)
    has_trials = bool(raydir.trial_dirs(path)) or any(tune.glob("experiment_state-*.json"))
    languages = [path / "results" / "languages.csv", path / "languages.csv"]
    if table and _tables_current(table, path):
        return _from_tables(table, languages)
    if has_trials:
        rows, per_language = raydir.read_tune_dir(raydir.TuneDir(tune))
        trials = normalise_trials(rows, str(path))
        found = next((p for p in languages if p.exists()), None)
        per_language = normalise_per_language(per_language, trials, f"{tune}/*/")
        return Results(trials, per_language, read_languages(found) if found else None, path)
    table = _find(path, TRIALS)
    if table:
        return _from_tables(table, [path / "languages.csv"])
    raise InputError(
        f"{path}: no results/trials.parquet, trials.csv or Ray trial directories (*/params.json); "
        "pass a study run directory or a trials table"
    )


def _replace(write, target: Path) -> None:
    """Write through a temporary sibling so readers never see half a table."""
    tmp = target.with_name(f".{target.name}.tmp")
    write(tmp)
    os.replace(tmp, target)


def write_results(results: Results, out_dir: str | os.PathLike) -> Path:
    """Write trials and per_language as parquet and CSV (and languages.csv) into `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, table in ((TRIALS, results.trials), (PER_LANGUAGE, results.per_language)):
        _replace(lambda p, t=table: t.to_parquet(p, index=False), out / f"{name}.parquet")
        _replace(lambda p, t=table: t.to_csv(p, index=False), out / f"{name}.csv")
    if results.languages is not None:
        _replace(lambda p: results.languages.to_csv(p, index=False), out / "languages.csv")
    if results.data is not None:
        _replace(lambda p: p.write_text(json.dumps(results.data, indent=2)), out / DATA_FILE)
    return out
