"""Resolve a study's data sources to canonical corpus directories (generating the embedded one)."""

from __future__ import annotations

from pathlib import Path

from study.config import StudyConfig
from study.errors import StudyError


def cache_dir(cfg: StudyConfig) -> Path:
    """The study's cache root (generated corpora, tokenizers, frozen image features)."""
    return Path(cfg.data.cache_dir).expanduser()


GENERATED = ("synthetic", "emoji")  # corpora built on first use, cached under data.cache_dir


def _generated(cfg: StudyConfig, kind: str) -> tuple[Path, Path]:
    """(train, eval) dirs of a generated corpus, building it on first use."""
    if kind == "synthetic":
        from study.data.synthetic import ensure_synthetic

        s = cfg.data.synthetic
        corpus = ensure_synthetic(cache_dir(cfg), s.items, s.eval_items, s.seed)
    else:
        from study.data.emoji.writer import ensure_emoji

        corpus = ensure_emoji(cache_dir(cfg), cfg.data.emoji)
    return corpus.train, corpus.eval


def resolve_corpora(cfg: StudyConfig) -> tuple[Path, Path]:
    """Absolute (train dir, eval dir) of a study; generated corpora are built on first use.

    Absolute, because trials run in their own working dirs.
    """
    built = {
        kind: _generated(cfg, kind) for kind in GENERATED if kind in (cfg.data.train, cfg.data.eval)
    }
    train = built[cfg.data.train][0] if cfg.data.train in built else Path(cfg.data.train)
    evald = built[cfg.data.eval][1] if cfg.data.eval in built else Path(cfg.data.eval)
    train, evald = train.expanduser().resolve(), evald.expanduser().resolve()
    for key, path in (("data.train", train), ("data.eval", evald)):
        if not (path / "manifest.json").is_file():
            raise StudyError(f"{key}: {path} is not a canonical corpus (no manifest.json)")
    return train, evald
