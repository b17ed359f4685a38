"""Batch preparation: each caption row tokenised once, from the token cache or not, the same
tensors either way; decoded pixels as the corpus stores them; padding on the tokenizer's side."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trainers import token_cache
from trainers.input_pipeline import BatchPreparer
from trainers.run_setup import setup_run
from trainers.token_cache import ensure_token_ids
from trainers.tokenizer import pad_token_ids, token_ids, tokenize

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def hybrid_run(tiny_job):
    """A fresh hybrid run (alpha 0.5, unfrozen image tower) on the embedded corpus."""
    job = tiny_job(budget={"steps": 4}, frozen=False, alpha=0.5)
    return job, setup_run(job, rank=0, world_size=1, device=CPU, resume_dir=None)


def _preparer(job, run, tokens) -> BatchPreparer:
    return BatchPreparer(
        job.train_corpus,
        run.tokenizer,
        run.model.config.max_text_length,
        use_it=True,
        use_tt=True,
        image_size=run.model.image_tower.image_size,
        tokens=tokens,
    )


def test_batches_encode_each_caption_row_once_with_or_without_the_token_cache(hybrid_run):
    job, run = hybrid_run
    assert run.train_tokens is not None  # a small corpus: its token ids are cached
    cached, uncached = _preparer(job, run, run.train_tokens), _preparer(job, run, None)
    corpus, size = run.train_corpus, run.model.image_tower.image_size
    shared = 0
    for _ in range(3):
        batch = run.sampler.next_batch()
        a, b = cached[batch], uncached[batch]
        for name in ("input_ids", "attention_mask", "text_index", "pixels"):
            assert torch.equal(getattr(a, name), getattr(b, name)), name
        rows = np.concatenate([batch.it_rows, batch.tt_rows_a, batch.tt_rows_b])
        assert (a.p, a.q) == (len(batch.it_rows), len(batch.tt_rows_a))
        assert len(a.input_ids) == len(np.unique(rows)) <= len(rows)
        shared += len(rows) - len(a.input_ids)
        # Text i of the batch is row text_index[i]: the caption of sampler row i, as tokenised.
        want = tokenize(run.tokenizer, corpus.texts(rows), job.model.max_text_length, CPU)
        got_ids, got_mask = a.input_ids[a.text_index], a.attention_mask[a.text_index]
        for i in range(len(rows)):
            n = int(want["attention_mask"][i].sum())
            assert int(got_mask[i].sum()) == n
            assert torch.equal(got_ids[i, :n], want["input_ids"][i, :n])
        items = np.asarray(batch.it_items)
        assert np.array_equal(a.pixels.numpy(), corpus.images(items, size))
        assert np.array_equal(cached[batch].pixels.numpy(), a.pixels.numpy())  # from the memo
    assert shared > 0  # hybrid batches do repeat caption rows


def test_token_cache_is_built_once_and_reads_back_any_rows(hybrid_run, monkeypatch, tmp_path):
    job, run = hybrid_run
    corpus, tok, length = run.train_corpus, run.tokenizer, job.model.max_text_length
    first = ensure_token_ids(tok, corpus, length, tmp_path)
    stamp = (first.path / "ids.npy").stat().st_mtime_ns
    again = ensure_token_ids(tok, corpus, length, tmp_path)
    assert again.path == first.path and (again.path / "ids.npy").stat().st_mtime_ns == stamp
    assert ensure_token_ids(tok, corpus, 8, tmp_path).path != first.path  # length is in the key

    rows = np.random.default_rng(0).integers(0, corpus.captions.num_rows, 40)
    flat, lengths = first.take(rows)
    expected = token_ids(tok, corpus.texts(rows), length)
    assert lengths.tolist() == [len(x) for x in expected]
    assert flat.tolist() == [t for x in expected for t in x]

    monkeypatch.setattr(token_cache, "TOKEN_CACHE_ROWS", corpus.captions.num_rows - 1)
    assert ensure_token_ids(tok, corpus, length, tmp_path / "big") is None


@pytest.mark.parametrize("side", ["right", "left"])
def test_padding_matches_the_tokenizers_own_on_either_side(hybrid_run, side):
    _, run = hybrid_run
    tok = run.tokenizer
    texts = run.train_corpus.texts(np.arange(7))
    tok.padding_side = side
    try:
        ours = tokenize(tok, texts, 12, CPU)
        theirs = tok(texts, padding=True, truncation=True, max_length=12, return_tensors="pt")
    finally:
        tok.padding_side = "right"
    assert torch.equal(ours["input_ids"], theirs["input_ids"])
    assert torch.equal(ours["attention_mask"], theirs["attention_mask"])
    empty = pad_token_ids(tok, np.zeros(0, np.int64), np.zeros(0, np.int64), CPU)
    assert empty["input_ids"].shape == (0, 0)
