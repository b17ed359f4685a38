"""Importers on fixtures in the exact upstream formats, through the `study data` CLI."""

from __future__ import annotations

import bz2
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from study.cli import main
from trainers.corpus import open_corpus

FIXTURES = Path(__file__).resolve().parent / "fixtures"
XM3600, COCO, CC3M = FIXTURES / "xm3600", FIXTURES / "coco35l", FIXTURES / "cc3m35l"


def run(capsys, *argv: str) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def rows(path: Path) -> list[tuple[str, str, int, str]]:
    table = open_corpus(path).captions
    return list(
        zip(*(table[c].to_pylist() for c in ("item_id", "lang", "idx", "text")), strict=True)
    )


def counts(path: Path) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for item, lang, _, _ in rows(path):
        out[item, lang] = out.get((item, lang), 0) + 1
    return out


def images(path: Path) -> dict[str, bytes]:
    corpus = open_corpus(path)
    stored = corpus.encoded_images(np.arange(corpus.num_items))
    return dict(zip(corpus.item_ids.tolist(), stored, strict=True))


def test_fixtures_are_in_the_upstream_formats():
    for line in (XM3600 / "captions.jsonl").read_text().splitlines():
        rec = json.loads(line)
        assert len(rec["image/key"]) == 16 and int(rec["image/key"], 16) >= 0
        assert rec["image/locale"] in rec
        for lang in set(rec) - {"image/key", "image/locale"}:
            assert set(rec[lang]) == {"caption", "caption/tokenized", "caption/tokenized/lowercase"}
        assert (XM3600 / "images" / f"{rec['image/key']}.jpg").is_file()
    mt_fields = {"src_lang", "trg_lang", "caption_tokenized", "translation_tokenized"}
    mt_fields.add("backtranslation_tokenized")
    for path, key in (
        (COCO / "coco_mt_dev.jsonl", "image_id"),
        (CC3M / "cc3m_mt_dev.jsonl", "rec_num"),
    ):
        for line in path.read_text().splitlines():
            assert set(json.loads(line)) == mt_fields | {key}


def test_xm3600_import_keeps_every_caption_and_missing_languages(tmp_path, capsys):
    out = tmp_path / "xm"
    argv = ["data", "xm3600", "--captions", str(XM3600 / "captions.jsonl")]
    printed = run(capsys, *argv, "--images", str(XM3600 / "images"), "--out", str(out))
    assert "3 items, 15 captions, 6 languages (ar en fil ja quz sw), with images" in printed
    a, b, c = "000411001ff7dd4f", "00c8a8c8fa6b8e27", "01a3f7c2b9d04e15"
    assert counts(out) == {
        (a, "ar"): 2, (a, "en"): 2, (a, "fil"): 1, (a, "ja"): 1,
        (b, "en"): 2, (b, "ja"): 2, (b, "quz"): 1,
        (c, "ar"): 1, (c, "en"): 1, (c, "sw"): 2,
    }  # fmt: skip
    assert (a, "en", 1, "A motorbike on a dirt road.") in rows(out)
    assert (b, "ja", 0, "緑の丘に立つ二頭のラマ") in rows(
        out
    )  # the caption, not the tokenized form
    assert images(out) == {k: (XM3600 / "images" / f"{k}.jpg").read_bytes() for k in (a, b, c)}
    corpus = open_corpus(out)
    assert corpus.item_ids.tolist() == [a, b, c]  # file order
    assert corpus.manifest["image_format"] == "jpeg"
    assert corpus.images([0, 1, 2]).shape == (3, 16, 16, 3)


def test_xm3600_without_images_is_a_text_only_corpus(tmp_path, capsys):
    out = tmp_path / "xm-text"
    run(capsys, "data", "xm3600", "--captions", str(XM3600 / "captions.jsonl"), "--out", str(out))
    corpus = open_corpus(out)
    assert not corpus.has_images and not (out / "images").exists()
    assert corpus.num_items == 3 and corpus.manifest["image_format"] is None


