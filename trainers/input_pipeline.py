"""Batches prepared ahead of the step: tokens, pixels or cached features, by background workers.

The sampler stays in the training process and runs a few batches ahead of the loop; a
`torch.utils.data.DataLoader` (map-style, keyed by the sampler's `PairBatch`es, in sampler order)
prepares each batch in one of `workers` processes, or in the training process with 0. Preparing
is a pure function of the batch, so the batches a run trains on do not depend on the worker
count. Because the sampler runs ahead, a checkpoint must hold its state after the last batch
*consumed*: the stream keeps the state after each produced batch until the loop takes it.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from trainers.batch import PairBatch
from trainers.corpus import open_corpus
from trainers.sampler import PairSampler
from trainers.token_cache import TokenIds
from trainers.tokenizer import flat_token_ids, pad_token_ids, token_ids

PREFETCH_PER_WORKER = 2  # batches each worker prepares ahead
# Decoded pixels of a corpus this small stay in each preparing process after first use: small
# images decode fast, but a tiny tower trains faster still.
PIXEL_MEMO_BYTES = 256 * 2**20


def default_loader_workers(cpus: float | None = None) -> int:
    """The trial worker's CPUs minus one (the training process keeps one); this process's if None."""
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(0, int(cpus or 1) - 1)


@dataclass
class PreparedBatch:
    """One rank's step, ready for the forward: p image-text pairs, q text-text pairs.

    Texts are the p image-text captions, then the q queries, then the q targets; a caption row
    that appears twice (a text-text query is often an image's caption too) is tokenised and
    encoded once: text `i` is row `text_index[i]` of `input_ids`.
    """

    batch: PairBatch
    p: int
    q: int
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    text_index: torch.Tensor
    pixels: torch.Tensor | None = None  # uint8 [p, S, S, 3], resized to the tower's input size
    features: torch.Tensor | None = None  # float32 [p, width], frozen-tower features

    def _map(self, fn) -> PreparedBatch:
        tensors = ("input_ids", "attention_mask", "text_index", "pixels", "features")
        moved = {k: fn(getattr(self, k)) for k in tensors if getattr(self, k) is not None}
        return PreparedBatch(**{**self.__dict__, **moved})

    def pin_memory(self) -> PreparedBatch:
        """Page-locked copies (the DataLoader calls this on GPU runs)."""
        return self._map(lambda t: t.pin_memory())

    def to(self, device: torch.device) -> PreparedBatch:
        """The tensors on `device` (asynchronous from pinned memory)."""
        return self._map(lambda t: t.to(device, non_blocking=True))


class BatchPreparer(Dataset):
    """Prepares a `PairBatch`: tokenised texts, and decoded pixels or cached features.

    Picklable and cheap to send: workers open the corpus from its path on first use.
    """

    def __init__(
        self,
        corpus_dir: str,
        tokenizer,
        max_length: int,
        *,
        use_it: bool,
        use_tt: bool,
        image_size: int | None = None,
        features=None,
        tokens: TokenIds | None = None,
    ) -> None:
        self.corpus_dir, self.tokenizer, self.max_length = corpus_dir, tokenizer, max_length
        self.use_it, self.use_tt = use_it, use_tt
        self.image_size, self.features, self.tokens = image_size, features, tokens

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("corpus", "_pixel_memo")}

    @cached_property
    def corpus(self):
        """The training corpus, opened in this process."""
        return open_corpus(self.corpus_dir)

    @cached_property
    def _pixel_memo(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(pixels of every item, which are decoded) for a small corpus, else None."""
        n, size = self.corpus.num_items, self.image_size
        if n * size * size * 3 > PIXEL_MEMO_BYTES:
            return None
        return np.zeros((n, size, size, 3), np.uint8), np.zeros(n, bool)

    def _tokens(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`flat_token_ids` of caption rows: from the token cache, else tokenised now."""
        if self.tokens is not None and len(rows):
            return self.tokens.take(rows)
        # A rank can hold no pair at an epoch's end: one blank text keeps its forward well-formed.
        texts = self.corpus.texts(rows) if len(rows) else [""]
        return flat_token_ids(token_ids(self.tokenizer, texts, self.max_length))

    def _pixels(self, items: np.ndarray) -> np.ndarray:
        if self._pixel_memo is None:
            return self.corpus.images(items, self.image_size)
        pixels, decoded = self._pixel_memo
        missing = np.unique(items[~decoded[items]])
        if len(missing):
            pixels[missing] = self.corpus.images(missing, self.image_size)
            decoded[missing] = True
        return pixels[items]

    def __getitem__(self, batch: PairBatch) -> PreparedBatch:
        p = len(batch.it_rows) if self.use_it else 0
        q = len(batch.tt_rows_a) if self.use_tt else 0
        rows = np.concatenate([batch.it_rows[:p], batch.tt_rows_a[:q], batch.tt_rows_b[:q]])
        unique, index = np.unique(rows, return_inverse=True)
        enc = pad_token_ids(self.tokenizer, *self._tokens(unique), torch.device("cpu"))
        index = torch.from_numpy(index.reshape(-1).astype(np.int64))
        out = PreparedBatch(batch, p, q, enc["input_ids"], enc["attention_mask"], index)
        if p and self.features is not None:
            out.features = torch.from_numpy(self.features[batch.it_items[:p]])
        elif p and self.image_size is not None:
            out.pixels = torch.from_numpy(self._pixels(np.asarray(batch.it_items[:p])))
        return out


class _SamplerBatches(Sampler):
    """The sampler's next `count` batches; the sampler state after each goes to `states`."""

    def __init__(self, sampler: PairSampler, count: int, states: deque) -> None:
        self.sampler, self.count, self.states = sampler, count, states

    def __iter__(self) -> Iterator[PairBatch]:
        for _ in range(self.count):
            batch = self.sampler.next_batch()
            self.states.append(self.sampler.state_dict())
            yield batch

    def __len__(self) -> int:
        return self.count


class BatchStream:
    """The next `count` prepared batches of a sampler, on `device`, with the time spent waiting."""

    def __init__(
        self,
        sampler: PairSampler,
        preparer: BatchPreparer,
        count: int,
        *,
        workers: int,
        device: torch.device,
    ) -> None:
        self.device = device
        self._states: deque = deque()
        self._consumed = sampler.state_dict()
        loader = DataLoader(
            preparer,
            batch_size=None,
            sampler=_SamplerBatches(sampler, count, self._states),
            num_workers=workers,
            prefetch_factor=PREFETCH_PER_WORKER if workers else None,
            pin_memory=device.type == "cuda",
            # Its own generator: the loader's seed draw must not move the global torch RNG,
            # which a resumed run restores from the checkpoint.
            generator=torch.Generator(),
        )
        self._batches = iter(loader)
        self.wait_s = 0.0  # seconds spent waiting for the last batch taken

    def next(self) -> PreparedBatch:
        """The next prepared batch on the device (blocks until a worker has it ready)."""
        start = time.perf_counter()
        batch = next(self._batches).to(self.device)
        self._consumed = self._states.popleft()
        self.wait_s = time.perf_counter() - start
        return batch

    def sampler_state(self) -> dict:
        """The sampler state after the last batch taken (what a checkpoint must hold)."""
        return self._consumed

    def close(self) -> None:
        """Stop the workers."""
        del self._batches
