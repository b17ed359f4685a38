"""Import webdataset tar shards as img2dataset and open_clip write them, through Ray Data's
webdataset reader (`ray.data.read_webdataset`).

A sample is the files of one key in a tar: an image (`.jpg`, `.jpeg`, `.png` or `.webp`) and its
captions, `.txt` (one caption) or `.json`, whose `caption_key` (default `caption`) holds a caption,
a list of captions, or an object of language code -> caption(s). A caption's language is the
source's `--lang`, else the sample json's `lang_key` (default `language`, as img2dataset saves an
extra column of that name). Items are the samples, ordered by source, shard, then key; an item id
is the sample key, prefixed by the source's number (`1-000000042`) when there are several
sources. Ray Data tasks read the tars, check and resize the images and write image shards;
the driver writes the captions and the item index.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from study.data.common import CaptionRows, check_key, check_language
from study.data.image_import import write_shard
from study.errors import StudyError
from trainers.atomic_output import atomic_dir, check_output
from trainers.corpus import canonical_captions
from trainers.corpus_format import IMAGE_SHARD_ITEMS
from trainers.corpus_shards import ImageShard, finish_corpus
from trainers.errors import InputError
from trainers.ray_data import ensure_ray, quiet_ray_data

IMAGE_KEYS = ("jpg", "jpeg", "png", "webp")
_BRACES = re.compile(r"\{([^{}]*)\}")


def expand_shards(pattern: str) -> list[str]:
    """Brace expansion as webdataset does it: `{000..099}` (zero-padded ranges) and `{a,b}`."""
    match = _BRACES.search(pattern)
    if match is None:
        return [pattern]
    bounds = re.fullmatch(r"(\d+)\.\.(\d+)", match.group(1))
    if bounds:
        first, last = bounds.groups()
        options = [str(i).zfill(len(first)) for i in range(int(first), int(last) + 1)]
    else:
        options = match.group(1).split(",")
    head, tail = pattern[: match.start()], pattern[match.end() :]
    return [path for option in options for path in expand_shards(head + option + tail)]


def _captions(sample: dict, lang: str | None, caption_key: str, lang_key: str, where: str):
    """(language, caption) pairs of one sample."""
    meta = {}
    if sample.get("json") is not None:
        try:
            meta = json.loads(sample["json"])
        except ValueError as exc:
            raise StudyError(f"{where}: malformed .json ({exc})") from None
        if not isinstance(meta, dict):
            raise StudyError(f"{where}: .json must hold an object")
    text = sample.get("txt")
    value = text.decode("utf-8", errors="replace") if text is not None else meta.get(caption_key)
    if not value:
        raise StudyError(f"{where}: no caption (.txt, or .json key '{caption_key}')")
    if not isinstance(value, dict):
        code = lang or meta.get(lang_key)
        if not isinstance(code, str) or not code:
            raise StudyError(f"{where}: no language (.json key '{lang_key}'); pass --lang")
        value = {code: value}
    pairs = []
    for code, texts in value.items():
        check_language(code, where)
        for text in [texts] if isinstance(texts, str) else texts:
            if not isinstance(text, str):
                raise StudyError(f"{where}: caption in '{code}' is not text")
            if text.strip():
                pairs.append((code, text.strip()))
    if not pairs:
        raise StudyError(f"{where}: no caption (.txt, or .json key '{caption_key}')")
    return pairs


def _bytes(sample: dict, key: str) -> bytes | None:
    value = sample.get(key)  # a sample lacking a file holds NaN in a pandas batch
    return value if isinstance(value, bytes) else None


def _sample_task(batch, root: str, sources: dict, opts: dict) -> dict:
    """Ray Data: check a batch of samples and write their images as one shard; an input error
    comes back as the `error` row (see study.data.image_import)."""
    meta: dict = {"urls": [], "keys": [], "captions": []}
    try:
        ids, images, wheres = [], [], []
        for sample in batch.to_dict("records"):
            url, key = sample["__url__"], sample["__key__"]
            where = f"{url}: sample '{key}'"
            number, lang = sources[url]
            image = next(filter(None, (_bytes(sample, k) for k in IMAGE_KEYS)), None)
            if image is None:
                raise StudyError(f"{where}: no image (.{', .'.join(IMAGE_KEYS)})")
            sample["json"] = _bytes(sample, "json")
            sample["txt"] = _bytes(sample, "txt")
            pairs = _captions(sample, lang, opts["caption_key"], opts["lang_key"], where)
            ids.append(check_key(f"{number}-{key}" if opts["prefix"] else key, where, "key"))
            images.append(image)
            wheres.append(where)
            for field, value in zip(meta, (url, key, json.dumps(pairs)), strict=True):
                meta[field].append(value)
        digest = hashlib.blake2b("\n".join(meta["urls"] + ids).encode(), digest_size=8)
        name = f"part-{digest.hexdigest()}"
        shard = write_shard(root, name, ids, images, opts["size"], opts["out"], wheres)
        row, error = {**shard.__dict__, **meta}, ""
    except (StudyError, InputError) as exc:
        row = {**ImageShard("", [], "", "").__dict__, "urls": [], "keys": [], "captions": []}
        error = str(exc)
    return {**{k: [v] for k, v in row.items()}, "error": [error]}


def _reason(exc: Exception) -> str:
    """The last `SomethingError: message` line of a Ray error's remote traceback."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", ln).strip() for ln in str(exc).splitlines()]
    errors = [ln for ln in lines if re.match(r"^[\w.]*(Error|Exception): ", ln)]
    return (errors or [ln for ln in lines if ln] or [type(exc).__name__])[-1]


