"""Import Crossmodal-3600 (captions.jsonl + <image/key>.jpg) into a canonical corpus."""

from __future__ import annotations

from pathlib import Path

from study.data.common import (
    CaptionRows,
    Images,
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

NON_LANGUAGE_KEYS = ("image/key", "image/locale")


def import_xm3600(
    captions: str | Path,
    images: str | Path | None,
    out: str | Path,
    *,
    name: str | None = None,
    source: str | None = None,
    licence: str = "CC BY 4.0 (captions); images: see the Open Images licences",
    overwrite: bool = False,
    image_size: int | None = None,
    use_ray: bool | None = None,
) -> Path:
    """Write the canonical corpus of an XM3600 `captions.jsonl` (+ image folder, if given).

    `image_size` / `use_ray`: see `study.data.image_import.ImageWriter`.
    """
    out = check_output(out, overwrite)
    captions = input_file(captions, "XM3600 captions.jsonl")
    folder = input_dir(images, "--images") if images is not None else None
    files = Images() if folder is not None else None
    rows = CaptionRows()
    first_line: dict[str, int] = {}
    for number, obj in read_jsonl(captions, "XM3600 captions.jsonl"):
        where = f"{captions}:{number}"
        key = check_key(field(obj, "image/key", where), where, "image/key")
        if key in first_line:
            raise StudyError(
                f"{where}: duplicate image/key '{key}' (first at line {first_line[key]})"
            )
        first_line[key] = number
        for lang, entry in obj.items():
            if lang in NON_LANGUAGE_KEYS:
                continue
            check_language(lang, where)
            if not isinstance(entry, dict):
                raise StudyError(f"{where}: language '{lang}' must map to an object with 'caption'")
            texts = field(entry, "caption", f"{where} ({lang})", list)
            for idx, text in enumerate(texts):
                if not isinstance(text, str):
                    raise StudyError(f"{where}: {lang} caption {idx} is not a string")
                if text.strip():
                    rows.add(key, lang, idx, text, number)
        if files is not None:
            files.add(key, image_file(folder / f"{key}.jpg", where, f"image/key '{key}'"))
    table = rows.table(captions)
    return write_imported_corpus(
        out,
        table,
        files,
        name=name,
        source=source or f"Crossmodal-3600 ({captions.name})",
        licence=licence,
        overwrite=overwrite,
        image_size=image_size,
        use_ray=use_ray,
    )
