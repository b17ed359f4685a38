"""Validate the embeddings contract, load it from npz, and lay texts out for the ranking pass."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trainers.errors import InputError

TEXT_KEYS = ("text_emb", "text_item", "text_lang", "text_idx")
IMAGE_KEYS = ("image_emb", "image_item")
PROTOCOLS = ("all", "first")


def load_embeddings_npz(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of an embeddings npz (text_* and optional image_*), validated."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file; give an .npz written by numpy.savez")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files if key in TEXT_KEYS + IMAGE_KEYS}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise InputError(
            f"{path}: not a readable npz file ({exc}); write it with numpy.savez"
        ) from None
    check_arrays(arrays, where=str(path))
    return arrays


def check_arrays(arrays: dict[str, np.ndarray], where: str = "embeddings") -> None:
    """Raise InputError naming the first array that breaks the embeddings contract."""
    for key in TEXT_KEYS:
        if key not in arrays or arrays[key] is None:
            raise InputError(
                f"{where}: missing array '{key}'; the npz needs {', '.join(TEXT_KEYS)}"
            )
    has_image = [arrays.get(key) is not None for key in IMAGE_KEYS]
    if any(has_image) and not all(has_image):
        missing = IMAGE_KEYS[has_image.index(False)]
        raise InputError(f"{where}: missing array '{missing}'; give both image_emb and image_item")
    groups = [("text", TEXT_KEYS)] + ([("image", IMAGE_KEYS)] if all(has_image) else [])
    dims = []
    for prefix, keys in groups:
        emb = np.asarray(arrays[keys[0]])
        if emb.ndim != 2 or emb.shape[0] == 0 or emb.shape[1] == 0:
            raise InputError(
                f"{where}: '{keys[0]}' has shape {emb.shape}; it must be 2-D [rows, dim], non-empty"
            )
        if not np.issubdtype(emb.dtype, np.number):
            raise InputError(f"{where}: '{keys[0]}' has dtype {emb.dtype}; it must be numeric")
        if not np.isfinite(emb).all():
            row = int(np.flatnonzero(~np.isfinite(emb).all(axis=1))[0])
            raise InputError(f"{where}: '{keys[0]}' row {row} is NaN or infinite; re-encode it")
        dims.append(emb.shape[1])
        for key in keys[1:]:
            values = np.asarray(arrays[key])
            if values.shape != (emb.shape[0],):
                raise InputError(
                    f"{where}: '{key}' has shape {values.shape} but '{keys[0]}' has "
                    f"{emb.shape[0]} rows; give one {prefix} value per row"
                )
    if len(set(dims)) > 1:
        raise InputError(
            f"{where}: text_emb dim {dims[0]} != image_emb dim {dims[1]}; use one model"
        )
    if not np.issubdtype(np.asarray(arrays["text_idx"]).dtype, np.integer):
        raise InputError(f"{where}: 'text_idx' must hold integers (caption index per item+lang)")
    if all(has_image):
        items, counts = np.unique(np.asarray(arrays["image_item"]).astype(str), return_counts=True)
        if (counts > 1).any():
            raise InputError(
                f"{where}: image_item '{items[counts > 1][0]}' appears twice; one image per item"
            )
        missing = np.setdiff1d(np.asarray(arrays["text_item"]).astype(str), items)
        if missing.size:
            raise InputError(
                f"{where}: text_item '{missing[0]}' has no image in image_item; "
                "give every captioned item its image"
            )


@dataclass(frozen=True)
class Layout:
    """Texts in language-major order (item, then caption index, within a language).

    `cols[item, lang, k]` is the position of the item's k-th caption in that language, -1 if none;
    `bounds[l]:bounds[l+1]` is language l's segment. Images are ordered by item code.
    """

    languages: list[str]
    text_emb: np.ndarray
    text_item: np.ndarray
    text_lang: np.ndarray
    bounds: np.ndarray
    cols: np.ndarray
    image_emb: np.ndarray | None
    image_item: np.ndarray | None
    image_of_item: np.ndarray | None


def build_layout(
    text_emb: np.ndarray,
    text_item: np.ndarray,
    text_lang: np.ndarray,
    text_idx: np.ndarray,
    image_emb: np.ndarray | None = None,
    image_item: np.ndarray | None = None,
    protocol: str = "all",
) -> Layout:
    """Apply the protocol (`first`: the lowest caption index per item and language) and order."""
    if protocol not in PROTOCOLS:
        raise InputError(f"protocol '{protocol}' is unknown; use one of {', '.join(PROTOCOLS)}")
    check_arrays(
        {
            "text_emb": text_emb,
            "text_item": text_item,
            "text_lang": text_lang,
            "text_idx": text_idx,
            "image_emb": image_emb,
            "image_item": image_item,
        }
    )
    text_item = np.asarray(text_item).astype(str)
    image_item = None if image_item is None else np.asarray(image_item).astype(str)
    items = np.unique(text_item if image_item is None else np.concatenate([text_item, image_item]))
    languages, lang = np.unique(np.asarray(text_lang).astype(str), return_inverse=True)
    item = np.searchsorted(items, text_item)
    idx = np.asarray(text_idx).astype(np.int64)
    order = np.lexsort((idx, item, lang))
    if protocol == "first":
        key = lang[order] * len(items) + item[order]
        order = order[np.r_[True, key[1:] != key[:-1]]]
    lang, item = lang[order], item[order]
    group_start = np.r_[True, (lang[1:] != lang[:-1]) | (item[1:] != item[:-1])]
    starts = np.flatnonzero(group_start)
    k = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    cols = np.full((len(items), len(languages), int(k.max()) + 1), -1, dtype=np.int64)
    cols[item, lang, k] = np.arange(len(order))
    bounds = np.searchsorted(lang, np.arange(len(languages) + 1))
    image_of_item = None
    if image_item is not None:
        image_order = np.argsort(np.searchsorted(items, image_item), kind="stable")
        image_emb = np.asarray(image_emb)[image_order]
        image_item = image_item[image_order]
        image_of_item = np.full(len(items), -1, dtype=np.int64)
        image_of_item[np.searchsorted(items, image_item)] = np.arange(len(image_item))
    return Layout(
        languages=[str(code) for code in languages],
        text_emb=np.asarray(text_emb)[order],
        text_item=item,
        text_lang=lang,
        bounds=bounds,
        cols=cols,
        image_emb=image_emb,
        image_item=None if image_item is None else np.searchsorted(items, image_item),
        image_of_item=image_of_item,
    )
