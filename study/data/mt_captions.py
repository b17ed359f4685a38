"""Import COCO-35L / CC3M-35L machine-translated captions (the XM3600 authors' training data).

One JSON object per line: `image_id` (COCO, flattened as `<image_id>_<N>` for the Nth caption of
an image) or `rec_num` (CC3M), `src_lang`, `trg_lang`, `caption_tokenized` (the source caption),
`translation_tokenized` and `backtranslation_tokenized` (unused). The source caption repeats on
every line of its translations; it is stored once. Images are `<id>.jpg`, or for COCO the
original file names (`COCO_train2014_000000391895.jpg`, `000000391895.jpg`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from study.data.common import (
    CaptionRows,
    Images,
    check_duplicates,
    check_key,
    check_language,
    field,
    image_file,
    input_dir,
    input_file,
    read_jsonl,
    write_imported_corpus,
)
from study.errors import StudyError
from trainers.atomic_output import check_output

FLATTENED_ID = re.compile(r"(.+)_(\d+)")
EXPECTED = "COCO-35L / CC3M-35L JSONL file"
COCO_FILE = re.compile(r"(?:COCO_[A-Za-z]+\d*_)?0*(\d+)\.jpg")


class ImageFolder:
    """Finds an item's image: `<id>.jpg`, else a COCO-named file of that numeric id."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._coco: dict[str, Path] | None = None  # numeric id -> file, indexed on first miss

    def find(self, item: str) -> Path:
        """The image file of `item` (the plain `<id>.jpg` path when nothing matches)."""
        plain = self.folder / f"{item}.jpg"
        if plain.is_file() or not item.isdigit():
            return plain
        if self._coco is None:
            matches = ((COCO_FILE.fullmatch(e.name), e.path) for e in os.scandir(self.folder))
            self._coco = {m.group(1): Path(path) for m, path in matches if m}
        return self._coco.get(item.lstrip("0") or "0", plain)


def caption_key(obj: dict, where: str) -> tuple[str, int]:
    """(item id, caption number) of a line: '391895_3' is caption 3 of image 391895."""
    if "image_id" in obj:
        raw = str(field(obj, "image_id", where, (str, int)))
        match = FLATTENED_ID.fullmatch(raw)
        item, number = (match.group(1), int(match.group(2))) if match else (raw, 0)
    elif "rec_num" in obj:
        item, number = str(field(obj, "rec_num", where, (str, int))), 0
    else:
        raise StudyError(f"{where}: missing field 'image_id' (or 'rec_num')")
    return check_key(item, where, "image id"), number


def import_mt_captions(
    path: str | Path,
    out: str | Path,
    *,
    images: str | Path | None = None,
    name: str | None = None,
    source: str | None = None,
    licence: str = "CC BY 4.0 (captions); images: see the COCO / CC3M terms",
    overwrite: bool = False,
    image_size: int | None = None,
    use_ray: bool | None = None,
) -> Path:
    """Write the canonical corpus of a COCO-35L / CC3M-35L JSONL file (+ `<id>.jpg` images).

    `image_size` / `use_ray`: see `study.data.image_import.ImageWriter`.
    """
    out = check_output(out, overwrite)
    path = input_file(path, EXPECTED)
    folder = ImageFolder(input_dir(images, "--images")) if images is not None else None
    files = Images() if folder is not None else None
    rows = CaptionRows()
    sources: set[tuple[str, str, int]] = set()
    for number, obj in read_jsonl(path, EXPECTED):
        where = f"{path}:{number}"
        item, idx = caption_key(obj, where)
        src = check_language(field(obj, "src_lang", where), where)
        trg = check_language(field(obj, "trg_lang", where), where)
        caption = field(obj, "caption_tokenized", where)
        translation = field(obj, "translation_tokenized", where)
        if files is not None and item not in files:
            files.add(item, image_file(folder.find(item), where, f"image id '{item}'"))
        if (item, src, idx) not in sources:
            sources.add((item, src, idx))
            rows.add(item, src, idx, caption, number)
        if trg != src:
            rows.add(item, trg, idx, translation, number)
    table = rows.table(path)
    check_duplicates(table, path)
    return write_imported_corpus(
        out,
        table,
        files,
        name=name,
        source=source or f"machine-translated captions ({path.name})",
        licence=licence,
        overwrite=overwrite,
        image_size=image_size,
        use_ray=use_ray,
    )
