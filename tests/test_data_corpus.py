"""The canonical corpus writer and reader (trainers.corpus): order, manifest, shards and item
index (format 2), format 1 still read, atomicity, errors."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

import trainers.corpus
import trainers.corpus_shards
from trainers.atomic_output import atomic_dir
from trainers.corpus import canonical_captions, open_corpus, write_corpus
from trainers.corpus_shards import finish_corpus, write_image_shard
from trainers.errors import InputError

ROWS = [  # deliberately not grouped: item b first, then a, then b again
    ("b", "en", 1, "b two"),
    ("a", "de", 0, "a eins"),
    ("b", "de", 0, "b eins"),
    ("a", "en", 0, "a one"),
    ("b", "en", 0, "b one"),
]


def frame(rows=ROWS) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["item_id", "lang", "idx", "text"])


def png(size: int, colour=(10, 200, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buf, "PNG")
    return buf.getvalue()


def write(path, rows=ROWS, **kw):
    return write_corpus(path, name="t", captions=frame(rows), source="test", licence="CC0", **kw)


def test_rows_are_grouped_by_item_in_first_appearance_order(tmp_path):
    corpus = open_corpus(write(tmp_path / "c", images={"a": png(8), "b": png(8, (0, 0, 0))}))
    assert corpus.item_ids.tolist() == ["b", "a"]
    table = corpus.captions.to_pandas()
    assert list(zip(table.item_id, table.lang, table.idx, strict=True)) == [
        ("b", "de", 0), ("b", "en", 0), ("b", "en", 1), ("a", "de", 0), ("a", "en", 0),
    ]  # fmt: skip
    m = corpus.manifest
    assert (m["languages"], m["num_items"], m["num_captions"]) == (["de", "en"], 2, 5)
    assert m["has_images"] and m["image_format"] == "png" and m["format_version"] == 2
    assert m["shards"] == {
        "captions": ["captions/part-00000.parquet"],
        "images": ["images/part-00000.parquet"],
    }
    assert sorted(m["checksums"]) == sorted(
        [*m["shards"]["captions"], "items.parquet", *m["shards"]["images"]]
    )
    index = corpus.caption_index()
    assert index.item.tolist() == [0, 0, 0, 1, 1]
    assert corpus.texts(np.array([3, 2])) == ["a eins", "b two"]
    assert corpus.images([1, 0])[0, 0, 0].tolist() == [10, 200, 30]  # item order, not row order


def test_fingerprint_is_stable_and_follows_content(tmp_path):
    one, two = write(tmp_path / "1"), write(tmp_path / "2")
    other = write(tmp_path / "3", rows=[*ROWS[:-1], ("b", "en", 0, "b uno")])
    fp = open_corpus(one).fingerprint()
    assert fp == open_corpus(one).fingerprint()
    assert open_corpus(other).fingerprint() != fp
    for name in ("captions/part-00000.parquet", "items.parquet"):
        assert (one / name).read_bytes() == (two / name).read_bytes()


def test_images_of_mixed_sizes_need_a_size(tmp_path):
    corpus = open_corpus(write(tmp_path / "c", images={"a": png(8), "b": png(12)}))
    with pytest.raises(InputError, match="differ in size"):
        corpus.images([0, 1])
    assert corpus.images([0, 1], size=16).shape == (2, 16, 16, 3)


@pytest.mark.parametrize(
    "rows, images, message",
    [
        ([], None, "empty corpus"),
        (
            [*ROWS, ("a", "en", 0, "again")],
            None,
            "duplicate caption key .item 'a', lang 'en', idx 0",
        ),
        ([*ROWS, ("a", "xx", 0, "?")], None, "unknown language code 'xx'"),
        ([*ROWS, ("a", "en", 1, None)], None, "null values in caption column 'text'"),
        (ROWS, {"a": png(8)}, "no image for item 'b'"),
        (ROWS, {"a": b"GIF89a...", "b": b"GIF89a..."}, "neither PNG nor JPEG"),
        (ROWS, {"b": png(8), "a": b"\xff\xd8\xff jpeg among png"}, "is not a PNG file"),
    ],
    ids=["empty", "duplicate", "language", "null", "image-missing", "gif", "mixed-formats"],
)
def test_bad_corpora_are_refused_and_nothing_is_written(tmp_path, rows, images, message):
    with pytest.raises(InputError, match=message):
        write(tmp_path / "c", rows=rows, images=images)
    assert list(tmp_path.iterdir()) == []  # neither the corpus nor a temporary sibling


def test_existing_output_is_kept_unless_overwrite(tmp_path):
    out = write(tmp_path / "c")
    before = (out / "manifest.json").read_bytes()
    with pytest.raises(InputError, match="already exists.*--overwrite"):
        write(out, rows=ROWS[1:2])
    assert (out / "manifest.json").read_bytes() == before
    write(out, rows=ROWS[1:2], overwrite=True)
    assert open_corpus(out).num_items == 1
    assert [p.name for p in tmp_path.iterdir()] == ["c"]


def test_reader_refuses_broken_corpora_with_the_file_named(tmp_path):
    with pytest.raises(InputError, match=r"not a canonical corpus \(no manifest.json\)"):
        open_corpus(tmp_path)
    out = write(tmp_path / "c")
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps({**manifest, "format_version": 9}))
    with pytest.raises(InputError, match="manifest.json: format_version 9 is not supported"):
        open_corpus(out)
    (out / "manifest.json").write_text(json.dumps({**manifest, "num_items": 5}))
    with pytest.raises(InputError, match="disagree with manifest.json"):
        open_corpus(out).caption_index()
    (out / "manifest.json").write_text("{not json")
    with pytest.raises(InputError, match="manifest.json: corrupt manifest"):
        open_corpus(out)
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / "captions/part-00000.parquet").write_bytes(b"PAR1 truncated")
    with pytest.raises(InputError, match="part-00000.parquet: unreadable parquet"):
        open_corpus(out)
    with pytest.raises(InputError, match="text-only corpus"):
        open_corpus(write(tmp_path / "d")).images([0])


def _read_back(corpus) -> tuple:
    """Everything a reader sees: items, caption rows and index, decoded images."""
    index = corpus.caption_index()
    return (
        corpus.item_ids.tolist(),
        corpus.captions.to_pylist(),
        index.item.tolist(),
        corpus.texts(np.array([4, 0, 2])),
        corpus.images(np.array([2, 0, 1, 2])).tolist(),
    )


ROWS3 = [*ROWS, ("c", "en", 0, "c one"), ("c", "de", 0, "c eins")]
IMAGES3 = {"a": png(8), "b": png(8, (0, 0, 0)), "c": png(8, (1, 2, 3))}


def test_images_and_captions_in_several_shards_read_as_one(tmp_path, monkeypatch):
    whole = open_corpus(write(tmp_path / "whole", rows=ROWS3, images=IMAGES3))
    monkeypatch.setattr(trainers.corpus_shards, "IMAGE_SHARD_ITEMS", 2)
    monkeypatch.setattr(trainers.corpus_shards, "CAPTION_SHARD_ROWS", 3)
    sharded = open_corpus(write(tmp_path / "sharded", rows=ROWS3, images=IMAGES3))
    assert [len(sharded.manifest["shards"][k]) for k in ("captions", "images")] == [3, 2]
    assert _read_back(sharded) == _read_back(whole)


def test_the_item_index_finds_images_in_shards_of_any_order(tmp_path):
    """Parallel writers put any items in any shard; the item index maps each to its place."""
    table = canonical_captions(frame(ROWS3), tmp_path / "c")  # items b, a, c
    with atomic_dir(tmp_path / "c") as root:
        shards = [
            write_image_shard(root, "x", ["c", "b"], [IMAGES3["c"], IMAGES3["b"]], "png", "t"),
            write_image_shard(root, "y", ["a"], [IMAGES3["a"]], "png", "t"),
        ]
        finish_corpus(root, table, shards[::-1], name="t", source="s", licence="l", where=root)
    corpus = open_corpus(tmp_path / "c")
    expected = open_corpus(write(tmp_path / "d", rows=ROWS3, images=IMAGES3))
    assert pq.read_table(tmp_path / "c" / "items.parquet").to_pylist() == [
        {"item_id": "b", "image_shard": 1, "image_row": 1},
        {"item_id": "a", "image_shard": 0, "image_row": 0},
        {"item_id": "c", "image_shard": 1, "image_row": 0},
    ]
    assert _read_back(corpus) == _read_back(expected)


@pytest.mark.parametrize(
    "shard_items, message",
    [
        ([["b"], ["a"]], "no image for item 'c' .1 of 3 items"),
        ([["b", "a", "c"], ["a"]], "item 'a' has two images"),
    ],
    ids=["missing", "twice"],
)
def test_the_item_index_needs_exactly_one_image_per_item(tmp_path, shard_items, message):
    table = canonical_captions(frame(ROWS3), tmp_path / "c")
    with pytest.raises(InputError, match=message), atomic_dir(tmp_path / "c") as root:
        shards = [
            write_image_shard(root, f"p{k}", ids, [IMAGES3[i] for i in ids], "png", "t")
            for k, ids in enumerate(shard_items)
        ]
        finish_corpus(root, table, shards, name="t", source="s", licence="l", where=root)
    assert list(tmp_path.iterdir()) == []


def test_format_1_corpora_are_still_read(tmp_path):
    expected = open_corpus(write(tmp_path / "v2", rows=ROWS3, images=IMAGES3))
    v1 = tmp_path / "v1"
    v1.mkdir()
    pq.write_table(expected.captions, v1 / "captions.parquet")
    images = pa.table({"item_id": ["b", "a", "c"], "image": [IMAGES3[i] for i in "bac"]})
    pq.write_table(images, v1 / "images.parquet")
    manifest = {k: v for k, v in expected.manifest.items() if k not in ("shards", "checksums")}
    (v1 / "manifest.json").write_text(json.dumps({**manifest, "format_version": 1}))
    corpus = open_corpus(v1)
    assert _read_back(corpus) == _read_back(expected)
    assert corpus.fingerprint() != expected.fingerprint()
