"""Resolve a study's data sources to canonical corpus directories (generating the embedded one)."""

from __future__ import annotations

from pathlib import Path

from study.config import StudyConfig
from study.errors import StudyError


def cache_dir(cfg: StudyConfig) -> Path:
    """The study's cache root (generated corpora, tokenizers, frozen image features)."""
    return Path(cfg.data.cache_dir).expanduser()


def resolve_corpora(cfg: StudyConfig) -> tuple[Path, Path]:
    """Absolute (train dir, eval dir) of a study; the embedded corpus is generated on first use.

    Absolute, because trials run in their own working dirs.
    """
    synthetic = None
    if "synthetic" in (cfg.data.train, cfg.data.eval):
        from study.data.synthetic import ensure_synthetic

        s = cfg.data.synthetic
        synthetic = ensure_synthetic(cache_dir(cfg), s.items, s.eval_items, s.seed)
    train = synthetic.train if cfg.data.train == "synthetic" else Path(cfg.data.train).expanduser()
    train = train.resolve()
    evald = synthetic.eval if cfg.data.eval == "synthetic" else Path(cfg.data.eval).expanduser()
    evald = evald.resolve()
    for key, path in (("data.train", train), ("data.eval", evald)):
        if not (path / "manifest.json").is_file():
            raise StudyError(f"{key}: {path} is not a canonical corpus (no manifest.json)")
    return train, evald
