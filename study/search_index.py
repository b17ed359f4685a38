"""A cached faiss inner-product index over a corpus's captions (and images) under one model, and
the search that lists items: each hit is an item, shown with its caption in the query's language.

Cache layout: `<cache>/<corpus fingerprint>-<model fingerprint>-v<CACHE_VERSION>/` with
`text.faiss` (captions sorted by language, so a language is one contiguous range),
`text_rows.npy` (the captions.parquet row of each vector), `image.faiss` (vector i = item i;
image corpora and models only), the traced text encoder and its tokenizer
(trainers.traced_text: queries are encoded without loading transformers), `languages.json`
(trigram profiles that tell the query's language) and `meta.json`. The default cache is
`search_cache/` inside the model dir.
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
from study.query_language import detect_language, language_profiles

CACHE_VERSION = 2
CACHE_DIRNAME = "search_cache"
# Small files hashed in full; tower weights (possibly GBs) by name, size and mtime.
_HASHED_FILES = ("model.json", "heads.pt")


@dataclass
class Hit:
    """One search result: an item (its position and id), its score, and the caption shown for it."""

    rank: int
    score: float
    item: int
    item_id: str
    lang: str
    caption: str


@dataclass
class QueryHits:
    """The hits of one query and the language its captions are shown in (given or detected)."""

    query: str
    language: str | None
    detected: bool
    hits: list[Hit]


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
    """A corpus's caption (and image) embeddings in faiss, searched item by item."""

    def __init__(self, corpus, path: Path, model_dir: Path):
        self.corpus = corpus
        self.path = path
        self.model_dir = model_dir
        self.meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        self.text = faiss.read_index(str(path / "text.faiss"))
        self.text_rows = np.load(path / "text_rows.npy")
        image = path / "image.faiss"
        self.image = faiss.read_index(str(image)) if image.is_file() else None

    def search(self, queries: list[str], k: int, lang: str | None = None, images: bool = False):
        """Per query, the top-k items (QueryHits): by their best caption (in `lang` only, if
        given) or, with `images`, by their image; each shown with its caption in `lang`, else
        in the query's detected language."""
        check_lang(self.corpus, lang)
        if images and self.image is None:
            raise StudyError(
                f"--images: no image index for {self.corpus.path} (the corpus or the model has "
                "no images); search captions instead"
            )
        vectors = self._encode(queries)
        profiles = None if lang else self._profiles()
        search = self._image_hits if images else self._caption_hits
        out = []
        for query, vector in zip(queries, vectors, strict=True):
            shown = lang or detect_language(query, profiles)
            out.append(QueryHits(query, shown, lang is None, search(vector[None], k, lang, shown)))
        return out

    def _encode(self, queries: list[str]) -> np.ndarray:
        from trainers.traced_text import TracedText

        traced = TracedText.load(self.path)
        if traced is not None:
            return traced.encode_texts(queries)
        from trainers.encoder import Encoder  # a model the tracer could not follow

        return Encoder.load(self.model_dir).encode_texts(queries)

    def _profiles(self) -> dict:
        return json.loads((self.path / "languages.json").read_text(encoding="utf-8"))

    def _caption_hits(self, query: np.ndarray, k: int, lang: str | None, shown: str | None):
        start, stop = self.meta["lang_ranges"][lang] if lang else (0, self.text.ntotal)
        index = self.text if lang is None else _flat(self.text.reconstruct_n(start, stop - start))
        # Enough captions that k distinct items are among them.
        most = self.meta["max_captions_per_item"][lang or ""]
        scores, ids = on_device(index).search(query, min(k * most, stop - start))
        rows = self.text_rows[start + ids[0]]
        items = self.corpus.caption_index().item[rows]
        first = np.sort(np.unique(items, return_index=True)[1])[:k]  # each item's best caption
        return self._hits(scores[0][first], items[first], rows[first], shown)

    def _image_hits(self, query: np.ndarray, k: int, lang: str | None, shown: str | None):
        scores, items = on_device(self.image).search(query, min(k, self.image.ntotal))
        return self._hits(scores[0], items[0], np.full(len(items[0]), -1), shown)

    @functools.cached_property
    def _first_rows(self) -> np.ndarray:
        """[items, languages]: each item's first caption (lowest idx) in each language, or -1."""
        index = self.corpus.caption_index()
        order = np.lexsort((index.idx, index.lang, index.item))
        key = index.item[order].astype(np.int64) * len(index.languages) + index.lang[order]
        first = order[np.r_[True, key[1:] != key[:-1]]]
        table = np.full((index.num_items, len(index.languages)), -1, dtype=np.int64)
        table[index.item[first], index.lang[first]] = first
        return table

    def _shown_row(self, item: int, matched: int, shown: str | None) -> int:
        """The caption row shown for an item: its caption in `shown` (the matched one if it is
        in that language), else the matched caption, else its first caption in any language."""
        index = self.corpus.caption_index()
        if shown is not None and shown in index.languages:
            if matched >= 0 and index.languages[index.lang[matched]] == shown:
                return matched
            row = self._first_rows[item, index.languages.index(shown)]
            if row >= 0:
                return int(row)
        if matched >= 0:
            return matched
        own = self._first_rows[item]
        return int(own[own >= 0].min()) if (own >= 0).any() else -1

    def _hits(self, scores, items, matched, shown: str | None) -> list[Hit]:
        index = self.corpus.caption_index()
        rows = [self._shown_row(int(i), int(m), shown) for i, m in zip(items, matched, strict=True)]
        found = [r for r in rows if r >= 0]
        texts = dict(zip(found, self.corpus.texts(np.array(found, dtype=np.int64)), strict=True))
        item_ids = self.corpus.item_ids
        return [
            Hit(
                rank=n + 1,
                score=float(score),
                item=int(item),
                item_id=str(item_ids[item]),
                lang=index.languages[index.lang[row]] if row >= 0 else "-",
                caption=texts.get(row, ""),
            )
            for n, (score, item, row) in enumerate(zip(scores, items, rows, strict=True))
        ]


