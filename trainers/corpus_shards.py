"""Writing a canonical corpus (format 2) in parts: image shards first, by any number of processes
(each writes its own shard under the corpus's temporary dir), then the caption shards, the item
index and the manifest, by one process that knows every shard."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from trainers.corpus_format import (
    CAPTION_DIR,
    CAPTION_SHARD_ROWS,
    FORMAT_VERSION,
    IMAGE_DIR,
    IMAGE_MAGIC,
    IMAGE_ROW_GROUP,
    IMAGE_SCHEMA,
    IMAGE_SHARD_ITEMS,
    ITEM_SCHEMA,
    ITEMS,
    MANIFEST,
    file_digest,
    shard_name,
)
from trainers.errors import InputError


@dataclass(frozen=True)
class ImageShard:
    """A written image shard: path relative to the corpus dir, items in row order, sha256."""

    file: str
    item_ids: list[str]
    sha256: str
    image_format: str


def image_shard_parts(item_ids: Sequence[str]) -> Iterator[tuple[str, list[str]]]:
    """(name, item ids) of each image shard: IMAGE_SHARD_ITEMS items a shard, in item order."""
    for number, start in enumerate(range(0, len(item_ids), IMAGE_SHARD_ITEMS)):
        yield f"part-{number:05d}", list(item_ids[start : start + IMAGE_SHARD_ITEMS])


def write_image_shard(
    root: Path, name: str, item_ids: Sequence[str], images: Sequence[bytes], fmt: str, where: str
) -> ImageShard:
    """Write encoded images (all `fmt`) of `item_ids` as `images/<name>.parquet` under `root`."""
    rel = f"{IMAGE_DIR}/{name}.parquet"
    (root / IMAGE_DIR).mkdir(exist_ok=True)
    with pq.ParquetWriter(root / rel, IMAGE_SCHEMA, compression="none") as writer:
        for start in range(0, len(item_ids), IMAGE_ROW_GROUP):
            ids = list(item_ids[start : start + IMAGE_ROW_GROUP])
            data = list(images[start : start + IMAGE_ROW_GROUP])
            bad = next(
                (i for i, d in zip(ids, data, strict=True) if not d.startswith(IMAGE_MAGIC[fmt])),
                None,
            )
            if bad is not None:
                raise InputError(f"{where}: image of item '{bad}' is not a {fmt.upper()} file")
            writer.write_table(pa.table([ids, data], schema=IMAGE_SCHEMA))
    return ImageShard(rel, list(item_ids), file_digest(root / rel), fmt)


def _item_index(item_ids: pa.Array, shards: list[ImageShard] | None, where: Path) -> pa.Table:
    """The item index: each item's image shard and row (nulls for a text-only corpus)."""
    if shards is None:
        nulls = pa.nulls(len(item_ids), pa.int32())
        return pa.table([item_ids, nulls, nulls], schema=ITEM_SCHEMA)
    stored = pa.array([i for s in shards for i in s.item_ids], pa.string())
    if len(pc.unique(stored)) != len(stored):
        counts = pc.value_counts(stored)
        twice = counts.filter(pc.greater(counts.field("counts"), 1))[0]["values"].as_py()
        raise InputError(f"{where}: item '{twice}' has two images; keep one image per item")
    position = pc.index_in(item_ids, value_set=stored)
    if position.null_count:
        lacking = item_ids.filter(position.is_null())
        raise InputError(
            f"{where}: no image for item '{lacking[0].as_py()}' ({len(lacking)} of {len(item_ids)} items "
            "lack one); supply every image or import a text-only corpus"
        )
    sizes = [len(s.item_ids) for s in shards]
    shard = np.repeat(np.arange(len(shards), dtype=np.int32), sizes)
    row = np.concatenate([np.arange(n, dtype=np.int32) for n in sizes])
    at = position.to_numpy()
    return pa.table([item_ids, shard[at], row[at]], schema=ITEM_SCHEMA)


def finish_corpus(
    root: Path,
    captions: pa.Table,
    shards: list[ImageShard] | None,
    *,
    name: str,
    source: str,
    licence: str,
    where: Path,
    provenance: Mapping | None = None,
) -> None:
    """Write caption shards, item index and manifest into `root`, whose image shards are written.

    `captions` must be canonical (`trainers.corpus.canonical_captions`); `shards` is None for a
    text-only corpus. `provenance` (JSON-serialisable: versions, notices, generator settings) is
    kept in the manifest as is. Errors name `where` (the output path).
    """
    formats = sorted({s.image_format for s in shards or []})
    if len(formats) > 1:
        raise InputError(f"{where}: images are a mix of {' and '.join(formats)}; use one format")
    item_ids = pc.unique(captions["item_id"])
    index = _item_index(item_ids, shards, where)
    (root / CAPTION_DIR).mkdir()
    caption_files = []
    for number, start in enumerate(range(0, captions.num_rows, CAPTION_SHARD_ROWS)):
        caption_files.append(shard_name(CAPTION_DIR, number))
        part = captions.slice(start, CAPTION_SHARD_ROWS)
        pq.write_table(part, root / caption_files[-1], compression="zstd")
    pq.write_table(index, root / ITEMS, compression="zstd")
    checksums = {f: file_digest(root / f) for f in (*caption_files, ITEMS)}
    checksums.update({s.file: s.sha256 for s in shards or []})
    manifest = {
        "format_version": FORMAT_VERSION,
        "name": name,
        "languages": sorted(pc.unique(captions["lang"]).to_pylist()),
        "num_items": len(item_ids),
        "num_captions": captions.num_rows,
        "has_images": shards is not None,
        "source": source,
        "licence": licence,
        "image_format": formats[0] if formats else None,
        **({"provenance": dict(provenance)} if provenance else {}),
        "shards": {"captions": caption_files, "images": [s.file for s in shards or []]},
        "checksums": checksums,
    }
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (root / MANIFEST).write_text(text, encoding="utf-8")
