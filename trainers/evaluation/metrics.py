"""Every retrieval metric of spec section 5 from the counts of one blocked ranking pass."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from trainers.eval_defaults import EVAL_BLOCK_SIZE, EVAL_BOOTSTRAP
from trainers.evaluation.bootstrap import bootstrap_intervals
from trainers.evaluation.inputs import build_layout
from trainers.evaluation.per_query import QueryValues, concat, from_columns, from_segments
from trainers.evaluation.ranking import rank_counts
from trainers.metric_names import EN, EN_METRICS, RECALL_KS

LONG_COLUMNS = ["metric", "lang_a", "lang_b", "value"]


@dataclass(frozen=True)
class RetrievalResult:
    """Macro-averaged metrics by name, the per-language / per-pair values they average, and the
    per-query values those average (what a per-query bootstrap resamples)."""

    aggregates: dict[str, float]
    long: pd.DataFrame
    queries: dict[str, QueryValues]

    def intervals(self, resamples: int = EVAL_BOOTSTRAP, seed: int = 0) -> dict[str, float]:
        """`<metric>.lo` / `<metric>.hi`: a 95 % per-query bootstrap interval of every aggregate."""
        return bootstrap_intervals(self.queries, resamples, seed)


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
    queries = _t2t_queries(tt.segment, bounds, langs)
    queries.update(_multi_queries(tt.pool, bounds, langs, lay.text_lang))
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
        queries.update(_image_queries(t2i.segment[:, 0, 0], i2t.segment, bounds, langs))
    queries = {name: qv for name, qv in queries.items() if qv.strata}  # defined nowhere: absent
    long = _long(queries)
    return RetrievalResult(aggregates=_aggregate(long), long=long, queries=queries)


def _unit(emb: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.nn.functional.normalize(
        torch.as_tensor(np.asarray(emb, dtype=np.float32), device=device), dim=1
    )


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


def _t2t_queries(segment: np.ndarray, bounds: np.ndarray, langs: list[str]) -> dict:
    """Mono (query language = candidate language) and cross (every other) text-text values."""
    best, has = _best(segment)  # [T, L]: per query and candidate language
    values = {"r1": best < 1, "r10": best < 10, "map": average_precision(segment)}
    rows = np.arange(len(best))
    own = np.repeat(np.arange(len(langs)), np.diff(bounds))
    mono_has = has[rows, own]
    per_lang = [(lang, "") for lang in langs]
    out = {
        f"mono.t2t.{name}": from_segments(values[name][rows, own], mono_has, bounds, per_lang)
        for name in ("r1", "map")
    }
    out["mono.t2t.coverage"] = from_segments(mono_has, np.ones_like(mono_has), bounds, per_lang)
    cross_has = has.copy()
    cross_has[rows, own] = False
    for name in ("r1", "r10", "map"):
        out[f"cross.t2t.{name}"] = concat(
            [
                from_columns(values[name][lo:hi], cross_has[lo:hi], [(lang_a, b) for b in langs])
                for lang_a, lo, hi in zip(langs, bounds[:-1], bounds[1:], strict=True)
            ]
        )
    return out


def _multi_queries(
    pool: np.ndarray, bounds: np.ndarray, langs: list[str], text_lang: np.ndarray
) -> dict:
    """Multilingual AP and rank distance per text query."""
    flat = pool.reshape(len(pool), -1)
    first = pool[:, :, 0].copy()
    first[np.arange(len(pool)), text_lang] = -1  # other languages only
    present = first >= 0
    big = np.iinfo(np.int64).max
    spread = np.where(present, first, -1).max(1) - np.where(present, first, big).min(1)
    per_lang = [(lang, "") for lang in langs]
    return {
        "multi.t2t.map": from_segments(average_precision(flat), flat.max(1) >= 0, bounds, per_lang),
        "multi.rank_distance": from_segments(
            spread.astype(np.float64), present.sum(1) >= 2, bounds, per_lang
        ),
    }


def _image_queries(t2i: np.ndarray, i2t: np.ndarray, bounds: np.ndarray, langs: list[str]) -> dict:
    """Text-to-image hits per caption, image-to-text hits per (image, caption language)."""
    best, has = _best(i2t)  # [I, L]
    per_lang = [(lang, "") for lang in langs]
    out = {}
    for k in RECALL_KS:
        out[f"mono.t2i.r{k}"] = from_segments(t2i < k, t2i >= 0, bounds, per_lang)
        out[f"mono.i2t.r{k}"] = from_columns(best < k, has, per_lang)
    return out


def _long(queries: dict[str, QueryValues]) -> pd.DataFrame:
    rows = [
        (name, lang_a, lang_b, float(mean))
        for name, qv in queries.items()
        for (lang_a, lang_b), mean in zip(qv.strata, qv.means(), strict=True)
    ]
    return pd.DataFrame(rows, columns=LONG_COLUMNS)


def _aggregate(long: pd.DataFrame) -> dict[str, float]:
    means = long.groupby("metric", sort=False)["value"].mean()
    out = {name: float(value) for name, value in means.items()}
    en = long[(long["lang_a"] == EN) & (long["lang_b"] == "")].set_index("metric")["value"]
    for name in EN_METRICS:
        if name in en.index:
            out[name.replace("mono.", "en.", 1)] = float(en[name])
    return out
