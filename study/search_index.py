"""A cached faiss inner-product index over a corpus's captions (and images) under one model.

Cache layout: `<cache>/<corpus fingerprint>-<model fingerprint>/` with `text.faiss` (captions
sorted by language, so a language is one contiguous range), `text_rows.npy` (the captions.parquet
row of each vector), `image.faiss` (vector i = item i; image corpora and models only) and
`meta.json`. The default cache is `search_cache/` inside the model dir.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from study.errors import StudyError

CACHE_VERSION = 1
CACHE_DIRNAME = "search_cache"
# Small files hashed in full; tower weights (possibly GBs) by name, size and mtime.
_HASHED_FILES = ("model.json", "heads.pt")


@dataclass
class Hit:
    """One search result: a caption (row) or an image (item) with the caption shown for it."""

    rank: int
    score: float
    item_id: str
    lang: str
    caption: str


def model_fingerprint(model_dir: Path) -> str:
    """A short hash of an exported model dir (its search cache excluded)."""
    h = hashlib.blake2b(digest_size=8)
    for path in sorted(model_dir.rglob("*")):
        rel = path.relative_to(model_dir)
        if not path.is_file() or rel.parts[0] == CACHE_DIRNAME:
            continue
        st = path.stat()
        h.update(f"{rel}:{st.st_size}".encode())
        h.update(path.read_bytes() if rel.name in _HASHED_FILES else str(st.st_mtime_ns).encode())
    return h.hexdigest()


@functools.cache
def _gpu_resources():
    return faiss.StandardGpuResources()


def on_device(index: faiss.Index) -> faiss.Index:
    """The index on the GPU where faiss-gpu and a GPU are present, else as is (CPU)."""
    if hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0:
        return faiss.index_cpu_to_gpu(_gpu_resources(), 0, index)
    return index


def _flat(vectors: np.ndarray) -> faiss.IndexFlatIP:
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def check_lang(corpus, lang: str | None) -> None:
    """Fail in one line for a language the corpus lacks (with the closest codes)."""
    langs = list(corpus.languages)
    if lang is not None and lang not in langs:
        close = difflib.get_close_matches(lang, langs, n=3, cutoff=0.3) or langs[:5]
        raise StudyError(
            f"--lang {lang}: not a language of {corpus.path} (closest: {', '.join(close)}); "
            f"pass one of its {len(langs)} languages"
        )


class CorpusIndex:
    """A corpus's caption (and image) embeddings in faiss, searchable by query embeddings."""

    def __init__(self, corpus, path: Path):
        self.corpus = corpus
        self.path = path
        self.meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        self.text = faiss.read_index(str(path / "text.faiss"))
        self.text_rows = np.load(path / "text_rows.npy")
        image = path / "image.faiss"
        self.image = faiss.read_index(str(image)) if image.is_file() else None

    def search_captions(self, queries: np.ndarray, k: int, lang: str | None = None) -> list:
        """Per query, the top-k hits among the captions (in `lang` only, if given)."""
        check_lang(self.corpus, lang)
        start, stop = self.meta["lang_ranges"][lang] if lang else (0, self.text.ntotal)
        index = self.text if lang is None else _flat(self.text.reconstruct_n(start, stop - start))
        scores, ids = on_device(index).search(queries, min(k, stop - start))
        return [self._hits(s, self.text_rows[start + i]) for s, i in zip(scores, ids, strict=True)]

    def search_images(self, queries: np.ndarray, k: int, lang: str | None = None) -> list:
        """Per query, the top-k images, each shown with its first caption (in `lang`, if given)."""
        if self.image is None:
            raise StudyError(
                f"--images: no image index for {self.corpus.path} (the corpus or the model has "
                "no images); search captions instead"
            )
        check_lang(self.corpus, lang)
        scores, items = on_device(self.image).search(queries, min(k, self.image.ntotal))
        return [
            self._hits(s, self._caption_rows(i, lang)) for s, i in zip(scores, items, strict=True)
        ]

    def _caption_rows(self, items: np.ndarray, lang: str | None) -> np.ndarray:
        """One caption row per item: its first caption in `lang` (any language if none), or -1."""
        index = self.corpus.caption_index()
        rows = np.full(len(items), -1, dtype=np.int64)
        for n, item in enumerate(items):
            own = np.flatnonzero(index.item == item)
            if lang is not None:
                own = own[np.asarray(index.languages)[index.lang[own]] == lang]
            if own.size:
                rows[n] = own[0]
        return rows

    def _hits(self, scores: np.ndarray, rows: np.ndarray) -> list[Hit]:
        index = self.corpus.caption_index()
        found = rows[rows >= 0]
        texts = dict(zip(found.tolist(), self.corpus.texts(found), strict=True))
        item_ids = self.corpus.item_ids
        return [
            Hit(
                rank=n + 1,
                score=float(score),
                item_id=str(item_ids[index.item[row]]) if row >= 0 else "",
                lang=index.languages[index.lang[row]] if row >= 0 else "-",
                caption=texts.get(int(row), ""),
            )
            for n, (score, row) in enumerate(zip(scores, rows, strict=True))
        ]


def _write_index(encoder, corpus, out: Path) -> None:
    """Encode the corpus and write the cache files into `out`."""
    arrays = encoder.encode_corpus(corpus)
    index = corpus.caption_index()
    order = np.argsort(index.lang, kind="stable")  # contiguous languages, row order within
    codes = index.lang[order]
    ranges = {
        lang: [int(np.searchsorted(codes, c)), int(np.searchsorted(codes, c, side="right"))]
        for c, lang in enumerate(index.languages)
        if (codes == c).any()
    }
    faiss.write_index(_flat(arrays["text_emb"][order]), str(out / "text.faiss"))
    np.save(out / "text_rows.npy", order.astype(np.int64))
    if "image_emb" in arrays:
        faiss.write_index(_flat(arrays["image_emb"]), str(out / "image.faiss"))
    meta = {
        "version": CACHE_VERSION,
        "corpus": str(corpus.path),
        "model": str(encoder.path),
        "embed_dim": encoder.embed_dim,
        "num_captions": int(len(order)),
        "num_images": int(len(arrays.get("image_emb", []))),
        "lang_ranges": ranges,
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")


def open_index(encoder, corpus, cache_dir: str | Path | None = None) -> tuple[CorpusIndex, bool]:
    """The cached index of (model, corpus), built on first use; also whether it was built now."""
    model_dir = Path(encoder.path)
    root = Path(cache_dir).expanduser() if cache_dir else model_dir / CACHE_DIRNAME
    target = root / f"{corpus.fingerprint()}-{model_fingerprint(model_dir)}"
    if (target / "meta.json").is_file():
        return CorpusIndex(corpus, target), False
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=root))
    except OSError as exc:
        raise StudyError(
            f"{root}: cannot write the search cache ({exc.strerror}); pass --cache-dir DIR"
        ) from None
    try:
        _write_index(encoder, corpus, tmp)
        os.rename(tmp, target)
    except OSError:
        if not (target / "meta.json").is_file():  # else a concurrent build won the rename
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return CorpusIndex(corpus, target), True
