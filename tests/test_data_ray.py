"""Importers on Ray Data: the same corpus as the single-process path; webdataset tar shards in the
img2dataset layout (`study data wds`), and their bad inputs as one error line."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import trainers.corpus_shards
from study.cli import main
from study.data.wds import expand_shards
from study.data.xm3600 import import_xm3600
from trainers.corpus import open_corpus

pytestmark = pytest.mark.ray


def jpeg(seed: int, size=(40, 30)) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def write_tar(path: Path, samples: list[dict]) -> Path:
    """A webdataset shard as img2dataset writes it: per sample <key>.jpg, .txt, .json, in order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w") as tar:
        for sample in samples:
            for ext, value in sample.items():
                if ext == "key":
                    continue
                data = json.dumps(value).encode() if ext == "json" else value
                data = data.encode() if isinstance(data, str) else data
                info = tarfile.TarInfo(f"{sample['key']}.{ext}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


def sample(key: str, txt: str | None = None, **json_fields) -> dict:
    """One img2dataset sample: image, caption .txt (if given), metadata .json."""
    out = {"key": key, "jpg": jpeg(int(key))}
    if txt is not None:
        out["txt"] = txt
    out["json"] = {"key": key, "status": "success", "url": f"http://x/{key}.jpg", **json_fields}
    return out


def corpus_view(path: Path) -> tuple:
    """Items, caption rows and decoded pixels of a corpus."""
    corpus = open_corpus(path)
    pixels = corpus.images(np.arange(corpus.num_items), size=16)
    return corpus.item_ids.tolist(), corpus.captions.to_pylist(), pixels.tobytes()


def test_ray_data_import_writes_the_single_process_corpus(
    ray_cluster, embedded_corpus, tmp_path, monkeypatch
):
    monkeypatch.setattr(trainers.corpus_shards, "IMAGE_SHARD_ITEMS", 16)  # 7 shards, 7 tasks
    folder = embedded_corpus.eval_xm3600
    local, ray = (
        import_xm3600(
            folder / "captions.jsonl",
            folder / "images",
            tmp_path / name,
            image_size=24,
            use_ray=use,
        )
        for name, use in (("local", False), ("ray", True))
    )
    assert len(open_corpus(ray).manifest["shards"]["images"]) == 7
    assert corpus_view(ray) == corpus_view(local)
    sums = [open_corpus(path).manifest["checksums"] for path in (ray, local)]
    assert sums[0] == sums[1]  # the same files, byte for byte


def test_webdataset_shards_import_in_key_order_with_their_languages(ray_cluster, tmp_path, capsys):
    shard0 = [
        sample("000000001", "a red car", language="en"),
        sample("000000000", "ein Hund", language="de"),
    ]
    shard1 = [sample("000010000", caption={"en": ["two cats", "cats"], "fr": "deux chats"})]
    write_tar(tmp_path / "wds" / "00000.tar", shard0)
    write_tar(tmp_path / "wds" / "00001.tar", shard1)
    out = tmp_path / "corpus"
    assert (
        main(["data", "wds", str(tmp_path / "wds" / "{00000..00001}.tar"), "--out", str(out)]) == 0
    )
    assert "3 items, 5 captions, 3 languages (de en fr)" in capsys.readouterr().out
    corpus = open_corpus(out)
    assert corpus.item_ids.tolist() == ["000000000", "000000001", "000010000"]
    assert [
        (r["item_id"], r["lang"], r["idx"], r["text"]) for r in corpus.captions.to_pylist()
    ] == [
        ("000000000", "de", 0, "ein Hund"),
        ("000000001", "en", 0, "a red car"),
        ("000010000", "en", 0, "two cats"),
        ("000010000", "en", 1, "cats"),
        ("000010000", "fr", 0, "deux chats"),
    ]
    assert corpus.encoded_images([0, 2]) == [jpeg(0), jpeg(10000)]  # stored as given


def test_one_language_per_source_and_resized_images(ray_cluster, tmp_path, capsys):
    write_tar(tmp_path / "en" / "000.tar", [sample("000000000", "a dog")])
    write_tar(tmp_path / "de" / "000.tar", [sample("000000000", "ein Hund")])
    out = tmp_path / "corpus"
    argv = [
        "data",
        "wds",
        str(tmp_path / "en" / "{000..000}.tar"),
        str(tmp_path / "de" / "000.tar"),
    ]
    assert (
        main([*argv, "--lang", "en", "--lang", "de", "--image-size", "10", "--out", str(out)]) == 0
    )
    corpus = open_corpus(out)
    assert corpus.item_ids.tolist() == ["0-000000000", "1-000000000"]  # numbered by source
    assert corpus.languages == ("de", "en") and corpus.manifest["image_format"] == "jpeg"
    assert corpus.images([0, 1]).shape == (2, 10, 13, 3)  # 40x30 shrunk to a shorter side of 10


@pytest.mark.parametrize(
    "bad, needles",
    [
        ({"jpg": None}, ("00000.tar: sample '000000001': no image",)),
        (
            {"txt": None},
            ("00000.tar: sample '000000001': no caption (.txt, or .json key 'caption')",),
        ),
        ({"json": {"language": "xx"}}, ("sample '000000001'", "unknown language code 'xx'")),
        ({"jpg": b"\xff\xd8\xff truncated"}, ("sample '000000001': unreadable image",)),
    ],
    ids=["no-image", "no-text", "unknown-language", "corrupt-image"],
)
def test_bad_samples_end_in_one_error_line_and_no_output(
    ray_cluster, tmp_path, capsys, bad, needles
):
    broken = {**sample("000000001", "a cat", language="en"), **bad}
    write_tar(
        tmp_path / "00000.tar",
        [
            sample("000000000", "a dog", language="en"),
            {k: v for k, v in broken.items() if v is not None},
        ],
    )
    before = sorted(tmp_path.iterdir())
    code = main(["data", "wds", str(tmp_path / "00000.tar"), "--out", str(tmp_path / "corpus")])
    # Lines that the shared cluster forwards from its own processes, "(pid=...) ...", may land
    # here at any time; the command's own output is the rest.
    err = "".join(ln for ln in capsys.readouterr().err.splitlines(True) if "(pid=" not in ln)
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: "), err
    assert all(n in err for n in needles), err
    assert sorted(tmp_path.iterdir()) == before


def test_brace_patterns_expand_as_webdataset_does():
    assert expand_shards("d/{008..011}.tar") == ["d/008.tar", "d/009.tar", "d/010.tar", "d/011.tar"]
    assert expand_shards("{a,b}/{0..1}.tar") == ["a/0.tar", "a/1.tar", "b/0.tar", "b/1.tar"]
