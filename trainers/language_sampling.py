"""How a mono batch picks its language: uniform, proportional to coverage, or temperature sampling."""

from __future__ import annotations

import numpy as np

LANGUAGE_SAMPLING = ("uniform", "proportional", "temperature")


def language_probabilities(coverage: np.ndarray, mode: str, temperature: float = 0.3) -> np.ndarray:
    """Per-language draw probabilities from item coverage; languages no item has get 0.

    `uniform`: equal over covered languages (the spec's default); `proportional`: p ~ n;
    `temperature`: p ~ n^T (T < 1 flattens towards low-resource languages, as in XLM-R / mT5).
    """
    n = np.asarray(coverage, dtype=np.float64)
    if mode == "uniform":
        weights = (n > 0).astype(np.float64)
    elif mode == "proportional":
        weights = n
    elif mode == "temperature":
        if not temperature > 0:
            raise ValueError(f"language temperature {temperature} must be > 0")
        weights = np.where(n > 0, n**temperature, 0.0)
    else:
        raise ValueError(
            f"unknown language sampling '{mode}'; use one of {', '.join(LANGUAGE_SAMPLING)}"
        )
    total = weights.sum()
    if not total > 0:
        raise ValueError("no training language has any item: nothing to sample")
    return weights / total
