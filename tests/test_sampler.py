"""Pair samplers: batch-type shares, language rules, rank agreement, epoch coverage, exact resume."""

from __future__ import annotations

import io
import json
import pickle
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image
from scipy.stats import binom

from study.cli import main
from trainers.batch import CaptionIndex, PairBatch, subset_items
from trainers.config import BudgetConfig
from trainers.corpus import write_corpus
from trainers.errors import InputError
from trainers.sampler import PairSampler
from trainers.schedule import total_steps

LANGS = ("ar", "de", "el", "en", "es", "fr", "hi", "ja", "ru", "sw")


def make_index(
    num_items: int = 600, seed: int = 0, present: np.ndarray | None = None
) -> CaptionIndex:
    """10 languages, 'sw' in ~30 % of items, 2 captions per item and language (20 % only 1)."""
    rng = np.random.default_rng(seed)
    if present is None:
        present = np.ones((num_items, len(LANGS)), dtype=bool)
        present[:, LANGS.index("sw")] = rng.random(num_items) < 0.3
    counts = (np.where(rng.random(present.shape) < 0.2, 1, 2) * present).ravel()
    item = np.repeat(np.arange(num_items).repeat(len(LANGS)), counts)
    lang = np.repeat(np.tile(np.arange(len(LANGS)), num_items), counts)
    idx = np.arange(len(item)) - np.repeat(np.cumsum(counts) - counts, counts)
    # Rows stay grouped by item (the corpus contract) but languages are shuffled within items.
    order = np.lexsort((rng.random(len(item)), item))
    return CaptionIndex(
        item[order].astype(np.int64),
        lang[order].astype(np.int16),
        idx[order].astype(np.int32),
        LANGS,
        num_items,
    )


def check_pairs(index: CaptionIndex, batch: PairBatch, arm: str) -> None:
    """Every pair's captions belong to its item; the arm's language rules hold."""
    assert np.array_equal(index.item[batch.it_rows], batch.it_items)
    assert np.array_equal(index.item[batch.tt_rows_a], batch.tt_items)
    assert np.array_equal(index.item[batch.tt_rows_b], batch.tt_items)
    la, lb = index.lang[batch.tt_rows_a], index.lang[batch.tt_rows_b]
    if batch.batch_type == "mono":
        lang = LANGS.index(batch.mono_lang)
        assert (
            (index.lang[batch.it_rows] == lang).all() and (la == lang).all() and (lb == lang).all()
        )
        assert (index.idx[batch.tt_rows_a] != index.idx[batch.tt_rows_b]).all()
        in_lang = np.bincount(index.item[index.lang == lang], minlength=index.num_items)
        assert np.array_equal(batch.it_items[in_lang[batch.it_items] >= 2], batch.tt_items)
    elif batch.batch_type == "cross":
        assert (la != lb).all() and np.array_equal(batch.tt_items, batch.it_items)
        assert np.array_equal(batch.it_rows, batch.tt_rows_a)
    else:
        assert batch.batch_type == "clip" and len(batch.tt_items) == 0
        if arm == "clip-en":
            assert (index.lang[batch.it_rows] == LANGS.index("en")).all()


@pytest.fixture(scope="module")
def index() -> CaptionIndex:
    return make_index()


@pytest.mark.parametrize("alpha", [0.0, 0.25, 0.5, 1.0])
def test_mono_share_matches_alpha_and_pairs_follow_the_rules(
    index: CaptionIndex, alpha: float
) -> None:
    steps = 2500
    sampler = PairSampler(
        index, subset_items(600, 400, 0), arm="hybrid", alpha=alpha, batch_size=32, seed=3
    )
    batches = [sampler.next_batch() for _ in range(steps)]
    mono = sum(b.batch_type == "mono" for b in batches)
    low, high = binom.interval(0.99, steps, alpha)
    assert low <= mono <= high
    for b in batches[:300]:
        check_pairs(index, b, "hybrid")
    langs = {b.mono_lang for b in batches if b.batch_type == "mono"}
    assert langs == (set(LANGS) if alpha > 0 else set())


