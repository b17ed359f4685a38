"""The canonical corpus (format version 1): manifest.json, captions.parquet, images.parquet.

Readers memory-map the parquet files; writers build the directory under a temporary sibling
name and rename it into place, so a corpus appears whole or not at all.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from trainers.atomic_output import atomic_dir, check_output
from trainers.batch import CaptionIndex
from trainers.errors import InputError

FORMAT_VERSION = 1
MANIFEST, CAPTIONS, IMAGES = "manifest.json", "captions.parquet", "images.parquet"
CAPTION_SCHEMA = pa.schema(
    [("item_id", pa.string()), ("lang", pa.string()), ("idx", pa.int32()), ("text", pa.string())]
)
IMAGE_SCHEMA = pa.schema([("item_id", pa.string()), ("image", pa.binary())])
IMAGE_ROW_GROUP = 256  # small groups: a batch of images decodes only the groups it touches
IMAGE_MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "jpeg": b"\xff\xd8\xff"}

# ISO 639-1, plus the ISO 639-3 codes that multilingual caption sets use (XM3600: fil, quz).
_ISO_CODES = """aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu
cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht
hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb
lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or
os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te
tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
fil quz yue ceb haw hmn ckb ast kab"""
KNOWN_LANGUAGES = frozenset(_ISO_CODES.split())


def is_known_language(code: str) -> bool:
    """True for an ISO 639 code, optionally with a region or script subtag (pt-BR, zh-Hans)."""
    base, _, rest = code.replace("_", "-").partition("-")
    return base in KNOWN_LANGUAGES and (not rest or rest.replace("-", "").isalnum())


def image_format_of(data: bytes) -> str | None:
    """'png' or 'jpeg' from an encoded image's magic bytes, None for anything else."""
    return next((fmt for fmt, magic in IMAGE_MAGIC.items() if data.startswith(magic)), None)


