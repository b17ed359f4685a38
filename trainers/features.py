"""Frozen image-tower features of a corpus: computed once per (tower, corpus), cached as .npy."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from trainers.config import ModelConfig, TowerConfig
from trainers.corpus import open_corpus
from trainers.model import IMAGE_DIR
from trainers.towers import FROZEN_TOWER_SEED, build_image_tower

_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


def image_tower_config(model_cfg: ModelConfig) -> TowerConfig:
    """The image tower a model really uses: its `init_from` export's, else the configured one."""
    if model_cfg.init_from:
        return TowerConfig(source=str(Path(model_cfg.init_from).expanduser() / IMAGE_DIR))
    return model_cfg.image_tower


def tower_fingerprint(cfg: TowerConfig) -> str:
    """A short hash naming a frozen tower: its config, and for a local dir its config and weights."""
    parts = {"tower": cfg.model_dump(mode="json"), "seed": FROZEN_TOWER_SEED}
    src = Path(cfg.source).expanduser()
    if cfg.source != "tiny" and src.is_dir():
        files = sorted(p for p in src.iterdir() if p.is_file())
        parts["config"] = [p.read_text() for p in files if p.name.endswith(".json")]
        parts["weights"] = [
            (p.name, p.stat().st_size, p.stat().st_mtime_ns)
            for p in files
            if p.suffix in _WEIGHT_SUFFIXES
        ]
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return digest[:16]


def ensure_image_features(
    model_cfg: ModelConfig,
    corpus_dir: str | Path,
    cache_dir: str | Path,
    *,
    device: str | torch.device | None = None,
    batch_size: int = 256,
) -> Path:
    """Path of the cached float32 features [num_items, width] (row i = item i); computed if absent.

    Concurrent callers each write a private temporary file and rename it into place, so readers
    only ever see a whole file.
    """
    tower_cfg = image_tower_config(model_cfg)
    corpus = open_corpus(corpus_dir)
    name = f"{tower_fingerprint(tower_cfg)}-{corpus.fingerprint()}.npy"
    target = Path(cache_dir).expanduser() / "image-features" / name
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    tower = build_image_tower(tower_cfg, seed=FROZEN_TOWER_SEED).to(device).eval()
    num = len(corpus.item_ids)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".npy", dir=target.parent)
    os.close(fd)
    try:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(num, tower.width))
        with torch.inference_mode():
            for start in range(0, num, batch_size):
                items = np.arange(start, min(start + batch_size, num))
                pixels = tower.corpus_pixels(corpus, items)
                out[items] = tower(pixels).float().cpu().numpy()
        out.flush()
        del out
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def load_image_features(path: str | Path) -> np.ndarray:
    """Cached features, memory-mapped read-only."""
    return np.load(path, mmap_mode="r")
