"""Shared fixtures: one small embedded corpus and one local Ray cluster per test session."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from trainers.job import TrainJob

# Tiny models gain nothing from a second thread, and extra threads oversubscribe a 2-core box.
torch.set_num_threads(1)

# Small enough to train on in seconds, big enough that retrieval is far from trivial.
CORPUS_ITEMS, CORPUS_EVAL_ITEMS = 400, 100
# Report keys that measure time, not results: runs that must match compare everything else.
TIMING_KEYS = (
    "wall_s",
    "accel_s",
    "samples_per_s",
    "train_s",
    "eval_s",
    "attempts",
    "data_wait_s",
    "data_wait_share",
)


@pytest.fixture(scope="session")
def signal_embeddings():
    """A factory of embeddings arrays: item signal plus noise, two captions per item and language,
    one image per item; item codes are prefix + number."""

    def make(seed, items, langs, dim, text_noise, image_noise, prefix):
        rng = np.random.default_rng(seed)
        base = rng.normal(size=(items, dim))
        rows = [(i, lang, k) for i in range(items) for lang in langs for k in range(2)]
        item = np.array([r[0] for r in rows])
        text = base[item] + text_noise * rng.normal(size=(len(rows), dim))
        return {
            "text_emb": text.astype(np.float32),
            "text_item": np.array([f"{prefix}{i}" for i in item]),
            "text_lang": np.array([r[1] for r in rows]),
            "text_idx": np.array([r[2] for r in rows], dtype=np.int32),
            "image_emb": (base + image_noise * rng.normal(size=(items, dim))).astype(np.float32),
            "image_item": np.array([f"{prefix}{i}" for i in range(items)]),
        }

    return make


@pytest.fixture(scope="session")
def embedded_corpus(tmp_path_factory):
    """The embedded corpus (train, eval, eval_xm3600), generated once per session."""
    from study.data.synthetic import generate

    root = tmp_path_factory.mktemp("embedded")
    return generate(root / "corpus", items=CORPUS_ITEMS, eval_items=CORPUS_EVAL_ITEMS, seed=0)


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory):
    """A local Ray cluster (2 CPUs, TRAIN_DRIVER slots for trial drivers); yields a storage dir."""
    import ray

    os.environ["RAY_AUTH_MODE"] = "disabled"
    storage = tmp_path_factory.mktemp("ray-storage")
    ray.init(
        num_cpus=2,
        resources={"TRAIN_DRIVER": 4},
        include_dashboard=False,
    )
    yield storage
    ray.shutdown()


@pytest.fixture(scope="session")
def tiny_job(embedded_corpus, tmp_path_factory):
    """Factory of TrainJobs for tiny towers on the embedded corpus (one shared cache dir)."""
    cache = tmp_path_factory.mktemp("cache")

    def make(
        *,
        budget: dict,
        frozen: bool = True,
        train: dict | None = None,
        eval: dict | None = None,
        **fields,
    ) -> TrainJob:
        tower = {"hidden_size": 32, "layers": 1, "heads": 2, "vocab_size": 1200}
        optimizer = {"lr": 2e-3, "warmup_fraction": 0.1}
        return TrainJob.model_validate(
            {
                "model": {
                    "text_tower": tower,
                    "image_tower": tower,
                    "frozen_image_tower": frozen,
                    "embed_dim": 32,
                },
                "train": {
                    "batch_size": 32,
                    "budget": budget,
                    "optimizer": optimizer,
                    **(train or {}),
                },
                "eval": {"block_size": 1024, **(eval or {})},
                "train_corpus": str(embedded_corpus.train),
                "eval_corpus": str(embedded_corpus.eval),
                "cache_dir": str(cache),
                "data_size": CORPUS_ITEMS,
                **fields,
            }
        )

    return make
