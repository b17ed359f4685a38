"""A slow, obviously correct reference of the retrieval metrics: each query's pool fully sorted
(non-relevant candidates first among equal scores, as docs/metrics.md defines ranks)."""

from __future__ import annotations

import itertools

import numpy as np

# Unit vectors with dyadic entries (two groups of four integers whose squares sum to 16**2, over
# 16): every cosine is an exact float32, so ties are exact and both sides see the same scores.
_QUADS = np.array(list(itertools.product(range(-16, 17), repeat=4)))
_QUAD_NORMS = (_QUADS**2).sum(1)


def dyadic_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    """n random 8-d unit vectors whose cosines are multiples of 1/256."""
    first = rng.integers(0, 257, size=n)
    out = np.empty((n, 8))
    for row, norm in enumerate(first):
        for half, target in enumerate((norm, 256 - norm)):
            pool = np.flatnonzero(target == _QUAD_NORMS)
            out[row, 4 * half : 4 * half + 4] = _QUADS[rng.choice(pool)]
    return (out / 16).astype(np.float32)


def make_case(seed: int, items: int, langs: list[str], caps, copy_share: float, images: bool):
    """Random captions; a share copy their item's vector (relevant ties), some items miss languages."""
    rng = np.random.default_rng(seed)
    base = dyadic_vectors(rng, items)
    rows = []
    for i in range(items):
        for lang in langs:
            n = int(rng.choice(caps))
            rows += [
                (i, lang, k) for k in rng.permutation(4)[:n]
            ]  # caption idx need not start at 0
    item = np.array([r[0] for r in rows])
    emb = dyadic_vectors(rng, len(rows))
    copies = rng.random(len(rows)) < copy_share
    emb[copies] = base[item[copies]]
    arrays = {
        "text_emb": emb,
        "text_item": np.array([f"item{i:03d}" for i in item]),
        "text_lang": np.array([r[1] for r in rows]),
        "text_idx": np.array([r[2] for r in rows], dtype=np.int32),
    }
    if images:
        perm = rng.permutation(items + 2)  # two distractor images without captions
        img = dyadic_vectors(rng, items + 2)
        copied = np.flatnonzero(rng.random(items) < copy_share)
        img[copied] = base[copied]
        arrays["image_emb"] = img[perm]
        arrays["image_item"] = np.array([f"item{i:03d}" for i in range(items + 2)])[perm]
    return arrays


def ranked_relevance(scores: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """Relevance flags in rank order: full sort by score, non-relevant first among equal scores."""
    return relevant[np.lexsort((relevant, -scores))]


def recall_hit(flags: np.ndarray, k: int) -> bool:
    return bool(flags[:k].any())


def average_precision(flags: np.ndarray) -> float:
    positions = np.flatnonzero(flags) + 1
    return float(np.mean(np.arange(1, len(positions) + 1) / positions))


def brute_force_queries(arrays: dict, protocol: str) -> dict[tuple[str, str, str], list[float]]:
    """Every metric's value for each query where it is defined, by its textbook definition (a
    full sort of the query's pool), keyed by (metric, lang_a, lang_b)."""
    emb, item, lang, idx = (arrays[k] for k in ("text_emb", "text_item", "text_lang", "text_idx"))
    if protocol == "first":
        keep = [
            t
            for t in range(len(item))
            if idx[t] == idx[(item == item[t]) & (lang == lang[t])].min()
        ]
        emb, item, lang, idx = emb[keep], item[keep], lang[keep], idx[keep]
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    scores = unit @ unit.T
    langs = sorted(set(lang))
    per: dict[tuple[str, str, str], list[float]] = {}

    def add(metric, a, b, value):
        per.setdefault((metric, a, b), []).append(value)

    for q in range(len(item)):
        others = np.arange(len(item)) != q
        for b in langs:
            pool = others & (lang == b)
            relevant = item[pool] == item[q]
            if not relevant.any():
                continue
            flags = ranked_relevance(scores[q, pool], relevant)
            fam, lb = ("mono", "") if b == lang[q] else ("cross", b)
            add(f"{fam}.t2t.r1", lang[q], lb, recall_hit(flags, 1))
            if fam == "cross":
                add("cross.t2t.r10", lang[q], lb, recall_hit(flags, 10))
            add(f"{fam}.t2t.map", lang[q], lb, average_precision(flags))
        own = (lang == lang[q]) & (item == item[q]) & others
        add("mono.t2t.coverage", lang[q], "", float(own.any()))
        relevant = item[others] == item[q]
        if relevant.any():
            add(
                "multi.t2t.map",
                lang[q],
                "",
                average_precision(ranked_relevance(scores[q, others], relevant)),
            )
        ranks = []
        for b in langs:
            mine = np.flatnonzero((item == item[q]) & (lang == b))
            if b == lang[q] or not len(mine):
                continue
            first = mine[np.argmin(idx[mine])]
            pool = others & ((item != item[q]) | (np.arange(len(item)) == first))
            flags = ranked_relevance(scores[q, pool], np.flatnonzero(pool) == first)
            ranks.append(int(np.argmax(flags)) + 1)
        if len(ranks) >= 2:
            add("multi.rank_distance", lang[q], "", float(max(ranks) - min(ranks)))
    if "image_emb" in arrays:
        img = arrays["image_emb"] / np.linalg.norm(arrays["image_emb"], axis=1, keepdims=True)
        img_item = arrays["image_item"]
        ti = unit @ img.T
        for q in range(len(item)):
            flags = ranked_relevance(ti[q], img_item == item[q])
            for k in (1, 5, 10):
                add(f"mono.t2i.r{k}", lang[q], "", recall_hit(flags, k))
        for i, b in itertools.product(range(len(img_item)), langs):
            pool = lang == b
            relevant = item[pool] == img_item[i]
            if relevant.any():
                flags = ranked_relevance(ti[pool, i], relevant)
                for k in (1, 5, 10):
                    add(f"mono.i2t.r{k}", b, "", recall_hit(flags, k))
    return per


def brute_force(arrays: dict, protocol: str) -> dict[tuple[str, str, str], float]:
    """Every per-language (per-pair) metric value: the mean over its queries."""
    return {
        key: float(np.mean(values)) for key, values in brute_force_queries(arrays, protocol).items()
    }
