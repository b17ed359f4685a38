"""The canonical corpus's file names, schemas, language codes and image formats (see
docs/architecture.md, "Canonical corpus")."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa

from trainers.errors import InputError

FORMAT_VERSION = 2  # written; format 1 (one captions.parquet and images.parquet) is still read
MANIFEST, ITEMS = "manifest.json", "items.parquet"
CAPTIONS_V1, IMAGES_V1 = "captions.parquet", "images.parquet"  # format 1
CAPTION_DIR, IMAGE_DIR = "captions", "images"  # format 2: part-NNNNN.parquet shards
CAPTION_SCHEMA = pa.schema(
    [("item_id", pa.string()), ("lang", pa.string()), ("idx", pa.int32()), ("text", pa.string())]
)
IMAGE_SCHEMA = pa.schema([("item_id", pa.string()), ("image", pa.binary())])
# Item index, row p = item p: the image shard (an index into the manifest's shard list; null for
# text-only corpora) and the row within it.
ITEM_SCHEMA = pa.schema(
    [("item_id", pa.string()), ("image_shard", pa.int32()), ("image_row", pa.int32())]
)
# Parquet reads whole row groups: with one image per group a batch of random items reads exactly
# its images (groups of 256 made a batch of 64 read up to 256 times the bytes it decodes).
IMAGE_ROW_GROUP = 1
IMAGE_SHARD_ITEMS = 1024  # images per shard written by one process or task
CAPTION_SHARD_ROWS = 1_000_000  # caption rows per shard
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


def shard_name(folder: str, number: int) -> str:
    """The relative path of shard `number` in a format-2 shard folder."""
    return f"{folder}/part-{number:05d}.parquet"


def file_digest(path: Path) -> str:
    """sha256 of a file, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_parquet(path: Path, schema: pa.Schema, read):
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
