"""Every retrieval metric of spec section 5 from the counts of one blocked ranking pass."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from trainers.config import EVAL_BLOCK_SIZE
from trainers.evaluation.inputs import build_layout
from trainers.evaluation.ranking import rank_counts

RECALL_KS = (1, 5, 10)
LONG_COLUMNS = ["metric", "lang_a", "lang_b", "value"]
EN = "en"
# English-only figures: the per-language value of these metrics for `en`.
EN_METRICS = tuple(f"mono.{d}.r{k}" for d in ("t2i", "i2t") for k in RECALL_KS) + (
    "mono.t2t.r1",
    "mono.t2t.map",
)


@dataclass(frozen=True)
class RetrievalResult:
    """Macro-averaged metrics by name, and the per-language / per-pair values they average."""

    aggregates: dict[str, float]
    long: pd.DataFrame


def evaluate_embeddings(
    text_emb: np.ndarray,
    text_item: np.ndarray,
    text_lang: np.ndarray,
    text_idx: np.ndarray,
    image_emb: np.ndarray | None = None,
    image_item: np.ndarray | None = None,
    *,
    protocol: str = "all",
    block_size: int = EVAL_BLOCK_SIZE,
    device: str | torch.device | None = None,
) -> RetrievalResult:
    """All metrics of spec section 5 (cosine similarity) from one blocked pass per score matrix."""
    lay = build_layout(text_emb, text_item, text_lang, text_idx, image_emb, image_item, protocol)
    device = torch.device(device or "cpu")
    text = _unit(lay.text_emb, device)
    langs, bounds = lay.languages, lay.bounds
    tt = rank_counts(
        text,
        text,
        bounds,
        lay.text_item,
        lay.cols,
        block_size=block_size,
        self_pos=np.arange(len(text)),
    )
    rows: list[tuple[str, str, str, float]] = []
    rows += _t2t_rows(tt.segment, bounds, langs)
    rows += _multi_rows(tt.pool, bounds, langs, lay.text_lang)
    if lay.image_emb is not None:
        image = _unit(lay.image_emb, device)
        t2i = rank_counts(
            text,
            image,
            np.array([0, len(image)]),
            lay.text_item,
            lay.image_of_item[:, None, None],
            block_size=block_size,
        )
        i2t = rank_counts(
            image,
            text,
            bounds,
            lay.image_item,
            lay.cols,
            block_size=block_size,
        )
        rows += _image_rows(t2i.segment[:, 0, 0], i2t.segment, bounds, langs)
    long = pd.DataFrame(rows, columns=LONG_COLUMNS)
    return RetrievalResult(aggregates=_aggregate(long), long=long)


def _unit(emb: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.nn.functional.normalize(
        torch.as_tensor(np.asarray(emb, dtype=np.float32), device=device), dim=1
    )


def _segment_mean(values: np.ndarray, defined: np.ndarray, bounds: np.ndarray):
    """Per segment of rows (axis 0): mean of `values` where `defined`, and the defined count."""
    sums = np.add.reduceat(np.where(defined, values, 0.0), bounds[:-1], axis=0)
    counts = np.add.reduceat(defined.astype(np.int64), bounds[:-1], axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts, counts


def _best(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Along the last axis: the best relevant's count (rank - 1) and whether any relevant exists."""
    has = (counts >= 0).any(-1)
    best = np.where(counts >= 0, counts, np.iinfo(np.int64).max).min(-1)
    return best, has


def average_precision(counts: np.ndarray) -> np.ndarray:
    """AP along the last axis from each relevant's count of non-relevants above it (-1: none).

    The j-th best relevant (1-based) sits at rank j + count, so its precision is j / (j + count).
    """
    has = counts >= 0
    ordered = np.sort(np.where(has, counts, np.iinfo(np.int64).max), axis=-1)
    j = np.arange(1, counts.shape[-1] + 1)
    precision = np.where(np.sort(~has, axis=-1), 0.0, j / (j + ordered.astype(np.float64)))
    with np.errstate(invalid="ignore", divide="ignore"):
        return precision.sum(-1) / has.sum(-1)


def _t2t_rows(segment: np.ndarray, bounds: np.ndarray, langs: list[str]) -> list:
    best, has = _best(segment)
    ap = average_precision(segment)
    rows = []
    values = {"r1": best < 1, "r10": best < 10, "map": ap}
    means = {name: _segment_mean(v, has, bounds)[0] for name, v in values.items()}
    counts = _segment_mean(has, has, bounds)[1]
    for a, lang_a in enumerate(langs):
        coverage = counts[a, a] / (bounds[a + 1] - bounds[a])
        rows.append(("mono.t2t.coverage", lang_a, "", float(coverage)))
        for b, lang_b in enumerate(langs):
            if not counts[a, b]:
                continue
            names = ("r1", "map") if a == b else ("r1", "r10", "map")
            family = "mono" if a == b else "cross"
            for name in names:
                rows.append(
                    (
                        f"{family}.t2t.{name}",
                        lang_a,
                        "" if a == b else lang_b,
                        float(means[name][a, b]),
                    )
                )
    return rows


def _multi_rows(pool: np.ndarray, bounds: np.ndarray, langs: list[str], text_lang: np.ndarray):
    flat = pool.reshape(len(pool), -1)
    ap = average_precision(flat)
    first = pool[:, :, 0].copy()
    first[np.arange(len(pool)), text_lang] = -1  # other languages only
    present = first >= 0
    big = np.iinfo(np.int64).max
    spread = np.where(present, first, -1).max(1) - np.where(present, first, big).min(1)
    rank_ok = present.sum(1) >= 2
    ap_mean, ap_n = _segment_mean(ap, flat.max(1) >= 0, bounds)
    rd_mean, rd_n = _segment_mean(spread.astype(np.float64), rank_ok, bounds)
    rows = []
    for a, lang in enumerate(langs):
        if ap_n[a]:
            rows.append(("multi.t2t.map", lang, "", float(ap_mean[a])))
        if rd_n[a]:
            rows.append(("multi.rank_distance", lang, "", float(rd_mean[a])))
    return rows


def _image_rows(t2i: np.ndarray, i2t: np.ndarray, bounds: np.ndarray, langs: list[str]) -> list:
    rows = []
    best, has = _best(i2t)  # [I, L]
    for k in RECALL_KS:
        t2i_mean, _ = _segment_mean(t2i < k, t2i >= 0, bounds)
        hit = np.where(has, best < k, False).sum(0)
        for a, lang in enumerate(langs):
            rows.append((f"mono.t2i.r{k}", lang, "", float(t2i_mean[a])))
            if has[:, a].any():
                rows.append((f"mono.i2t.r{k}", lang, "", float(hit[a] / has[:, a].sum())))
    return rows


def _aggregate(long: pd.DataFrame) -> dict[str, float]:
    means = long.groupby("metric", sort=False)["value"].mean()
    out = {name: float(value) for name, value in means.items()}
    en = long[(long["lang_a"] == EN) & (long["lang_b"] == "")].set_index("metric")["value"]
    for name in EN_METRICS:
        if name in en.index:
            out[name.replace("mono.", "en.", 1)] = float(en[name])
    return out