def test_two_ranks_agree_split_items_and_cover_each_epoch(index: CaptionIndex) -> None:
    items = subset_items(600, 250, 1)
    kw = dict(arm="hybrid", alpha=0.5, batch_size=32, seed=7)
    whole = PairSampler(index, items, **kw)
    ranks = [PairSampler(index, items, rank=r, world_size=2, **kw) for r in range(2)]
    assert whole.steps_per_epoch == 8
    seen: dict[int, list[np.ndarray]] = {}
    for step in range(5 * whole.steps_per_epoch):
        full, (b0, b1) = whole.next_batch(), [s.next_batch() for s in ranks]
        assert b0.step == b1.step == step
        assert (
            (b0.batch_type, b0.mono_lang)
            == (b1.batch_type, b1.mono_lang)
            == (full.batch_type, full.mono_lang)
        )
        assert len(b0.it_items) == len(b1.it_items) == len(full.it_items) // 2
        assert not set(b0.it_items) & set(b1.it_items)
        # The global batch does not depend on the world size.
        assert np.array_equal(np.concatenate([b0.it_rows, b1.it_rows]), full.it_rows)
        assert np.array_equal(np.concatenate([b0.tt_rows_b, b1.tt_rows_b]), full.tt_rows_b)
        assert ranks[0].epoch == ranks[1].epoch == whole.epoch == step // 8
        seen.setdefault(whole.epoch, []).extend([b0.it_items, b1.it_items])
    for epoch, parts in seen.items():
        used = np.concatenate(parts)
        assert np.array_equal(np.sort(used), items), f"epoch {epoch} does not cover the subset once"
    orders = [np.concatenate(seen[e]) for e in (0, 1)]
    assert not np.array_equal(orders[0], orders[1])


def test_clip_arm_mixes_languages_without_text_pairs(index: CaptionIndex) -> None:
    sampler = PairSampler(index, subset_items(600, 300, 0), arm="clip", alpha=None, batch_size=64)
    batches = [sampler.next_batch() for _ in range(200)]
    for b in batches:
        check_pairs(index, b, "clip")
        assert len(set(index.lang[b.it_rows].tolist())) >= 5
    shares = np.bincount(np.concatenate([index.lang[b.it_rows] for b in batches]), minlength=10)
    shares = shares / shares.sum()
    # Uniform over each item's languages: 9 full languages near 1/9.3 each, 'sw' about 0.3 of that.
    assert np.allclose(np.delete(shares, LANGS.index("sw")), 1 / 9.3, atol=0.01)
    assert 0.02 < shares[LANGS.index("sw")] < 0.045


def test_clip_en_uses_english_and_skips_items_without_it() -> None:
    present = np.ones((200, len(LANGS)), dtype=bool)
    present[::4, LANGS.index("en")] = False
    index = make_index(200, present=present)
    sampler = PairSampler(index, np.arange(200), arm="clip-en", alpha=None, batch_size=30)
    assert sampler.steps_per_epoch == 5
    used = []
    for _ in range(5):
        b = sampler.next_batch()
        check_pairs(index, b, "clip-en")
        used.append(b.it_items)
    assert np.array_equal(
        np.sort(np.concatenate(used)), np.flatnonzero(present[:, LANGS.index("en")])
    )
    with pytest.raises(InputError, match="clip-en"):
        PairSampler(
            index, np.arange(200), arm="clip-en", alpha=None, batch_size=30, languages=["de", "fr"]
        )


def test_uneven_coverage_never_pairs_a_missing_language_and_covers_the_pool() -> None:
    rng = np.random.default_rng(5)
    present = rng.random((300, len(LANGS))) < 0.35
    present[:40] = False
    present[np.arange(40), rng.integers(0, len(LANGS), 40)] = True  # 40 single-language items
    present[40:50] = False
    present[40:50, LANGS.index("sw")] = True  # only 'sw', which training leaves out
    index = make_index(300, present=present)
    train = [code for code in LANGS if code != "sw"]
    for alpha in (0.0, 0.5, 1.0):
        sampler = PairSampler(
            index, np.arange(300), arm="hybrid", alpha=alpha, batch_size=24, languages=train
        )
        kept = present[:, :9].sum(axis=1) >= (2 if alpha == 0 else 1)
        epochs: dict[int, list[np.ndarray]] = {}
        for _ in range(3 * sampler.steps_per_epoch + 6):
            b = sampler.next_batch()
            check_pairs(index, b, "hybrid")
            assert LANGS.index("sw") not in index.lang[b.it_rows]
            epochs.setdefault(sampler.epoch, []).append(b.it_items)
        for parts in list(epochs.values())[:-1]:
            assert np.array_equal(np.sort(np.concatenate(parts)), np.flatnonzero(kept))


