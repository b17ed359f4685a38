"""Encode a corpus's captions and images once, into the arrays of the embeddings npz contract."""

from __future__ import annotations

import numpy as np
import torch

from trainers.precision import autocast
from trainers.tokenizer import tokenize


def _batches(values: np.ndarray, size: int):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def encode_corpus(
    model,
    tokenizer,
    corpus,
    *,
    features: np.ndarray | None = None,
    items: np.ndarray | None = None,
    batch_size: int = 256,
    device: str | torch.device = "cpu",
    precision: str = "auto",
) -> dict[str, np.ndarray]:
    """text_emb, text_item, text_lang, text_idx (+ image_emb, image_item) for `items` (all if None).

    `model` is a DualEncoder; images come from frozen-tower `features` (row = item) when given,
    else through the image tower. Image keys are absent for text-only corpora or models.
    `precision` is the policy of `trainers.precision` (the run's `train.precision`).
    """
    device = torch.device(device)
    index = corpus.caption_index()
    items = np.arange(index.num_items) if items is None else np.asarray(items, dtype=np.int64)
    rows = np.flatnonzero(np.isin(index.item, items))
    item_ids = np.asarray(corpus.item_ids).astype(str)
    max_length = model.config.max_text_length
    was_training = model.training
    model.eval()
    with torch.inference_mode(), autocast(precision, device):
        text = [
            model.encode_text(**tokenize(tokenizer, corpus.texts(chunk), max_length, device))
            for chunk in _batches(rows, batch_size)
        ]
        out = {
            "text_emb": torch.cat(text).float().cpu().numpy(),
            "text_item": item_ids[index.item[rows]],
            "text_lang": np.asarray(index.languages)[index.lang[rows]],
            "text_idx": index.idx[rows].astype(np.int32),
        }
        if model.image_tower is not None and corpus.has_images:
            images = []
            for chunk in _batches(items, batch_size):
                if features is not None:
                    emb = model.encode_image_features(torch.from_numpy(features[chunk]).to(device))
                else:
                    emb = model.encode_image(model.image_tower.corpus_pixels(corpus, chunk))
                images.append(emb)
            out["image_emb"] = torch.cat(images).float().cpu().numpy()
            out["image_item"] = item_ids[items]
    model.train(was_training)
    return out
