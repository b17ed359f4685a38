"""Shared importer helpers: checked input files, JSONL with file:line errors, caption rows, images."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import re
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from study.errors import StudyError
from trainers.corpus import CAPTION_SCHEMA, is_known_language, write_corpus

# Leading bytes of files that are not text; compressed JSONL is read through its codec.
MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PAR1": "a parquet file",
    b"PK\x03\x04": "a zip archive",
    b"%PDF": "a PDF document",
}
CODECS = {b"\x1f\x8b": gzip.open, b"BZh": bz2.open}
SAFE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def item_key(*parts: object) -> str:
    """A 16-hex-digit item key derived from `parts`, shaped like XM3600's image/key."""
    return hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).hexdigest()


def input_file(path: str | Path, expected: str) -> Path:
    """An existing regular file, or a one-line error naming it and what was expected."""
    path = Path(path).expanduser()
    if not path.exists():
        raise StudyError(f"{path}: no such file; give the path of the {expected}")
    if not path.is_file():
        raise StudyError(f"{path}: not a file; give the path of the {expected}")
    return path


def input_dir(path: str | Path, option: str) -> Path:
    """An existing directory given as `option`."""
    path = Path(path).expanduser()
    if not path.is_dir():
        raise StudyError(f"{option} {path}: no such directory")
    return path


def open_text(path: Path, expected: str):
    """Open a UTF-8 text file (gzip/bz2 transparently), refusing images and other binaries."""
    with open(path, "rb") as f:
        head = f.read(4096)
    opener = next((o for magic, o in CODECS.items() if head.startswith(magic)), None)
    if opener is not None:
        return opener(path, "rt", encoding="utf-8")
    kind = next((name for magic, name in MAGIC.items() if head.startswith(magic)), None)
    if kind is None and b"\x00" in head:
        kind = "a binary file"
    if kind is not None:
        raise StudyError(f"{path}: this is {kind}, not a {expected}; check the file argument")
    return open(path, encoding="utf-8")


@contextmanager
def decoding(path: Path, expected: str) -> Iterator[None]:
    """Turn undecodable text and corrupt or truncated gzip/bz2 streams into one-line errors."""
    try:
        yield
    except UnicodeDecodeError:
        raise StudyError(f"{path}: not UTF-8 text; expected a {expected}") from None
    except (EOFError, OSError, zlib.error) as exc:
        raise StudyError(
            f"{path}: corrupt or truncated compressed file ({exc}); download it again"
        ) from None


def read_jsonl(path: Path, expected: str = "JSONL file") -> Iterator[tuple[int, dict]]:
    """(line number, object) for every non-blank line of a JSONL file."""
    with open_text(path, expected) as f, decoding(path, expected):
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise StudyError(
                    f"{where}: malformed JSON ({exc.msg}, column {exc.colno})"
                ) from None
            if not isinstance(obj, dict):
                raise StudyError(f"{where}: expected a JSON object, got {type(obj).__name__}")
            yield number, obj