class Corpus:
    """A canonical corpus opened for reading (captions memory-mapped, images decoded on demand)."""

    def __init__(self, path: Path, manifest: dict, captions: pa.Table) -> None:
        self.path = path
        self.manifest = manifest
        self.captions = captions

    name = property(lambda self: str(self.manifest["name"]))
    languages = property(lambda self: tuple(self.manifest["languages"]))
    num_items = property(lambda self: int(self.manifest["num_items"]))
    has_images = property(lambda self: bool(self.manifest["has_images"]))

    @cached_property
    def _item_ids(self) -> pa.Array:
        return pc.unique(self.captions["item_id"])  # order of first appearance = item order

    @property
    def item_ids(self) -> np.ndarray:
        """Item ids in item order (position p holds the id of item p)."""
        return self._item_ids.to_numpy(zero_copy_only=False)

    @cached_property
    def _index(self) -> CaptionIndex:
        item = pc.index_in(self.captions["item_id"], value_set=self._item_ids)
        lang = pc.index_in(self.captions["lang"], value_set=pa.array(self.languages))
        if lang.null_count or len(self._item_ids) != self.num_items:
            raise InputError(
                f"{self.path}: captions.parquet disagrees with manifest.json (languages or item "
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
        """Caption texts of the given captions.parquet rows."""
        return self.captions["text"].take(pa.array(np.asarray(rows, dtype=np.int64))).to_pylist()

    @cached_property
    def _image_file(self) -> tuple[pq.ParquetFile, np.ndarray]:
        if not self.has_images:
            raise InputError(f"{self.path}: text-only corpus (no images); use an image corpus")
        pf = _read_parquet(
            self.path / IMAGES, IMAGE_SCHEMA, lambda p: pq.ParquetFile(p, memory_map=True)
        )
        sizes = [pf.metadata.row_group(g).num_rows for g in range(pf.num_row_groups)]
        return pf, np.cumsum([0, *sizes])

    def image_bytes(self, items: np.ndarray) -> list[bytes]:
        """The encoded images (PNG or JPEG, manifest `image_format`) of item positions `items`."""
        pf, starts = self._image_file
        items = np.asarray(items, dtype=np.int64)
        groups = np.searchsorted(starts, items, side="right") - 1
        out: list[bytes] = [b""] * len(items)
        for g in np.unique(groups):
            column = pf.read_row_group(int(g), columns=["image"]).column(0)
            for k in np.flatnonzero(groups == g):
                out[k] = column[int(items[k] - starts[g])].as_py()
        return out

    def images(self, items: np.ndarray, size: int | None = None) -> np.ndarray:
        """Decoded RGB images of item positions `items`: uint8 [n, H, W, 3] (resized to `size`)."""
        from PIL import Image

        out = []
        for data in self.image_bytes(items):
            img = Image.open(io.BytesIO(data)).convert("RGB")
            if size is not None and img.size != (size, size):
                img = img.resize((size, size), Image.BICUBIC)
            out.append(np.asarray(img))
        if len({a.shape for a in out}) > 1:
            raise InputError(f"{self.path}: images differ in size; pass size= to resize them")
        return np.stack(out) if out else np.zeros((0, size or 0, size or 0, 3), np.uint8)

    def fingerprint(self) -> str:
        """A stable short hash of the manifest and file contents (checksums from the manifest)."""
        h = hashlib.blake2b(digest_size=10)
        h.update((self.path / MANIFEST).read_bytes())
        sums = self.manifest.get("checksums", {})
        for name in (CAPTIONS, IMAGES):
            if (self.path / name).is_file():
                h.update(f"{name}:{(self.path / name).stat().st_size}".encode())
                if name not in sums:
                    h.update(_file_digest(self.path / name).encode())
        return h.hexdigest()


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read_parquet(path: Path, schema: pa.Schema, read):
    """`read(path)` with one-line errors for missing, unreadable or wrongly shaped parquet files."""
    if not path.is_file():
        raise InputError(f"{path}: missing; the corpus is incomplete, re-import it")
    try:
        result = read(str(path))
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{path}: unreadable parquet ({exc}); re-import the corpus") from None
    missing = [f.name for f in schema if f.name not in result.schema.names]
    if missing:
        raise InputError(f"{path}: no column '{missing[0]}'; re-import the corpus")
    return result


def open_corpus(path: str | Path) -> Corpus:
    """Open a canonical corpus directory (captions memory-mapped)."""
    path = Path(path).expanduser()
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise InputError(
            f"{path}: not a canonical corpus (no {MANIFEST}); import one with `study data ...`"
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        version = manifest["format_version"]
        missing = [k for k in ("name", "languages", "num_items", "has_images") if k not in manifest]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"{manifest_path}: corrupt manifest ({exc!r}); re-import the corpus"
        ) from None
    if version != FORMAT_VERSION:
        raise InputError(
            f"{manifest_path}: format_version {version} is not supported (expected "
            f"{FORMAT_VERSION}); re-import the corpus with this version"
        )
    if missing:
        raise InputError(f"{manifest_path}: missing key '{missing[0]}'; re-import the corpus")
    captions = _read_parquet(
        path / CAPTIONS, CAPTION_SCHEMA, lambda p: pq.ParquetFile(p, memory_map=True).read()
    )
    return Corpus(path, manifest, captions)


def write_corpus(
    out: str | Path,
    *,
    name: str,
    captions,
    images: Mapping[str, bytes | None] | None = None,
    source: str,
    licence: str,
    image_format: str | None = None,
    provenance: Mapping | None = None,
    overwrite: bool = False,
) -> Path:
    """Validate captions (+ images keyed by item id) and write a canonical corpus at `out`.

    `captions` is a pyarrow Table or pandas DataFrame with item_id, lang, idx, text. Rows are
    stored grouped by item in order of first appearance, then by language and idx. `provenance`
    (JSON-serialisable: versions, notices, generator settings) is kept in the manifest as is.
    """
    out = check_output(out, overwrite)
    table = _canonical_captions(captions, out)
    item_ids = pc.unique(table["item_id"]).to_pylist()
    languages = sorted(pc.unique(table["lang"]).to_pylist())
    if images is not None:
        image_format = _check_images(out, item_ids, images, image_format)
    with atomic_dir(out, overwrite) as tmp:
        pq.write_table(table, tmp / CAPTIONS, compression="zstd")
        if images is not None:
            _write_images(tmp / IMAGES, item_ids, images, image_format, out)
        manifest = {
            "format_version": FORMAT_VERSION,
            "name": name,
            "languages": languages,
            "num_items": len(item_ids),
            "num_captions": table.num_rows,
            "has_images": images is not None,
            "source": source,
            "licence": licence,
            "image_format": image_format if images is not None else None,
            **({"provenance": dict(provenance)} if provenance else {}),
            "checksums": {f.name: _file_digest(f) for f in sorted(tmp.glob("*.parquet"))},
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return out


def _canonical_captions(captions, out: Path) -> pa.Table:
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


def _check_images(
    out: Path, item_ids: list[str], images: Mapping[str, bytes | None], image_format: str | None
) -> str:
    lacking = [i for i in item_ids if i not in images or images[i] is None]
    if lacking:
        raise InputError(
            f"{out}: no image for item '{lacking[0]}' ({len(lacking)} of {len(item_ids)} items "
            "lack one); supply every image or import a text-only corpus"
        )
    fmt = image_format or image_format_of(images[item_ids[0]])
    if fmt not in IMAGE_MAGIC:
        raise InputError(f"{out}: image of item '{item_ids[0]}' is neither PNG nor JPEG")
    return fmt


def _write_images(
    path: Path, item_ids: list[str], images: Mapping[str, bytes | None], fmt: str, out: Path
) -> None:
    with pq.ParquetWriter(path, IMAGE_SCHEMA, compression="none") as writer:
        for start in range(0, len(item_ids), IMAGE_ROW_GROUP):
            ids = item_ids[start : start + IMAGE_ROW_GROUP]
            data = [images[i] for i in ids]
            bad = next(
                (i for i, d in zip(ids, data, strict=True) if not d.startswith(IMAGE_MAGIC[fmt])),
                None,
            )
            if bad is not None:
                raise InputError(f"{out}: image of item '{bad}' is not a {fmt.upper()} file")
            writer.write_table(pa.table([ids, data], schema=IMAGE_SCHEMA))
