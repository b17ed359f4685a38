"""Shared importer helpers: checked input files, JSONL with file:line errors, caption rows, images."""

from __future__ import annotations

import bz2
import gzip
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from study.errors import StudyError
from trainers.corpus import CAPTION_SCHEMA, is_known_language

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


def read_jsonl(path: Path, expected: str = "JSONL file") -> Iterator[tuple[str, dict]]:
    """('file:line', object) for every non-blank line of a JSONL file."""
    with open_text(path, expected) as f:
        try:
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
                yield where, obj
        except UnicodeDecodeError:
            raise StudyError(f"{path}: not UTF-8 text; expected a {expected}") from None


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


class CaptionRows:
    """Caption rows collected in bounded Python lists and kept as Arrow record batches."""

    FLUSH = 500_000

    def __init__(self) -> None:
        self._columns: tuple[list, ...] = ([], [], [], [])
        self._batches: list[pa.RecordBatch] = []

    def add(self, item: str, lang: str, idx: int, text: str) -> None:
        """Append one caption."""
        for column, value in zip(self._columns, (item, lang, idx, text), strict=True):
            column.append(value)
        if len(self._columns[0]) >= self.FLUSH:
            self._flush()

    def _flush(self) -> None:
        if self._columns[0]:
            self._batches.append(pa.record_batch(list(self._columns), schema=CAPTION_SCHEMA))
            self._columns = ([], [], [], [])

    def table(self) -> pa.Table:
        """All rows so far as a Table with the canonical caption schema."""
        self._flush()
        return pa.Table.from_batches(self._batches, schema=CAPTION_SCHEMA)


class ImageFiles(Mapping):
    """item id -> encoded image bytes, read from `folder/<id><suffix>` only when asked for."""

    def __init__(self, folder: Path, items: Iterable[str], suffix: str) -> None:
        self.folder, self.items, self.suffix = folder, list(items), suffix

    def path(self, item: str) -> Path:
        """The file of one item."""
        return self.folder / f"{item}{self.suffix}"

    def __getitem__(self, item: str) -> bytes:
        return self.path(item).read_bytes()

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and self.path(item).is_file()

    def __iter__(self) -> Iterator[str]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def require_image(images: ImageFiles, item: str, where: str, name: str) -> None:
    """A one-line error when an item's image file is missing."""
    if item not in images:
        raise StudyError(
            f"{where}: missing image {images.path(item)} for {name} '{item}'; add the file or "
            "drop --images for a text-only corpus"
        )
