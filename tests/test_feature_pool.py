"""Frozen image features: the Ray Data actor pool gives the single-process path's features."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from trainers.config import ModelConfig, TowerConfig
from trainers.features import ensure_image_features, load_image_features

TOWER = TowerConfig(hidden_size=32, layers=1, heads=2)


def test_features_are_shards_that_pickle_as_their_path(embedded_corpus, tmp_path):
    cfg = ModelConfig(image_tower=TOWER)
    path = ensure_image_features(cfg, embedded_corpus.eval, tmp_path, batch_size=32)
    assert ensure_image_features(cfg, embedded_corpus.eval, tmp_path) == path  # cached
    features = load_image_features(path)
    rows = features[np.array([7, 0, 99])]
    assert features.shape == (100, 32) and rows.dtype == np.float32
    assert len(pickle.dumps(features)) < 500  # loader workers reopen it, no array is sent
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(features))[[7, 0, 99]], rows)


@pytest.mark.ray
def test_actor_pool_features_match_the_single_process_path(ray_cluster, embedded_corpus, tmp_path):
    cfg = ModelConfig(image_tower=TOWER)
    local = ensure_image_features(cfg, embedded_corpus.eval, tmp_path / "local")
    pooled = ensure_image_features(
        cfg, embedded_corpus.eval, tmp_path / "pool", use_ray=True, batch_size=16
    )
    assert len(list(local.glob("part-*.items.npy"))) == 1
    assert len(list(pooled.glob("part-*.items.npy"))) >= 6  # a shard per batch of <= 16 items
    expected, got = load_image_features(local), load_image_features(pooled)
    assert got.shape == expected.shape == (100, 32)
    np.testing.assert_allclose(got[:], expected[:], rtol=1e-4, atol=1e-5)