def _write_index(model_dir: Path, corpus, out: Path) -> None:
    """Encode the corpus with the model and write the cache files into `out`."""
    from trainers.encoder import Encoder
    from trainers.traced_text import save_traced_text

    encoder = Encoder.load(model_dir)
    arrays = encoder.encode_corpus(corpus)
    index = corpus.caption_index()
    order = np.argsort(index.lang, kind="stable")  # contiguous languages, row order within
    codes = index.lang[order]
    ranges = {
        lang: [int(np.searchsorted(codes, c)), int(np.searchsorted(codes, c, side="right"))]
        for c, lang in enumerate(index.languages)
        if (codes == c).any()
    }
    most = {"": int(np.bincount(index.item).max())}
    for c, lang in enumerate(index.languages):
        if lang in ranges:
            most[lang] = int(np.bincount(index.item[index.lang == c]).max())
    faiss.write_index(_flat(arrays["text_emb"][order]), str(out / "text.faiss"))
    np.save(out / "text_rows.npy", order.astype(np.int64))
    if "image_emb" in arrays:
        faiss.write_index(_flat(arrays["image_emb"]), str(out / "image.faiss"))
    sample = corpus.texts(np.arange(min(8, len(order))))
    traced = save_traced_text(encoder.model, encoder.tokenizer, out, [*sample, " ".join(sample)])
    profiles = language_profiles(corpus)
    (out / "languages.json").write_text(json.dumps(profiles, ensure_ascii=False), encoding="utf-8")
    meta = {
        "version": CACHE_VERSION,
        "corpus": str(corpus.path),
        "model": str(model_dir),
        "embed_dim": encoder.embed_dim,
        "num_captions": int(len(order)),
        "num_images": int(len(arrays.get("image_emb", []))),
        "lang_ranges": ranges,
        "max_captions_per_item": most,
        "traced_text_encoder": traced,
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")


def open_index(
    model_dir: str | Path, corpus, cache_dir: str | Path | None = None
) -> tuple[CorpusIndex, bool]:
    """The cached index of (model, corpus), built on first use; also whether it was built now."""
    model_dir = Path(model_dir).expanduser()
    if not (model_dir / "model.json").is_file():
        raise StudyError(
            f"{model_dir}: not an exported model dir (no model.json); export one with "
            "`study best RUN --export DIR`"
        )
    root = Path(cache_dir).expanduser() if cache_dir else model_dir / CACHE_DIRNAME
    name = f"{corpus.fingerprint()}-{model_fingerprint(model_dir)}-v{CACHE_VERSION}"
    target = root / name
    if (target / "meta.json").is_file():
        return CorpusIndex(corpus, target, model_dir), False
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=root))
    except OSError as exc:
        raise StudyError(
            f"{root}: cannot write the search cache ({exc.strerror}); pass --cache-dir DIR"
        ) from None
    try:
        _write_index(model_dir, corpus, tmp)
        os.rename(tmp, target)
    except OSError:
        if not (target / "meta.json").is_file():  # else a concurrent build won the rename
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return CorpusIndex(corpus, target, model_dir), True
