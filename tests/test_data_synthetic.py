"""The embedded corpus generator: same seed same bytes, the corpus properties of spec section 2."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from study.cli import main
from study.config import parse_config
from study.data.sources import resolve_corpora
from study.data.synthetic import LANGUAGES, LOW_RESOURCE, World, ensure_synthetic
from study.data.synthetic.languages import GRAMMARS, en, es, ja
from study.errors import StudyError
from trainers.corpus import open_corpus

# Unicode blocks of the scripts the grammars declare; a caption letter outside its block fails.
SCRIPT_RANGES = {
    "Latin": [(0x41, 0x5A), (0x61, 0x7A), (0xC0, 0x24F)],
    "Greek": [(0x370, 0x3FF), (0x1F00, 0x1FFF)],
    "Cyrillic": [(0x400, 0x4FF)],
    "Arabic": [(0x600, 0x6FF)],
    "Devanagari": [(0x900, 0x97F)],
    "Han/Kana": [(0x3040, 0x309F), (0x30A0, 0x30FF), (0x4E00, 0x9FFF)],
}


def script_of(ch: str) -> str | None:
    """The script whose Unicode ranges hold `ch`."""
    return next(
        (
            name
            for name, ranges in SCRIPT_RANGES.items()
            for lo, hi in ranges
            if lo <= ord(ch) <= hi
        ),
        None,
    )


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def captions(path: Path):
    return open_corpus(path).captions.to_pandas()


def scenes(root: Path) -> dict[str, list[dict]]:
    rows = [json.loads(line) for line in (root / "scenes.jsonl").read_text().splitlines()]
    return {split: [r for r in rows if r["split"] == split] for split in ("train", "eval")}


def test_same_seed_gives_identical_files_and_another_seed_differs(tmp_path, capsys):
    argv = ["data", "synthetic", "--items", "40", "--eval-items", "12"]
    for out, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        assert main([*argv, "--seed", seed, "--out", str(tmp_path / out)]) == 0
    assert "40 items" in capsys.readouterr().out
    a, b, c = (tree_bytes(tmp_path / name) for name in "abc")
    kinds = {Path(name).suffix for name in a}
    assert {".parquet", ".json", ".jsonl", ".jpg"} <= kinds
    assert len([n for n in a if n.endswith(".jpg")]) == 12
    assert a.keys() == b.keys()
    assert [n for n in a if a[n] != b[n]] == []
    assert a["train/captions/part-00000.parquet"] != c["train/captions/part-00000.parquet"]
    assert a["train/images/part-00000.parquet"] != c["train/images/part-00000.parquet"]


def test_languages_cover_eight_or_more_in_four_or_more_scripts(embedded_corpus):
    train = captions(embedded_corpus.train)
    assert sorted(train["lang"].unique()) == sorted(LANGUAGES)
    assert len(LANGUAGES) >= 8
    seen_scripts = set()
    for lang, texts in train.groupby("lang")["text"]:
        declared = GRAMMARS[lang].script
        letters = [ch for text in texts for ch in text if ch.isalpha()]
        outside = {ch for ch in letters if script_of(ch) != declared}
        assert letters and not outside, (lang, declared, sorted(outside)[:10])
        seen_scripts.add(declared)
    assert len(seen_scripts) >= 4, seen_scripts


def test_word_orders_really_differ(embedded_corpus):
    # Tokenized eval captions of one-object scenes: English puts the colour before the noun,
    # Spanish after it; Japanese is written without spaces and ends in its verb.
    folder = embedded_corpus.eval_xm3600
    records = [json.loads(line) for line in (folder / "captions.jsonl").read_text().splitlines()]
    scene = {r["item_id"]: r["scene"] for r in scenes(folder.parent)["eval"]}
    single = [r for r in records if scene[r["image/key"]].count("|") == 1]
    assert len(single) >= 5
    for rec in single:
        _, colour, shape = scene[rec["image/key"]].split("|")[0].split(".")
        for lang, colours, shapes, colour_first in (
            ("en", en.COLOUR[colour], en.SHAPE[shape], True),
            ("es", es.COLOUR[colour], [n for n, _ in es.SHAPE[shape]], False),
        ):
            for tokens in (t.split() for t in rec[lang]["caption/tokenized"]):
                c = next(i for i, t in enumerate(tokens) if t in colours)
                n = next(i for i, t in enumerate(tokens) if t in shapes)
                assert (c < n) == colour_first, (lang, tokens)
        for text, tokens in zip(rec["ja"]["caption"], rec["ja"]["caption/tokenized"], strict=True):
            assert " " not in text and tokens.split()[-1] in ja.VERB, text


@pytest.mark.parametrize("split", ["train", "eval"])
def test_two_different_captions_per_item_and_language(embedded_corpus, split):
    table = captions(getattr(embedded_corpus, split))
    groups = table.groupby(["item_id", "lang"])
    assert set(groups["idx"].agg(lambda s: tuple(sorted(s)))) == {(0, 1)}
    assert groups["text"].nunique().min() == 2  # the two are paraphrases, not copies


def test_low_resource_language_covers_only_a_fraction_of_training_items(embedded_corpus):
    train, evals = captions(embedded_corpus.train), captions(embedded_corpus.eval)
    items = train["item_id"].nunique()
    per_lang = train.groupby("lang")["item_id"].nunique()
    share = World().low_resource_share
    for lang in LANGUAGES:
        expected = round(share * items) if lang in LOW_RESOURCE else items
        assert per_lang[lang] == expected, lang
    assert 0 < per_lang[LOW_RESOURCE[0]] < items
    eval_items = evals["item_id"].nunique()
    assert (evals.groupby("lang")["item_id"].nunique() == eval_items).all()  # eval: every language


def test_eval_scenes_are_disjoint_from_training_scenes(embedded_corpus):
    # A scene is compared by Scene.key(), the generator's description of what an image shows up
    # to paraphrase ("A left of B" == "B right of A"); scenes.jsonl records it for every item.
    root = embedded_corpus.train.parent
    split_scenes = scenes(root)
    for split in ("train", "eval"):
        ids = open_corpus(getattr(embedded_corpus, split)).item_ids.tolist()
        assert [r["item_id"] for r in split_scenes[split]] == ids
    train_keys = {r["scene"] for r in split_scenes["train"]}
    eval_keys = [r["scene"] for r in split_scenes["eval"]]
    assert len(set(eval_keys)) == len(eval_keys)
    assert train_keys.isdisjoint(eval_keys)
    # The key really is what the captions say: every object's colour and shape is in English.
    english = captions(embedded_corpus.eval).query("lang == 'en'").groupby("item_id")["text"]
    texts = english.agg(" ".join)
    for row in split_scenes["eval"]:
        for obj in row["scene"].split("|")[:-1]:
            _, colour, shape = obj.split(".")
            text = texts[row["item_id"]].lower()
            assert any(w in text for w in en.COLOUR[colour]), (colour, text)
            assert any(w in text for w in en.SHAPE[shape]), (shape, text)
    # Hence no eval caption repeats a training caption in any language.
    train, evals = captions(embedded_corpus.train), captions(embedded_corpus.eval)
    shared = set(zip(train["lang"], train["text"], strict=True)) & set(
        zip(evals["lang"], evals["text"], strict=True)
    )
    assert not shared, sorted(shared)[:3]


def test_eval_split_is_upstream_xm3600_form(embedded_corpus):
    folder = embedded_corpus.eval_xm3600
    records = [json.loads(line) for line in (folder / "captions.jsonl").read_text().splitlines()]
    assert len(records) == open_corpus(embedded_corpus.eval).num_items
    for rec in records:
        assert re.fullmatch(r"[0-9a-f]{16}", rec["image/key"])
        assert rec["image/locale"] in LANGUAGES
        assert set(rec) - {"image/key", "image/locale"} == set(LANGUAGES)
        for lang in LANGUAGES:
            entry = rec[lang]
            assert set(entry) == {"caption", "caption/tokenized", "caption/tokenized/lowercase"}
            assert len(entry["caption"]) == len(entry["caption/tokenized"]) == 2
            assert entry["caption/tokenized/lowercase"] == [
                t.lower() for t in entry["caption/tokenized"]
            ]
        image = folder / "images" / f"{rec['image/key']}.jpg"
        assert image.read_bytes()[:3] == b"\xff\xd8\xff"
    assert len(list((folder / "images").iterdir())) == len(records)


def test_eval_split_round_trips_through_the_xm3600_importer(embedded_corpus, tmp_path, capsys):
    folder, out = embedded_corpus.eval_xm3600, tmp_path / "reimported"
    argv = ["data", "xm3600", "--captions", str(folder / "captions.jsonl")]
    assert main([*argv, "--images", str(folder / "images"), "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    for name in ("captions/part-00000.parquet", "items.parquet", "images/part-00000.parquet"):
        assert pq.read_table(out / name).equals(pq.read_table(embedded_corpus.eval / name)), name
    ours, theirs = (
        json.loads((p / "manifest.json").read_text()) for p in (out, embedded_corpus.eval)
    )
    for key in ("name", "source", "licence"):  # provenance, given by the caller
        ours.pop(key), theirs.pop(key)
    assert ours == theirs
    assert ours["image_format"] == "jpeg" and ours["has_images"]


def test_train_split_reads_as_a_canonical_image_corpus(embedded_corpus):
    corpus = open_corpus(embedded_corpus.train)
    assert corpus.manifest["image_format"] == "png"
    index = corpus.caption_index()
    assert index.num_items == corpus.num_items == len(corpus.item_ids)
    images = corpus.images([0, corpus.num_items - 1])
    assert images.shape == (2, World().image_size, World().image_size, 3)
    assert images.std() > 10  # drawn objects, not a blank canvas


def test_ensure_synthetic_generates_once_then_reuses(tmp_path):
    first = ensure_synthetic(tmp_path, 20, 10, seed=1)
    stamp = (first.train / "manifest.json").stat().st_mtime_ns
    second = ensure_synthetic(tmp_path, 20, 10, seed=1)
    assert second == first
    assert (second.train / "manifest.json").stat().st_mtime_ns == stamp
    assert open_corpus(first.eval).num_items == 10
    other = ensure_synthetic(tmp_path, 20, 10, seed=1, world=World(max_objects=2))
    assert other.train != first.train  # a non-default world is cached apart


def test_study_config_resolves_the_embedded_corpus_in_its_cache(tmp_path):
    raw = {
        "name": "s",
        "data": {"cache_dir": str(tmp_path), "synthetic": {"items": 20, "eval_items": 10}},
        "train": {"batch_size": 8},
        "sweep": {"data_sizes": [10, 20]},
    }
    train, evald = resolve_corpora(parse_config(raw))
    assert train.parent == evald.parent and train.parent.parent == tmp_path
    assert (open_corpus(train).num_items, open_corpus(evald).num_items) == (20, 10)
    raw["data"]["eval"] = str(tmp_path / "missing")
    with pytest.raises(StudyError, match=r"data.eval: .*missing is not a canonical corpus"):
        resolve_corpora(parse_config(raw))
