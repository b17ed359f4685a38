"""Evaluation metrics against brute-force references (full sort per query), CLIP_benchmark's recall,
language-signal behaviour, and one-line errors for malformed embeddings files."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from retrieval_reference import brute_force, make_case

from trainers.errors import InputError
from trainers.evaluation import (
    cpu_counts,
    evaluate_embeddings,
    kernel,
    load_embeddings_npz,
    ranking,
    simd,
    torch_counts,
)

CASES = [
    # seed, items, languages, captions per item and language (choices), copy share, images
    (0, 30, ["en", "de", "fr"], [1, 2], 0.5, True),
    (1, 25, ["en", "sw", "ja", "ar"], [0, 1, 2, 3], 0.3, True),
    (2, 40, ["de", "en"], [1, 2], 0.0, False),
    (3, 20, ["el", "hi", "ru"], [2], 0.9, True),
]


@pytest.mark.parametrize("protocol", ["all", "first"])
@pytest.mark.parametrize("case", CASES, ids=[f"case{c[0]}" for c in CASES])
def test_every_metric_matches_brute_force(case, protocol):
    arrays = make_case(*case)
    expected = brute_force(arrays, protocol)
    # A tiny block size forces many query blocks.
    result = evaluate_embeddings(**arrays, protocol=protocol, block_size=16)
    got = {(r.metric, r.lang_a, r.lang_b): r.value for r in result.long.itertuples()}
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-12, abs=1e-12), key
    for metric in {k[0] for k in expected}:
        values = [v for k, v in expected.items() if k[0] == metric]
        assert result.aggregates[metric] == pytest.approx(np.mean(values), rel=1e-12)
    if "en" in arrays["text_lang"] and "image_emb" in arrays:
        assert result.aggregates["en.t2i.r1"] == pytest.approx(expected[("mono.t2i.r1", "en", "")])


@pytest.fixture(scope="module")
def split_case():
    arrays = make_case(6, 30, ["en", "de", "fr", "sw"], [0, 1, 2], 0.4, True)
    return arrays, brute_force(arrays, "all")


@pytest.mark.parametrize(
    "dense", [None, 0, 1, 2, 99], ids=["numba", "torch0", "torch1", "torch2", "torch99"]
)
def test_cpu_kernel_and_torch_counting_agree(split_case, monkeypatch, dense):
    # None: the numba kernels (CPU). Otherwise the torch branch a GPU runs, here on CPU tensors,
    # with `dense` thresholds by a full compare: 0 all through survivors, 99 none.
    if dense is not None:
        monkeypatch.setattr(torch_counts, "DENSE", dense)
        monkeypatch.setattr(ranking, "_kernel_path", lambda t: False)
    assert_matches(split_case, evaluate_embeddings(**split_case[0], block_size=24).long)


def test_cpu_tiles_that_split_languages(split_case, monkeypatch):
    # 3-row blocks in tiles of 16 columns: languages (24-60 texts) start and end mid-tile, and
    # most pieces are not a whole number of vector lanes.
    monkeypatch.setattr(ranking, "TILE_ROWS", 3)
    monkeypatch.setattr(cpu_counts, "TILE", 40)
    assert_matches(split_case, evaluate_embeddings(**split_case[0]).long)


def test_cpu_floor_above_a_threshold_is_redone(split_case, monkeypatch):
    # A floor over the weakest relevant score would drop candidates that outrank it.
    floors = cpu_counts.floors
    monkeypatch.setattr(cpu_counts, "floors", lambda *args: floors(*args) + np.float32(0.25))
    assert_matches(split_case, evaluate_embeddings(**split_case[0], block_size=24).long)


def assert_matches(case: tuple[dict, dict], got) -> None:
    """Every row of a long table equals the brute-force value of its key."""
    expected = case[1]
    assert len(got) == len(expected)
    for r in got.itertuples():
        assert r.value == pytest.approx(expected[(r.metric, r.lang_a, r.lang_b)], rel=1e-12)


@pytest.mark.parametrize("length", [0, 5, 16, 47, 160])
def test_vector_compact_keeps_values_at_or_above_the_floor_in_order(length):
    values = np.random.default_rng(length).standard_normal(length).astype(np.float32)
    values[::7] = 0.5  # ties with the floor are kept
    expected = values[values >= np.float32(0.5)]
    out = np.full(length + simd.LANES, np.nan, dtype=np.float32)
    kept = kernel._compact(values, np.float32(0.5), out, 0)
    assert kept == len(expected) and np.array_equal(out[:kept], expected)
    assert kernel._compact(values, np.float32(0.5), values, 0) == kept  # in place
    assert np.array_equal(values[:kept], expected)


def test_block_size_does_not_change_results():
    arrays = make_case(5, 60, ["en", "de", "fr", "es"], [1, 2], 0.4, True)
    small = evaluate_embeddings(**arrays, block_size=8).long
    large = evaluate_embeddings(**arrays, block_size=4096).long
    assert small.equals(large)


def clip_benchmark_recall(scores: torch.Tensor, positive: torch.Tensor, k: int) -> float:
    """CLIP_benchmark's recall_at_k, then the share of queries with a positive in the top k."""
    topk = torch.topk(scores, k, dim=1).indices
    onehot = torch.nn.functional.one_hot(topk, num_classes=scores.shape[1])
    true_pos = (onehot * positive.view(len(scores), 1, -1)).sum(dim=(1, 2))
    return float((true_pos / positive.sum(1) > 0).double().mean())