def test_low_resource_language_is_only_paired_where_present(index: CaptionIndex) -> None:
    sampler = PairSampler(
        index, np.arange(600), arm="hybrid", alpha=1.0, batch_size=40, languages=["en", "sw"]
    )
    sw_items = set(
        np.flatnonzero(
            np.bincount(index.item[index.lang == LANGS.index("sw")], minlength=600)
        ).tolist()
    )
    types = []
    for _ in range(3 * sampler.steps_per_epoch):
        b = sampler.next_batch()
        check_pairs(index, b, "hybrid")
        if b.mono_lang == "sw":
            assert set(b.it_items.tolist()) <= sw_items
        types.append(b.mono_lang)
    assert (
        0.2 < types.count("sw") / len(types) < 0.5
    )  # drawn half the time, falls back when used up


def test_state_dict_resumes_exactly_mid_epoch(index: CaptionIndex) -> None:
    items = subset_items(600, 500, 0)
    kw = dict(arm="hybrid", alpha=0.5, batch_size=24, seed=11)
    sampler = PairSampler(index, items, **kw)
    for _ in range(sampler.steps_per_epoch + 9):
        sampler.next_batch()
    state = pickle.loads(pickle.dumps(sampler.state_dict()))
    future = [sampler.next_batch() for _ in range(2 * sampler.steps_per_epoch)]
    resumed = PairSampler(index, items, **kw)
    resumed.load_state_dict(state)
    halves = [PairSampler(index, items, rank=r, world_size=2, **kw) for r in range(2)]
    for half in halves:
        half.load_state_dict(state)
    for expected in future:
        got = resumed.next_batch()
        assert (got.step, got.batch_type, got.mono_lang) == (
            expected.step,
            expected.batch_type,
            expected.mono_lang,
        )
        for field in ("it_items", "it_rows", "tt_items", "tt_rows_a", "tt_rows_b"):
            assert np.array_equal(getattr(got, field), getattr(expected, field))
        b0, b1 = (h.next_batch() for h in halves)
        assert np.array_equal(np.concatenate([b0.it_rows, b1.it_rows]), expected.it_rows)
    other = PairSampler(index, items, **{**kw, "seed": 12})
    with pytest.raises(InputError, match="sampler checkpoint"):
        other.load_state_dict(state)


def test_nested_subsets_and_language_sampling(index: CaptionIndex) -> None:
    sizes = [50, 120, 300, 600]
    subsets = [set(subset_items(600, n, 4).tolist()) for n in sizes]
    assert all(small < big for small, big in zip(subsets[:-1], subsets[1:], strict=True))
    counts = {}
    for mode in ("uniform", "temperature", "proportional"):
        sampler = PairSampler(
            index, np.arange(600), arm="hybrid", alpha=1.0, batch_size=8, language_sampling=mode
        )
        drawn = [sampler.next_batch().mono_lang for _ in range(3000)]
        counts[mode] = drawn.count("sw") / len(drawn)
    # sw covers ~30 % of items: proportional ~0.3/9.3, temperature 0.3 lifts it, uniform 1/10.
    assert counts["proportional"] < counts["temperature"] < counts["uniform"]
    assert abs(counts["uniform"] - 0.1) < 0.02 and abs(counts["proportional"] - 0.032) < 0.012
    with pytest.raises(InputError, match="unknown language 'xx'"):
        PairSampler(
            index, np.arange(600), arm="hybrid", alpha=0.5, batch_size=8, languages=["en", "xx"]
        )
    with pytest.raises(InputError, match="alpha"):
        PairSampler(index, np.arange(600), arm="hybrid", alpha=1.5, batch_size=8)


