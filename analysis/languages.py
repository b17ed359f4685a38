"""Per-language and per-pair values of a group of trials, and the order languages are shown in."""

from __future__ import annotations

import pandas as pd

RESOURCE_ORDER = ("high", "mid", "low")
UNKNOWN = "unknown"


def resources(langs: list[str], languages: pd.DataFrame | None) -> dict[str, str]:
    """Resource level of each language (`unknown` where languages.csv is absent or silent)."""
    table = (
        {}
        if languages is None
        else dict(zip(languages["lang"], languages["resource"], strict=True))
    )
    return {lang: table.get(lang, UNKNOWN) for lang in langs}


def language_order(langs: list[str], languages: pd.DataFrame | None) -> list[str]:
    """Languages grouped by resource level (high, mid, low, then others), by code within a level."""
    level = resources(langs, languages)
    rank = {r: i for i, r in enumerate(RESOURCE_ORDER)}
    return sorted(set(langs), key=lambda lang: (rank.get(level[lang], len(rank)), lang))


def rows_of(per_language: pd.DataFrame, metric: str, trial_ids: list[str]) -> pd.DataFrame:
    """Finite long rows of `metric` for the given trials."""
    rows = per_language[
        (per_language["metric"] == metric) & per_language["trial_id"].isin(trial_ids)
    ]
    return rows[pd.to_numeric(rows["value"], errors="coerce").notna()]


def by_language(per_language: pd.DataFrame, metric: str, trial_ids: list[str]) -> pd.Series:
    """Seed-mean value per language; pair metrics are averaged over targets (the query language's view)."""
    rows = rows_of(per_language, metric, trial_ids)
    per_trial = rows.groupby(["trial_id", "lang_a"])["value"].mean()
    return per_trial.groupby("lang_a").mean()


def pair_matrix(
    per_language: pd.DataFrame, metric: str, trial_ids: list[str], order: list[str]
) -> pd.DataFrame:
    """Seed-mean value of a pair metric as a query-language (rows) by target-language (columns) matrix."""
    rows = rows_of(per_language, metric, trial_ids)
    rows = rows[rows["lang_b"].astype(str) != ""]
    matrix = rows.groupby(["lang_a", "lang_b"])["value"].mean().unstack("lang_b")
    return matrix.reindex(index=order, columns=order)