def _shard_paths(patterns: list[str], langs: list[str] | None) -> dict[str, tuple[int, str | None]]:
    """Every shard of every source (checked to exist), in order: path -> (source, --lang)."""
    if langs and len(langs) not in (1, len(patterns)):
        raise StudyError(
            f"--lang: {len(langs)} languages for {len(patterns)} sources; give one language for "
            "all sources or one per source"
        )
    for code in langs or []:
        check_language(code, "--lang")
    shards: dict[str, tuple[int, str | None]] = {}
    for number, pattern in enumerate(patterns):
        lang = (langs[number] if len(langs) > 1 else langs[0]) if langs else None
        for path in expand_shards(pattern):
            if not Path(path).expanduser().is_file():
                raise StudyError(f"{path}: no such shard (from '{pattern}'); check the pattern")
            shards[str(Path(path).expanduser().resolve())] = (number, lang)
    return shards


def import_wds(
    patterns: list[str],
    out: str | Path,
    *,
    langs: list[str] | None = None,
    caption_key: str = "caption",
    lang_key: str = "language",
    name: str | None = None,
    source: str | None = None,
    licence: str = "unknown; see the dataset's source",
    overwrite: bool = False,
    image_size: int | None = None,
) -> Path:
    """Write the canonical corpus of webdataset tar shards (brace patterns, one per source)."""
    import ray
    import ray.data

    out = check_output(out, overwrite)
    shards = _shard_paths(patterns, langs)
    order = {path: k for k, path in enumerate(shards)}
    opts = {"caption_key": caption_key, "lang_key": lang_key, "size": image_size}
    opts.update(prefix=len(patterns) > 1, out=str(out))
    ensure_ray()
    with atomic_dir(out, overwrite) as root, quiet_ray_data():
        ds = ray.data.read_webdataset(list(shards), decoder=None).map_batches(
            _sample_task,
            fn_kwargs={"root": str(root.resolve()), "sources": shards, "opts": opts},
            batch_size=IMAGE_SHARD_ITEMS,
            batch_format="pandas",
        )
        try:
            results = []
            for row in ds.iter_rows():
                if row["error"]:
                    raise StudyError(row["error"])
                results.append(row)
        except ray.exceptions.RayError as exc:
            raise StudyError(
                f"{patterns[0]}: unreadable webdataset shard ({_reason(exc)})"
            ) from None
        written = [
            ImageShard(r["file"], list(r["item_ids"]), r["sha256"], r["image_format"])
            for r in results
        ]
        samples = sorted(
            (order[url], key, item, pairs, url)
            for r in results
            for url, key, item, pairs in zip(
                r["urls"], r["keys"], r["item_ids"], r["captions"], strict=True
            )
        )
        table = _caption_table(samples, patterns[0], out)
        finish_corpus(
            root,
            table,
            sorted(written, key=lambda s: s.file),
            name=name or out.name,
            source=source or f"webdataset ({', '.join(patterns)})",
            licence=licence,
            where=out,
        )
    return out


def _caption_table(samples: list[tuple], pattern: str, out: Path):
    """Canonical captions of (shard number, key, item, caption pairs, shard) in item order; a
    repeated item is an error naming both shards."""
    rows, first = CaptionRows(), {}
    for _, key, item, pairs, url in samples:
        if item in first:
            raise StudyError(
                f"{url}: sample key '{key}' also in {first[item]}; keys must be unique within a "
                "source (img2dataset numbers each download from 0: give each its own source)"
            )
        first[item] = url
        counts: dict[str, int] = {}
        for lang, text in json.loads(pairs):
            rows.add(item, lang, counts.get(lang, 0), text)
            counts[lang] = counts.get(lang, 0) + 1
    return canonical_captions(rows.table(Path(pattern)), out)