def test_first_protocol_matches_clip_benchmark(signal_embeddings):
    items, langs = 60, ["en", "de", "ja"]
    arrays = signal_embeddings(7, items, langs, 16, text_noise=1.2, image_noise=0.8, prefix="im")
    item = np.char.replace(arrays["text_item"], "im", "").astype(np.int64)
    result = evaluate_embeddings(**arrays, protocol="first", block_size=32)
    got = {(r.metric, r.lang_a): r.value for r in result.long.itertuples()}
    images = torch.nn.functional.normalize(torch.from_numpy(arrays["image_emb"]), dim=1)
    for lang in langs:
        # CLIP_benchmark: the first caption of each image, text i belongs to image item[i].
        first = np.flatnonzero((arrays["text_lang"] == lang) & (arrays["text_idx"] == 0))
        texts = torch.nn.functional.normalize(torch.from_numpy(arrays["text_emb"][first]), dim=1)
        positive = torch.zeros(len(first), items, dtype=torch.bool)
        positive[torch.arange(len(first)), torch.from_numpy(item[first])] = True
        scores = texts @ images.T
        for k in (1, 5, 10):
            t2i = clip_benchmark_recall(scores, positive, k)
            i2t = clip_benchmark_recall(scores.T, positive.T, k)
            assert got[(f"mono.t2i.r{k}", lang)] == pytest.approx(t2i, abs=1e-12)
            assert got[(f"mono.i2t.r{k}", lang)] == pytest.approx(i2t, abs=1e-12)
    assert 0.1 < result.aggregates["mono.t2i.r1"] < 0.9  # far from trivial


def language_case(language_offset: float) -> dict:
    rng = np.random.default_rng(11)
    items, langs, dim = 200, [f"l{j}" for j in range(8)], 32
    base = rng.normal(size=(items, dim))
    offsets = rng.normal(size=(len(langs), dim))
    rows = [(i, j, k) for i in range(items) for j in range(len(langs)) for k in range(2)]
    item = np.array([r[0] for r in rows])
    lang = np.array([r[1] for r in rows])
    emb = base[item] + 0.5 * rng.normal(size=(len(rows), dim)) + language_offset * offsets[lang]
    return {
        "text_emb": emb.astype(np.float32),
        "text_item": item.astype(str),
        "text_lang": np.array(langs)[lang],
        "text_idx": np.array([r[2] for r in rows], dtype=np.int32),
    }


def test_language_signal_moves_rank_distance_and_cross_scores():
    neutral = evaluate_embeddings(**language_case(0.0)).aggregates
    biased = evaluate_embeddings(**language_case(1.0)).aggregates
    assert neutral["multi.rank_distance"] < 1.0
    assert neutral["cross.t2t.r1"] == pytest.approx(neutral["mono.t2t.r1"], abs=0.02)
    # Each language's offset pulls its own captions together: other languages' captions of the
    # item fall behind distractors of languages nearer the query's, by different amounts.
    assert biased["multi.rank_distance"] > 100
    assert biased["cross.t2t.r1"] < neutral["cross.t2t.r1"] - 0.1
    assert biased["mono.t2t.r1"] == pytest.approx(neutral["mono.t2t.r1"], abs=0.02)


def _write(path, **arrays):
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a.pop("text_lang"), "missing array 'text_lang'"),
        (lambda a: a.update(text_item=a["text_item"][:-1]), "'text_item' has shape (5,)"),
        (lambda a: a["text_emb"].__setitem__((2, 1), np.nan), "'text_emb' row 2 is NaN"),
        (lambda a: a.update(text_emb=a["text_emb"][:, 0]), "must be 2-D"),
        (lambda a: a.pop("image_item"), "missing array 'image_item'"),
        (lambda a: a.update(image_emb=a["image_emb"][:, :3]), "text_emb dim 4 != image_emb dim 3"),
        (lambda a: a.update(image_item=np.array(["a", "a"])), "appears twice"),
    ],
)
def test_malformed_npz_gives_one_line_error(tmp_path, change, message):
    arrays = {
        "text_emb": np.ones((6, 4), dtype=np.float32),
        "text_item": np.array(["a", "a", "a", "b", "b", "b"]),
        "text_lang": np.array(["en", "de", "fr"] * 2),
        "text_idx": np.zeros(6, dtype=np.int32),
        "image_emb": np.ones((2, 4), dtype=np.float32),
        "image_item": np.array(["a", "b"]),
    }
    change(arrays)
    path = _write(tmp_path / "emb.npz", **arrays)
    with pytest.raises(InputError) as info:
        load_embeddings_npz(path)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert str(path) in str(info.value)


def test_not_an_npz_gives_one_line_error(tmp_path):
    path = tmp_path / "emb.npz"
    path.write_text("text_emb,text_item\n")
    with pytest.raises(InputError, match="not a readable npz") as info:
        load_embeddings_npz(path)
    assert "\n" not in str(info.value)
