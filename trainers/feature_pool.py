"""Frozen image-tower features on Ray Data: an actor pool over the cluster's GPUs (else CPUs).

With GPUs, CPU tasks decode and resize the images and one actor per GPU runs the tower; on a
CPU-only cluster one actor per CPU does both (a separate decode stage would only copy pixels
through the object store). Each actor writes its batches as feature shards into `out_dir`, which
must be on storage every node reaches (the cache dir of a study is).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from trainers.config import TowerConfig
from trainers.corpus import open_corpus
from trainers.errors import InputError
from trainers.feature_shards import write_feature_shard
from trainers.ray_data import cluster_slots, ensure_ray, quiet_ray_data
from trainers.towers import FROZEN_TOWER_SEED, build_image_tower, image_input_size

_open_corpus = lru_cache(maxsize=4)(open_corpus)  # one reader per worker process and corpus


def decode_pixels(batch: dict, corpus_dir: str, size: int) -> dict:
    """A Ray Data batch of item positions ("data") with their pixels, uint8 [n, size, size, 3]."""
    items = batch["data"]
    return {"data": items, "pixels": _open_corpus(corpus_dir).images(items, size=size)}


class TowerFeatures:
    """One actor of the pool: the frozen tower, built once; features of each batch, as a shard."""

    def __init__(self, tower: dict, corpus_dir: str, out_dir: str) -> None:
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        cfg = TowerConfig.model_validate(tower)
        self.tower = build_image_tower(cfg, seed=FROZEN_TOWER_SEED).to(self.device).eval()
        self.corpus_dir, self.out_dir = corpus_dir, out_dir

    def __call__(self, batch: dict) -> dict:
        """Write the batch's features as a shard; return its item count."""
        items = np.asarray(batch["data"], dtype=np.int64)
        pixels = batch.get("pixels")
        if pixels is None:
            pixels = _open_corpus(self.corpus_dir).images(items, size=self.tower.image_size)
        with torch.inference_mode():
            features = self.tower(self.tower.preprocess(pixels)).float().cpu().numpy()
        write_feature_shard(self.out_dir, items, features)
        return {"items": np.array([len(items)])}


def extract_features_with_ray(
    tower_cfg: TowerConfig, corpus_dir: str | Path, out_dir: Path, *, batch_size: int = 256
) -> None:
    """Write the features of every item of a corpus into `out_dir` with a Ray Data actor pool."""
    import ray.data

    ensure_ray()
    corpus_dir = str(Path(corpus_dir).resolve())
    num = open_corpus(corpus_dir).num_items
    cpus, gpus = cluster_slots()
    with quiet_ray_data():
        # Item positions from the driver, not a read stage: on a CPU-only cluster the actors
        # hold every CPU, and read tasks would wait for one forever.
        blocks = np.array_split(np.arange(num), max(1, min(num // batch_size, 4 * cpus)))
        ds = ray.data.from_numpy(blocks)
        if gpus:
            size = image_input_size(tower_cfg)
            ds = ds.map_batches(
                decode_pixels, fn_kwargs={"corpus_dir": corpus_dir, "size": size},
                batch_size=batch_size,
            )  # fmt: skip
        ds = ds.map_batches(
            TowerFeatures,
            fn_constructor_kwargs={
                "tower": tower_cfg.model_dump(mode="json"),
                "corpus_dir": corpus_dir,
                "out_dir": str(out_dir.resolve()),
            },
            batch_size=batch_size,
            concurrency=gpus or cpus,
            num_gpus=1 if gpus else 0,
        )
        done = sum(int(row["items"]) for row in ds.iter_rows())
    if done != num:
        raise InputError(f"{corpus_dir}: the actor pool returned {done} of {num} features")
