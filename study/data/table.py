"""Import a generic caption table: JSONL, CSV/TSV, parquet or a Hugging Face dataset (offline).

One row per caption; columns are mapped with item/lang/text (+ optional image and idx) names.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from study.data.common import (
    CaptionRows,
    Images,
    check_duplicates,
    check_language,
    decoding,
    image_file,
    number_captions,
    open_text,
    read_jsonl,
    write_imported_corpus,
)
from study.errors import StudyError
from trainers.atomic_output import check_output
from trainers.corpus import image_format_of

FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv"}
FORMATS[".parquet"] = "parquet"
COMPRESSED = (".gz", ".bz2")


@dataclass(frozen=True)
class Columns:
    """Which input column holds each caption field."""

    item: str
    lang: str
    text: str
    image: str | None = None
    idx: str | None = None

    def names(self) -> list[str]:
        """Every mapped column."""
        return [c for c in (self.item, self.lang, self.text, self.image, self.idx) if c]


def _check_columns(present: list[str], cols: Columns, source: str) -> None:
    missing = [c for c in cols.names() if c not in present]
    if missing:
        raise StudyError(
            f"{source}: no column '{missing[0]}' (columns: {', '.join(present)}); map it with "
            "--item-col/--lang-col/--text-col/--image-col/--idx-col"
        )


def _file_rows(path: Path, kind: str, cols: Columns) -> Iterator[tuple[str, int, dict]]:
    """(where, line, row) of a JSONL, CSV/TSV or parquet file."""
    if kind == "jsonl":
        for number, obj in read_jsonl(path):
            yield f"{path}:{number}", number, obj
    elif kind in ("csv", "tsv"):
        with open_text(path, f"{kind.upper()} file") as f, decoding(path, f"{kind.upper()} file"):
            reader = csv.DictReader(f, delimiter="," if kind == "csv" else "\t")
            _check_columns(list(reader.fieldnames or []), cols, str(path))
            for row in reader:
                yield f"{path}:{reader.line_num}", reader.line_num, row
    else:
        try:
            pf = pq.ParquetFile(path)
        except (OSError, pa.ArrowException) as exc:
            raise StudyError(f"{path}: not a readable parquet file ({exc})") from None
        _check_columns(pf.schema_arrow.names, cols, str(path))
        number = 0
        for batch in pf.iter_batches(columns=cols.names(), batch_size=10_000):
            for row in batch.to_pylist():
                number += 1
                yield f"{path} row {number}", number, row


def _hf_rows(source: str, split: str | None, cols: Columns, stack: ExitStack):
    """(where, row number, row) of a Hugging Face dataset: a local dir or a cached name."""
    os.environ["HF_DATASETS_OFFLINE"] = os.environ["HF_HUB_OFFLINE"] = "1"  # never download
    import datasets

    datasets.config.HF_HUB_OFFLINE = True  # the env var only counts before the first import
    path = Path(source).expanduser()
    try:
        if (path / "state.json").is_file() or (path / "dataset_dict.json").is_file():
            ds = datasets.load_from_disk(str(path))
        elif path.exists():  # raw files: convert in a private cache, not the user's
            cache = stack.enter_context(tempfile.TemporaryDirectory(prefix="study-hf-"))
            ds = datasets.load_dataset(str(path), cache_dir=cache)
        else:
            ds = datasets.load_dataset(source)
    except (OSError, ValueError, ConnectionError, datasets.exceptions.DatasetsError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StudyError(
            f"{source}: not loadable as a Hugging Face dataset offline ({reason}); give a local "
            "file or directory, or the name of a dataset already in your cache"
        ) from None
    if isinstance(ds, datasets.DatasetDict):
        chosen = split or ("train" if "train" in ds or len(ds) != 1 else next(iter(ds)))
        if chosen not in ds:
            raise StudyError(
                f"{source}: no split '{chosen}' (splits: {', '.join(ds)}); use --split"
            )
        ds, source = ds[chosen], f"{source}[{chosen}]"
    _check_columns(ds.column_names, cols, source)
    if cols.image and isinstance(ds.features[cols.image], datasets.Image):
        ds = ds.cast_column(cols.image, datasets.Image(decode=False))  # keep the encoded bytes
    number = 0
    for batch in ds.select_columns(cols.names()).iter(batch_size=1000):
        for values in zip(*batch.values(), strict=True):
            number += 1
            yield f"{source} row {number}", number, dict(zip(batch, values, strict=True))


def _value(row: dict, column: str, where: str) -> Any:
    value = row.get(column)
    if value is None or value == "":
        raise StudyError(f"{where}: missing field '{column}'")
    return value


def _image(value: Any, base: Path, where: str, item: str) -> bytes | Path:
    """Encoded bytes (HF Image dicts, binary columns) or the file a path names."""
    if isinstance(value, dict):
        value = value.get("bytes") or value.get("path")
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str) and value:
        path = Path(value) if Path(value).is_absolute() else base / value
        return image_file(path, where, f"item '{item}'")
    raise StudyError(f"{where}: image value of type {type(value).__name__} is not bytes or a path")


def _head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(8)


def import_table(
    source: str | Path,
    out: str | Path,
    *,
    columns: Columns,
    images: str | Path | None = None,
    split: str | None = None,
    name: str | None = None,
    source_note: str | None = None,
    licence: str = "unknown",
    overwrite: bool = False,
    image_size: int | None = None,
    use_ray: bool | None = None,
) -> Path:
    """Write the canonical corpus of a caption table (one row per caption) or HF dataset.

    `image_size` / `use_ray`: see `study.data.image_import.ImageWriter`.
    """
    out = check_output(out, overwrite)
    path = Path(source).expanduser()
    if not path.exists() and path.suffix.lower() in (*FORMATS, *COMPRESSED):
        raise StudyError(f"{path}: no such file; give the path of the caption table")
    suffixes = [s for s in path.suffixes if s not in COMPRESSED]
    kind = FORMATS.get(suffixes[-1].lower()) if suffixes and path.is_file() else None
    if path.is_file() and kind is None:
        raise StudyError(
            f"{path}: not a table file (use .jsonl, .json, .csv, .tsv or .parquet) or a Hugging "
            "Face dataset directory"
        )
    base = Path(images).expanduser() if images is not None else path.parent
    rows, files, formats, first_line = CaptionRows(), Images(), {}, {}
    with ExitStack() as stack:
        stream = (
            _file_rows(path, kind, columns)
            if kind
            else _hf_rows(str(source), split, columns, stack)
        )
        for where, number, row in stream:
            item = str(_value(row, columns.item, where))
            lang = check_language(str(_value(row, columns.lang, where)), where)
            text = _value(row, columns.text, where)
            if not isinstance(text, str):
                raise StudyError(f"{where}: field '{columns.text}' is not text")
            try:
                idx = int(_value(row, columns.idx, where)) if columns.idx else -1
            except ValueError:
                raise StudyError(f"{where}: field '{columns.idx}' is not an integer") from None
            rows.add(item, lang, idx, text, number)
            first_line.setdefault(item, where)
            if columns.image and item not in files and row.get(columns.image) is not None:
                data = _image(row[columns.image], base, where, item)
                fmt = image_format_of(data if isinstance(data, bytes) else _head(data))
                if fmt is None:
                    raise StudyError(f"{where}: the image is neither PNG nor JPEG")
                formats.setdefault(fmt, where)
                files.add(item, data)
        table = rows.table(path)
    if columns.image:
        lacking = next((i for i in first_line if i not in files), None)
        if lacking is not None:
            raise StudyError(f"{first_line[lacking]}: missing image for item '{lacking}'")
        if len(formats) > 1:
            raise StudyError(f"{list(formats.values())[1]}: images must all be PNG or all JPEG")
    if columns.idx:
        check_duplicates(table, path, ":" if kind in ("jsonl", "csv", "tsv") else " row ")
    else:
        table = number_captions(table)
    return write_imported_corpus(
        out,
        table,
        files if columns.image else None,
        name=name,
        source=source_note or f"caption table ({path.name})",
        licence=licence,
        overwrite=overwrite,
        image_size=image_size,
        use_ray=use_ray,
    )