def field(obj: Mapping[str, Any], name: str, where: str, kind: type | tuple = str) -> Any:
    """obj[name], or a one-line error for a missing or wrongly typed field."""
    if name not in obj or obj[name] is None:
        raise StudyError(f"{where}: missing field '{name}'")
    value = obj[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise StudyError(f"{where}: field '{name}' has type {type(value).__name__}")
    return value


def check_language(code: str, where: str) -> str:
    """The code itself if it is an ISO 639 language code, else a one-line error."""
    if not is_known_language(code):
        raise StudyError(
            f"{where}: unknown language code '{code}'; use ISO 639 codes such as 'en', 'fil'"
        )
    return code


def check_key(key: str, where: str, name: str) -> str:
    """An item key usable as a file name (no path separators or leading dots)."""
    if not SAFE_KEY.fullmatch(key):
        raise StudyError(f"{where}: {name} '{key}' is not a plain file name")
    return key


ROW_SCHEMA = CAPTION_SCHEMA.append(pa.field("line", pa.int64()))


class CaptionRows:
    """Caption rows (+ the input line of each) kept as Arrow record batches, not Python objects."""

    FLUSH = 500_000

    def __init__(self) -> None:
        self._columns: tuple[list, ...] = ([], [], [], [], [])
        self._batches: list[pa.RecordBatch] = []

    def add(self, item: str, lang: str, idx: int, text: str, line: int = 0) -> None:
        """Append one caption read from input line `line`."""
        for column, value in zip(self._columns, (item, lang, idx, text, line), strict=True):
            column.append(value)
        if len(self._columns[0]) >= self.FLUSH:
            self._flush()

    def _flush(self) -> None:
        if self._columns[0]:
            self._batches.append(pa.record_batch(list(self._columns), schema=ROW_SCHEMA))
            self._columns = ([], [], [], [], [])

    def table(self, source: Path) -> pa.Table:
        """All rows as a Table (item_id, lang, idx, text, line); an error if there are none."""
        self._flush()
        table = pa.Table.from_batches(self._batches, schema=ROW_SCHEMA)
        if table.num_rows == 0:
            raise StudyError(f"{source}: empty corpus (no captions); check the input")
        return table


def check_duplicates(table: pa.Table, source: Path, where: str = ":") -> None:
    """A one-line error at the input line of the first repeated (item_id, lang, idx)."""
    keys = ["item_id", "lang", "idx"]
    counts = table.group_by(keys).aggregate([("line", "min"), ("line", "max"), ([], "count_all")])
    dup = counts.filter(pc.greater(counts["count_all"], 1))
    if dup.num_rows:
        first = dup.sort_by("line_max").slice(0, 1).to_pylist()[0]
        raise StudyError(
            f"{source}{where}{first['line_max']}: duplicate caption (item '{first['item_id']}', "
            f"lang '{first['lang']}', idx {first['idx']}), first at line {first['line_min']}"
        )


def number_captions(table: pa.Table) -> pa.Table:
    """Set idx to each caption's rank within its (item_id, lang), in input order."""
    item = pc.index_in(table["item_id"], value_set=pc.unique(table["item_id"])).to_numpy()
    lang = pc.index_in(table["lang"], value_set=pc.unique(table["lang"])).to_numpy()
    group = item.astype(np.int64) * (lang.max() + 1) + lang
    order = np.argsort(group, kind="stable")
    sorted_group = group[order]
    starts = np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1]])
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    idx = np.empty(len(order), dtype=np.int32)
    idx[order] = rank
    return table.set_column(table.schema.get_field_index("idx"), "idx", pa.array(idx))


class Images(Mapping):
    """item id -> encoded image, held as bytes or as a file read only when the corpus is written."""

    def __init__(self) -> None:
        self._data: dict[str, bytes | Path] = {}

    def add(self, item: str, data: bytes | Path) -> None:
        """Keep the first image given for an item."""
        self._data.setdefault(item, data)

    def __getitem__(self, item: str) -> bytes:
        data = self._data[item]
        return data.read_bytes() if isinstance(data, Path) else data

    def __contains__(self, item: object) -> bool:
        return item in self._data  # Mapping's default would read the file

    def source(self, item: str) -> bytes | Path:
        """The image as given: bytes, or the file to read it from."""
        return self._data[item]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def image_file(path: Path, where: str, what: str) -> Path:
    """An existing image file, or a one-line error naming it and the input line that wants it."""
    if not path.is_file():
        raise StudyError(
            f"{where}: missing image {path} for {what}; add the file or drop --images for a "
            "text-only corpus"
        )
    return path


def write_imported_corpus(
    out: Path,
    table: pa.Table,
    files: Images | None,
    *,
    name: str | None,
    source: str,
    licence: str,
    overwrite: bool,
    image_size: int | None = None,
    use_ray: bool | None = None,
) -> Path:
    """Write an imported caption table (+ images, if any) as a corpus named after `out`; images
    are checked, resized to `image_size` and written on Ray Data or here (see ImageWriter)."""
    from study.data.image_import import ImageWriter

    return write_corpus(
        out,
        name=name or out.name,
        captions=table,
        images=files,
        source=source,
        licence=licence,
        overwrite=overwrite,
        write_images=None
        if files is None
        else ImageWriter(files, size=image_size, use_ray=use_ray),
    )
