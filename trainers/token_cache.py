"""Token ids of every caption of a corpus: computed once per (tokenizer, corpus, length), cached.

Trials of a study share one tokenizer and one training corpus, so each caption is tokenised once
for the whole sweep instead of once per batch of every trial. Stored flat with row offsets
(`ids.npy`, `offsets.npy`) and memory-mapped by readers. Corpora with more caption rows than
TOKEN_CACHE_ROWS are tokenised batch by batch in the loader workers instead.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from trainers.atomic_output import cached_dir
from trainers.tokenizer import caption_chunks, flat_token_ids, token_ids

TOKENS_DIR = "token-ids"
TOKEN_CACHE_ROWS = 2_000_000


def tokenizer_fingerprint(tokenizer) -> str:
    """A short hash of a fast tokenizer's full definition (vocabulary, normaliser, specials)."""
    return hashlib.sha256(tokenizer.backend_tokenizer.to_str().encode()).hexdigest()[:16]


class TokenIds:
    """The cached token ids of a corpus's caption rows (memory-mapped; pickles as its path)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.ids = np.load(self.path / "ids.npy", mmap_mode="r")
        self.offsets = np.load(self.path / "offsets.npy", mmap_mode="r")

    def __reduce__(self):
        return TokenIds, (str(self.path),)

    def take(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ids of `rows` concatenated, length of each) in the order of `rows`."""
        starts, ends = self.offsets[rows], self.offsets[np.asarray(rows) + 1]
        lengths = ends - starts
        # Position k of the output reads ids[start of its row + its place within the row].
        shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        return np.asarray(self.ids[shift + np.arange(int(lengths.sum()))], np.int64), lengths


def ensure_token_ids(tokenizer, corpus, max_length: int, cache_dir: str | Path) -> TokenIds | None:
    """The corpus's cached token ids (built if absent), or None for a corpus too large to cache."""
    if corpus.captions.num_rows > TOKEN_CACHE_ROWS:
        return None

    def build(tmp: Path) -> None:
        parts = [
            flat_token_ids(token_ids(tokenizer, texts, max_length))
            for texts in caption_chunks(corpus)
        ]
        flat = np.concatenate([p[0] for p in parts] or [np.zeros(0, np.int64)])
        lengths = np.concatenate([p[1] for p in parts] or [np.zeros(0, np.int64)])
        np.save(tmp / "ids.npy", flat.astype(np.int32))
        np.save(tmp / "offsets.npy", np.concatenate([[0], np.cumsum(lengths)]))

    name = f"{tokenizer_fingerprint(tokenizer)}-{corpus.fingerprint()}-{max_length}"
    return TokenIds(cached_dir(Path(cache_dir).expanduser() / TOKENS_DIR / name, build))