def write_image_corpus(path: Path, num_items: int = 60) -> list[str]:
    """A small canonical image corpus in the LANGS languages (via the real corpus writer)."""
    index = make_index(num_items, seed=2)
    ids = [f"{i:016x}" for i in range(num_items)]
    captions = pa.table(
        {
            "item_id": [ids[i] for i in index.item],
            "lang": [LANGS[lang] for lang in index.lang],
            "idx": index.idx,
            "text": [
                f"caption {i} {LANGS[lang]} {c}"
                for i, lang, c in zip(index.item, index.lang, index.idx, strict=True)
            ],
        }
    )
    images = {}
    for i, item_id in enumerate(ids):
        buf = io.BytesIO()
        Image.new("RGB", (8, 8), (i * 4 % 256, 0, 0)).save(buf, format="PNG")
        images[item_id] = buf.getvalue()
    write_corpus(path, name="tiny", captions=captions, images=images, source="test", licence="CC0")
    return ids


def test_inspect_batches_writes_what_each_rank_trains_on(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    ids = write_image_corpus(tmp_path / "corpus")
    config = tmp_path / "study.yaml"
    corpus = tmp_path / "corpus"
    config.write_text(
        f"name: t\ndata: {{train: {corpus}, eval: {corpus}}}\ntrain: {{batch_size: 8}}\n"
        "sweep: {data_sizes: [40, 60], mix_ratios: [0.0, 0.5, 1.0], arms: [hybrid, clip]}\n"
        "resources: {workers_per_trial: 2}\n"
    )
    out_dir = tmp_path / "inspect"  # --out names a directory; batches.jsonl goes inside
    out = out_dir / "batches.jsonl"
    assert main(["inspect-batches", str(config), "--steps", "15", "--out", str(out_dir)]) == 0
    assert "hybrid alpha=0.5, N=40" in capsys.readouterr().out
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["step"], r["rank"]) for r in lines] == [(s, r) for s in range(15) for r in range(2)]
    subset = {ids[i] for i in subset_items(60, 40, 0)}
    for step in range(15):
        r0, r1 = lines[2 * step], lines[2 * step + 1]
        assert (r0["batch_type"], r0["mono_lang"]) == (r1["batch_type"], r1["mono_lang"])
        items = [{p["item"] for p in r["pairs"] if p["kind"] == "image-text"} for r in (r0, r1)]
        assert (
            len(items[0]) == len(items[1]) == 4
            and not items[0] & items[1]
            and items[0] | items[1] <= subset
        )
        for p in r0["pairs"] + r1["pairs"]:
            if r0["batch_type"] == "mono":
                assert p["lang_a"] == r0["mono_lang"] and p["lang_b"] in (None, r0["mono_lang"])
                assert p["kind"] == "image-text" or p["idx_a"] != p["idx_b"]
            elif p["kind"] == "text-text":
                assert p["lang_a"] != p["lang_b"]
    first_epoch = {p["item"] for r in lines[:10] for p in r["pairs"]}
    assert first_epoch == subset
    assert {r["batch_type"] for r in lines} == {"mono", "cross"}
    assert (
        main(
            ["inspect-batches", str(config), "--arm", "clip", "--steps", "3", "--out", str(out_dir)]
        )
        == 0
    )
    assert all(
        p["kind"] == "image-text"
        for line in out.read_text().splitlines()
        for p in json.loads(line)["pairs"]
    )
    assert (
        main(
            [
                "inspect-batches",
                str(config),
                "--steps",
                "3",
                "--world-size",
                "3",
                "--out",
                str(out_dir),
            ]
        )
        == 2
    )
    assert "--world-size 3" in capsys.readouterr().err
    assert sorted(p.name for p in out_dir.iterdir()) == ["batches.jsonl"]


@pytest.mark.parametrize(("arm", "alpha"), [("hybrid", 0.5), ("hybrid", 1.0), ("clip", None)])
def test_samples_budget_gives_every_size_the_same_samples_within_a_batch(
    index: CaptionIndex, arm: str, alpha: float | None
) -> None:
    # Sizes whose epochs end in short batches (and, at alpha 1, in uneven 'sw' coverage).
    budget, batch = BudgetConfig(samples=1000), 48
    for size in (50, 130, 333, 600):
        sampler = PairSampler(
            index, subset_items(600, size, 1), arm=arm, alpha=alpha, batch_size=batch
        )
        steps = total_steps(budget, sampler)
        seen = sum(len(sampler.next_batch().it_items) for _ in range(steps))
        assert 1000 <= seen < 1000 + batch, (size, steps, seen)
        assert sampler.step == steps  # counting the steps left the sampler where it was