COCO_EXPECTED = [
    ("391895", "de", 0, "ein mann mit einem roten helm auf einem kleinen moped auf einem feldweg"),
    ("391895", "de", 1, "mann fährt auf einem feldweg auf dem land motorrad"),
    ("391895", "en", 0, "a man with a red helmet on a small moped on a dirt road"),
    ("391895", "en", 1, "man riding a motor bike on a dirt road on the countryside"),
    ("391895", "ja", 0, "未舗装の道路で小さな原付に乗った赤いヘルメットの男"),
    ("391895", "ja", 1, "田舎の未舗装路でバイクに乗る男"),
    ("522418", "de", 0, "eine frau mit einem netz auf dem kopf schneidet einen kuchen"),
    ("522418", "en", 0, "a woman wearing a net on her head cutting a cake"),
    ("522418", "sw", 0, "mwanamke aliyevaa wavu kichwani akikata keki"),
]


@pytest.mark.parametrize(
    "image_name", ["COCO_val2014_{:012d}.jpg", "{:012d}.jpg", "{}.jpg"], ids=["2014", "2017", "id"]
)
def test_coco35l_flattens_image_id_n_and_finds_coco_images(tmp_path, capsys, image_name):
    folder = tmp_path / "images"
    folder.mkdir()
    for src in (COCO / "val2014").iterdir():
        number = int(src.stem.rsplit("_", 1)[-1])
        shutil.copy(src, folder / image_name.format(number))
    out = tmp_path / "coco"
    printed = run(
        capsys, "data", "mt-captions", str(COCO / "coco_mt_dev.jsonl"), "--images", str(folder),
        "--out", str(out),
    )  # fmt: skip
    assert "2 items, 9 captions, 4 languages (de en ja sw), with images" in printed
    assert rows(out) == COCO_EXPECTED  # source caption once; '_N' becomes idx N; 522418 lacks ja
    assert images(out) == {
        "391895": (COCO / "val2014" / "COCO_val2014_000000391895.jpg").read_bytes(),
        "522418": (COCO / "val2014" / "COCO_val2014_000000522418.jpg").read_bytes(),
    }


def test_coco35l_reads_the_bz2_release_and_gz(tmp_path, capsys):
    data = (COCO / "coco_mt_dev.jsonl").read_bytes()
    (tmp_path / "coco_mt_dev.jsonl.bz2").write_bytes(bz2.compress(data))
    run(
        capsys,
        "data",
        "mt-captions",
        str(tmp_path / "coco_mt_dev.jsonl.bz2"),
        "--out",
        str(tmp_path / "c"),
    )
    assert rows(tmp_path / "c") == COCO_EXPECTED
    assert not open_corpus(tmp_path / "c").has_images


def test_cc3m35l_uses_rec_num_and_keeps_items_missing_languages(tmp_path, capsys):
    out = tmp_path / "cc3m"
    argv = [
        "data",
        "mt-captions",
        str(CC3M / "cc3m_mt_dev.jsonl"),
        "--images",
        str(CC3M / "images"),
    ]
    run(capsys, *argv, "--out", str(out), "--name", "cc3m-dev", "--licence", "test")
    assert counts(out) == {
        ("17", "en"): 1, ("17", "fr"): 1, ("17", "hi"): 1, ("42", "en"): 1, ("42", "fr"): 1,
    }  # fmt: skip
    assert ("17", "hi", 0, "अभिनेता फिल्म के प्रीमियर में शामिल हुए") in rows(out)
    manifest = open_corpus(out).manifest
    assert (manifest["name"], manifest["licence"], manifest["num_captions"]) == (
        "cc3m-dev",
        "test",
        5,
    )
    assert set(images(out)) == {"17", "42"}


# The generic table: one caption per row; item b lacks German, item c has two English captions.
TABLE = [
    ("a", "en", "a red circle"),
    ("a", "de", "ein roter Kreis"),
    ("b", "en", "a blue square"),
    ("c", "en", "a green ring"),
    ("c", "de", "ein grüner Ring"),
    ("c", "en", "a ring, green"),
]
TABLE_EXPECTED = [
    ("a", "de", 0, "ein roter Kreis"),
    ("a", "en", 0, "a red circle"),
    ("b", "en", 0, "a blue square"),
    ("c", "de", 0, "ein grüner Ring"),
    ("c", "en", 0, "a green ring"),
    ("c", "en", 1, "a ring, green"),
]


def png(colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buf, "PNG")
    return buf.getvalue()


