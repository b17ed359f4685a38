"""Frozen image-tower features of a corpus: computed once per (tower, corpus), cached as shards."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from trainers.atomic_output import cached_dir
from trainers.config import ModelConfig, TowerConfig
from trainers.corpus import open_corpus
from trainers.feature_shards import FeatureShards, write_feature_shard
from trainers.model import IMAGE_DIR
from trainers.towers import FROZEN_TOWER_SEED, build_image_tower

FEATURES_DIR = "image-features"
SHARD_ITEMS = 16384  # items per shard written by one process
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
    use_ray: bool = False,
) -> Path:
    """The cached feature shard dir of a corpus (row i = item i, see `trainers.feature_shards`).

    Computed if absent: in this process on `device`, or with `use_ray` by a Ray Data actor pool
    over the cluster's GPUs (CPUs where there are none). Concurrent callers each write a private
    temporary dir and rename it into place, so readers only ever see a whole one.
    """
    tower_cfg = image_tower_config(model_cfg)
    corpus = open_corpus(corpus_dir)
    name = f"{tower_fingerprint(tower_cfg)}-{corpus.fingerprint()}"
    target = Path(cache_dir).expanduser() / FEATURES_DIR / name

    def build(tmp: Path) -> None:
        if use_ray:
            from trainers.feature_pool import extract_features_with_ray

            extract_features_with_ray(tower_cfg, corpus_dir, tmp, batch_size=batch_size)
        else:
            _extract_features(tower_cfg, corpus, tmp, device=device, batch_size=batch_size)

    return cached_dir(target, build)


def _extract_features(
    tower_cfg: TowerConfig, corpus, out_dir: Path, *, device, batch_size: int
) -> None:
    """Features of every item, in this process, written as shards of SHARD_ITEMS items."""
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    tower = build_image_tower(tower_cfg, seed=FROZEN_TOWER_SEED).to(device).eval()
    num = corpus.num_items
    with torch.inference_mode():
        for first in range(0, num, SHARD_ITEMS):
            shard = np.arange(first, min(first + SHARD_ITEMS, num))
            parts = [
                tower(tower.corpus_pixels(corpus, shard[i : i + batch_size])).float().cpu()
                for i in range(0, len(shard), batch_size)
            ]
            write_feature_shard(out_dir, shard, torch.cat(parts).numpy())


def load_image_features(path: str | Path) -> FeatureShards:
    """Cached features of a shard dir, memory-mapped on first use."""
    return FeatureShards(path)
