"""The results tables of a study run, read through the one Tune-directory reader of `analysis`."""

from __future__ import annotations

from pathlib import Path

from analysis.raydir import TrialRecord, TuneDir, read_trials, read_tune_dir
from analysis.tables import Results, normalise_per_language, normalise_trials, write_results
from study.run_dir import TUNE_DIR
from study.storage import Storage


def tune_dir(storage: Storage, name: str) -> TuneDir:
    """The Tune experiment of run `name` in its storage (named by its URI in messages)."""
    return TuneDir(storage.join(name, TUNE_DIR), storage.fs, storage.ray_join(name, TUNE_DIR))


def run_trials(storage: Storage, name: str) -> list[TrialRecord]:
    """Every trial of run `name` (no Ray session needed)."""
    return read_trials(tune_dir(storage, name))


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


def corpus_summary(corpus_dir: Path) -> dict:
    """A corpus as `analysis.tables.DATA_FILE` records it (from its manifest)."""
    from trainers.corpus import read_manifest

    manifest = read_manifest(Path(corpus_dir))
    provenance = manifest.get("provenance") or {}
    summary = {k: manifest.get(k) for k in ("name", "source", "num_items", "languages")}
    names = provenance.get("names")  # an emoji corpus's: CLDR XML, or the fallback without it
    if names:
        fallback = " (the emoji package's fallback: no CLDR XML on the machine, no keywords)"
        names += " annotations" if provenance.get("names_dir") else fallback
    return {**summary, "names": names, "left_out": provenance.get("left_out")}


def collect_results(
    storage: Storage, name: str, local: Path, train_dir: Path, eval_dir: Path
) -> Path | None:
    """Write `<local>/results/` (trials, per-language, languages, the corpora); None if no
    trial ran yet."""
    tune = tune_dir(storage, name)
    trials, per_language = read_tune_dir(tune)
    if trials.empty:
        return None
    trials = normalise_trials(trials, tune.where)
    per_language = normalise_per_language(per_language, trials, tune.where)
    return write_results(
        Results(
            trials,
            per_language,
            language_table(train_dir),
            data={"train": corpus_summary(train_dir), "eval": corpus_summary(eval_dir)},
        ),
        local / "results",
    )
