"""The canonical corpus: manifest.json, caption and image parquet shards, an item index.

Format 2 is written (`trainers.corpus_shards` writes the parts); format 1 (one captions.parquet
and one images.parquet) is still read. Readers memory-map the parquet files; writers build the
directory under a temporary sibling name and rename it into place, so a corpus appears whole or
not at all. The layout is in docs/architecture.md ("Canonical corpus").
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Mapping
from functools import cached_property, partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from trainers.atomic_output import atomic_dir, check_output
from trainers.batch import CaptionIndex
from trainers.corpus_format import (
    CAPTION_SCHEMA,
    CAPTIONS_V1,
    FORMAT_VERSION,
    IMAGE_MAGIC,
    IMAGE_SCHEMA,
    IMAGES_V1,
    ITEM_SCHEMA,
    ITEMS,
    MANIFEST,
    file_digest,
    image_format_of,
    is_known_language,
    read_parquet,
)
from trainers.corpus_shards import ImageShard, finish_corpus, image_shard_parts, write_image_shard
from trainers.errors import InputError


def decode_image(data: bytes, size: int | None = None) -> np.ndarray:
    """An encoded image as RGB uint8 [H, W, 3], resized to [size, size] when given.

    A JPEG is decoded at the smallest DCT scale that still covers `size` (PIL's draft mode), which
    makes decoding a large photo for a small tower several times cheaper.
    """
    from PIL import Image

    img = Image.open(io.BytesIO(data))
    if size is not None:
        img.draft("RGB", (size, size))
    if img.mode != "RGB":
        img = img.convert("RGB")
    if size is not None and img.size != (size, size):
        img = img.resize((size, size), Image.BICUBIC)
    return np.asarray(img)


class Corpus:
    """A canonical corpus opened for reading (captions memory-mapped, images decoded on demand)."""

    def __init__(
        self, path: Path, manifest: dict, captions: pa.Table, items: pa.Table | None
    ) -> None:
        self.path = path
        self.manifest = manifest
        self.captions = captions
        self._items = items  # the item index (format 2); None for format 1
        # shard -> (memory-mapped file, first row of each row group), opened on use
        self._image_files: dict[int, tuple[pq.ParquetFile, np.ndarray]] = {}

    name = property(lambda self: str(self.manifest["name"]))
    languages = property(lambda self: tuple(self.manifest["languages"]))
    num_items = property(lambda self: int(self.manifest["num_items"]))
    has_images = property(lambda self: bool(self.manifest["has_images"]))

    @cached_property
    def _item_ids(self) -> pa.Array:
        if self._items is not None:
            return self._items["item_id"].combine_chunks()
        return pc.unique(self.captions["item_id"])  # order of first appearance = item order

    @property
    def item_ids(self) -> np.ndarray:
        """Item ids in item order (position p holds the id of item p)."""
        return self._item_ids.to_numpy(zero_copy_only=False)

    @cached_property
    def _index(self) -> CaptionIndex:
        item = pc.index_in(self.captions["item_id"], value_set=self._item_ids)
        lang = pc.index_in(self.captions["lang"], value_set=pa.array(self.languages))
        if item.null_count or lang.null_count or len(self._item_ids) != self.num_items:
            raise InputError(
                f"{self.path}: the captions disagree with manifest.json (languages or item "
                "count); re-import the corpus"
            )
        return CaptionIndex(
            item=item.to_numpy().astype(np.int64),
            lang=lang.to_numpy().astype(np.int16),
            idx=self.captions["idx"].to_numpy().astype(np.int32),
            languages=self.languages,
            num_items=self.num_items,
        )

    def caption_index(self) -> CaptionIndex:
        """Every caption row as arrays of item positions, language codes and caption numbers."""
        return self._index

    def texts(self, rows: np.ndarray) -> list[str]:
        """Caption texts of the given caption rows (rows of all caption shards in order)."""
        return self.captions["text"].take(pa.array(np.asarray(rows, dtype=np.int64))).to_pylist()

    @cached_property
    def _image_index(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(image shard files, shard of each item, row of each item in its shard)."""
        if not self.has_images:
            raise InputError(f"{self.path}: text-only corpus (no images); use an image corpus")
        if self._items is None:
            return [IMAGES_V1], np.zeros(self.num_items, np.int32), np.arange(self.num_items)
        shard = self._items["image_shard"].to_numpy(zero_copy_only=False)
        row = self._items["image_row"].to_numpy(zero_copy_only=False)
        return list(self.manifest["shards"]["images"]), shard.astype(np.int32), row

    def _image_file(self, shard: int) -> tuple[pq.ParquetFile, np.ndarray]:
        if shard not in self._image_files:
            name = self._image_index[0][shard]
            pf = read_parquet(
                self.path / name, IMAGE_SCHEMA, lambda p: pq.ParquetFile(p, memory_map=True)
            )
            sizes = [pf.metadata.row_group(g).num_rows for g in range(pf.num_row_groups)]
            self._image_files[shard] = pf, np.cumsum([0, *sizes])
        return self._image_files[shard]

    def encoded_images(self, items: np.ndarray) -> list[bytes]:
        """The stored (encoded PNG/JPEG) images of item positions `items`."""
        _, shard_of, row_of = self._image_index
        items = np.asarray(items, dtype=np.int64)
        shards, rows = shard_of[items], row_of[items]
        out: list[bytes] = [b""] * len(items)
        for s in np.unique(shards):
            pf, starts = self._image_file(int(s))
            mine = np.flatnonzero(shards == s)
            groups = np.searchsorted(starts, rows[mine], side="right") - 1
            for g in np.unique(groups):
                column = pf.read_row_group(int(g), columns=["image"]).column(0)
                for k in mine[groups == g]:
                    out[k] = column[int(rows[k] - starts[g])].as_py()
        return out

    def images(self, items: np.ndarray, size: int | None = None) -> np.ndarray:
        """Decoded RGB images of item positions `items`: uint8 [n, H, W, 3] (resized to `size`)."""
        out = [decode_image(data, size) for data in self.encoded_images(items)]
        if len({a.shape for a in out}) > 1:
            raise InputError(f"{self.path}: images differ in size; pass size= to resize them")
        return np.stack(out) if out else np.zeros((0, size or 0, size or 0, 3), np.uint8)

    def files(self) -> list[str]:
        """The corpus's data files, relative to its directory."""
        if self._items is None:
            return [f for f in (CAPTIONS_V1, IMAGES_V1) if (self.path / f).is_file()]
        shards = self.manifest["shards"]
        return [*shards["captions"], ITEMS, *shards["images"]]

    def fingerprint(self) -> str:
        """A stable short hash of the manifest and file contents (checksums from the manifest)."""
        h = hashlib.blake2b(digest_size=10)
        h.update((self.path / MANIFEST).read_bytes())
        sums = self.manifest.get("checksums", {})
        for name in self.files():
            h.update(f"{name}:{(self.path / name).stat().st_size}".encode())
            if name not in sums:
                h.update(file_digest(self.path / name).encode())
        return h.hexdigest()


def read_manifest(path: Path) -> dict:
    """A corpus directory's checked manifest.json (one-line errors), without reading its data."""
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise InputError(
            f"{path}: not a canonical corpus (no {MANIFEST}); import one with `study data ...`"
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        version = manifest["format_version"]
        required = ("name", "languages", "num_items", "has_images", *(("shards",) * (version > 1)))
        missing = [k for k in required if k not in manifest]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"{manifest_path}: corrupt manifest ({exc!r}); re-import the corpus"
        ) from None
    if version not in (1, FORMAT_VERSION):
        raise InputError(
            f"{manifest_path}: format_version {version} is not supported (expected 1 or "
            f"{FORMAT_VERSION}); re-import the corpus with this version"
        )
    if missing:
        raise InputError(f"{manifest_path}: missing key '{missing[0]}'; re-import the corpus")
    return manifest


def open_corpus(path: str | Path) -> Corpus:
    """Open a canonical corpus directory, format 2 or 1 (captions memory-mapped)."""
    path = Path(path).expanduser()
    manifest = read_manifest(path)

    def read(name: str, schema: pa.Schema) -> pa.Table:
        # ParquetFile, not read_table: it spares `study search` the pyarrow.dataset import.
        return read_parquet(
            path / name, schema, lambda p: pq.ParquetFile(p, memory_map=True).read()
        )

    if manifest["format_version"] == 1:
        return Corpus(path, manifest, read(CAPTIONS_V1, CAPTION_SCHEMA), None)
    parts = [read(name, CAPTION_SCHEMA) for name in manifest["shards"]["captions"]]
    captions = pa.concat_tables([t.select(CAPTION_SCHEMA.names) for t in parts])
    return Corpus(path, manifest, captions, read(ITEMS, ITEM_SCHEMA))


def write_corpus(
    out: str | Path,
    *,
    name: str,
    captions,
    images: Mapping[str, bytes] | None = None,
    source: str,
    licence: str,
    image_format: str | None = None,
    provenance: Mapping | None = None,
    overwrite: bool = False,
    write_images: Callable[[Path, list[str], Path], list[ImageShard]] | None = None,
) -> Path:
    """Validate captions (+ images keyed by item id) and write a canonical corpus at `out`.

    `captions` is a pyarrow Table or pandas DataFrame with item_id, lang, idx, text. Rows are
    stored grouped by item in order of first appearance, then by language and idx; images in
    shards of IMAGE_SHARD_ITEMS items, in item order, unless `write_images(root, item_ids, out)`
    writes the shards itself (importers: in parallel, resized). `provenance` (JSON-serialisable:
    versions, notices, generator settings) is kept in the manifest as is.
    """
    out = check_output(out, overwrite)
    table = canonical_captions(captions, out)
    item_ids = pc.unique(table["item_id"]).to_pylist()
    if images is not None:
        _check_images(out, item_ids, images)
    if images is not None and write_images is None:
        fmt = image_format or image_format_of(images[item_ids[0]])
        if fmt not in IMAGE_MAGIC:
            raise InputError(f"{out}: image of item '{item_ids[0]}' is neither PNG nor JPEG")
        write_images = partial(_write_image_shards, images=images, fmt=fmt)
    with atomic_dir(out, overwrite) as tmp:
        shards = None if images is None else write_images(tmp, item_ids, out)
        finish_corpus(
            tmp,
            table,
            shards,
            name=name,
            source=source,
            licence=licence,
            where=out,
            provenance=provenance,
        )
    return out


def _write_image_shards(
    root: Path, item_ids: list[str], out: Path, *, images: Mapping[str, bytes], fmt: str
) -> list[ImageShard]:
    """The images in item order, IMAGE_SHARD_ITEMS per shard."""
    return [
        write_image_shard(root, name, ids, [images[i] for i in ids], fmt, str(out))
        for name, ids in image_shard_parts(item_ids)
    ]


def canonical_captions(captions, out: Path) -> pa.Table:
    """Checked caption rows (types, nulls, languages, unique keys), grouped by item in order of
    first appearance, then by language and idx; errors name `out`."""
    if not isinstance(captions, pa.Table):
        captions = pa.Table.from_pandas(captions, preserve_index=False)
    missing = [f.name for f in CAPTION_SCHEMA if f.name not in captions.column_names]
    if missing:
        raise InputError(f"{out}: captions lack column '{missing[0]}'")
    try:
        table = pa.table([captions[f.name] for f in CAPTION_SCHEMA], schema=CAPTION_SCHEMA)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InputError(f"{out}: captions have a wrongly typed column ({exc})") from None
    if table.num_rows == 0:
        raise InputError(f"{out}: empty corpus (no captions); check the input has caption rows")
    for column in table.column_names:
        if table[column].null_count:
            raise InputError(f"{out}: null values in caption column '{column}'")
    unknown = [code for code in pc.unique(table["lang"]).to_pylist() if not is_known_language(code)]
    if unknown:
        raise InputError(
            f"{out}: unknown language code '{unknown[0]}'; use ISO 639 codes such as 'en', 'fil'"
        )
    keys = ["item_id", "lang", "idx"]
    counts = table.group_by(keys).aggregate([([], "count_all")])
    dup = counts.filter(pc.greater(counts["count_all"], 1))
    if dup.num_rows:
        item, lang, idx = (dup[k][0].as_py() for k in keys)
        raise InputError(f"{out}: duplicate caption key (item '{item}', lang '{lang}', idx {idx})")
    position = pc.index_in(table["item_id"], value_set=pc.unique(table["item_id"]))
    order = pc.sort_indices(
        table.append_column("_pos", position),
        sort_keys=[("_pos", "ascending"), ("lang", "ascending"), ("idx", "ascending")],
    )
    return table.take(order).combine_chunks()


def _check_images(out: Path, item_ids: list[str], images: Mapping[str, bytes]) -> None:
    lacking = [i for i in item_ids if i not in images]  # membership only: values may be files
    if lacking:
        raise InputError(
            f"{out}: no image for item '{lacking[0]}' ({len(lacking)} of {len(item_ids)} items "
            "lack one); supply every image or import a text-only corpus"
        )