PNGS = {"a": png((255, 0, 0)), "b": png((0, 0, 255)), "c": png((0, 255, 0))}


def write_table(tmp_path: Path, kind: str) -> Path:
    """TABLE as the given kind; images as relative paths (text files) or bytes (binary)."""
    (tmp_path / "img").mkdir()
    for item, data in PNGS.items():
        (tmp_path / "img" / f"{item}.png").write_bytes(data)
    frame = pd.DataFrame(TABLE, columns=["image_key", "language", "caption"])
    frame["picture"] = [f"img/{item}.png" for item in frame["image_key"]]
    if kind == "jsonl":
        path = tmp_path / "captions.jsonl"
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    elif kind == "csv":
        path = tmp_path / "captions.csv"
        frame.to_csv(path, index=False)
    elif kind == "parquet":
        path = tmp_path / "captions.parquet"
        frame["picture"] = [PNGS[item] for item in frame["image_key"]]
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    else:
        import datasets

        path = tmp_path / "hf"
        frame["picture"] = [{"bytes": PNGS[item], "path": None} for item in frame["image_key"]]
        ds = datasets.Dataset.from_pandas(frame, preserve_index=False)
        ds = ds.cast_column("picture", datasets.Image())
        datasets.DatasetDict({"train": ds.select([0]), "test": ds}).save_to_disk(str(path))
    return path


@pytest.mark.parametrize("kind", ["jsonl", "csv", "parquet", "hf"])
def test_table_importer_gives_one_corpus_from_every_format(tmp_path, capsys, kind):
    source = write_table(tmp_path, kind)
    out = tmp_path / "out"
    split = ["--split", "test"] if kind == "hf" else []
    cols = ["--item-col", "image_key", "--lang-col", "language", "--text-col", "caption"]
    run(
        capsys,
        "data",
        "table",
        str(source),
        *cols,
        "--image-col",
        "picture",
        *split,
        "--out",
        str(out),
    )
    assert rows(out) == TABLE_EXPECTED
    assert images(out) == PNGS
    assert open_corpus(out).manifest["image_format"] == "png"


def test_table_importer_honours_an_idx_column_and_text_only(tmp_path, capsys):
    path = tmp_path / "c.tsv"
    lines = ["id\tlang\tn\ttext", "x\ten\t1\tsecond", "x\ten\t0\tfirst", "y\tfil\t0\tisa"]
    path.write_text("\n".join(lines) + "\n")
    cols = ["--item-col", "id", "--lang-col", "lang", "--text-col", "text", "--idx-col", "n"]
    run(capsys, "data", "table", str(path), *cols, "--out", str(tmp_path / "o"))
    assert rows(tmp_path / "o") == [
        ("x", "en", 0, "first"),
        ("x", "en", 1, "second"),
        ("y", "fil", 0, "isa"),
    ]
    assert not open_corpus(tmp_path / "o").has_images


def test_provenance_options_reach_the_manifest_without_replacing_the_input(tmp_path, capsys):
    path = tmp_path / "c.csv"
    path.write_text("id,lang,text\nx,en,a red circle\n")
    cols = ["--item-col", "id", "--lang-col", "lang", "--text-col", "text"]
    notes = ["--source", "hand-written note", "--name", "mine", "--licence", "CC0"]
    run(capsys, "data", "table", str(path), *cols, *notes, "--out", str(tmp_path / "t"))
    run(capsys, "data", "xm3600", "--captions", str(XM3600 / "captions.jsonl"), *notes,
        "--out", str(tmp_path / "x"))  # fmt: skip
    for out in ("t", "x"):
        manifest = open_corpus(tmp_path / out).manifest
        assert (manifest["source"], manifest["name"], manifest["licence"]) == (
            "hand-written note",
            "mine",
            "CC0",
        )


def test_overwrite_replaces_an_existing_corpus_whole(tmp_path, capsys):
    out = tmp_path / "c"
    run(capsys, "data", "xm3600", "--captions", str(XM3600 / "captions.jsonl"), "--out", str(out))
    argv = ["data", "mt-captions", str(CC3M / "cc3m_mt_dev.jsonl"), "--out", str(out)]
    run(capsys, *argv, "--overwrite")
    assert open_corpus(out).item_ids.tolist() == ["17", "42"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c"]  # no temp or old copies left
