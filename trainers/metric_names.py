"""The metric names of spec section 5 (part of the interface): the one list every command checks
names against. Light on imports, so config validation and the CLI can use it without torch."""

from __future__ import annotations

import difflib

from trainers.corpus import is_known_language
from trainers.errors import InputError

# Per-language and per-pair values of an evaluation: a trial's file, also `study eval --out`'s.
PER_LANGUAGE_FILE = "per_language.csv"
RECALL_KS = (1, 5, 10)
EN = "en"
# Per-language figures: the value of these `mono.*` metrics for one language (`en.t2i.r1`, ...).
EN_METRICS = tuple(f"mono.{d}.r{k}" for d in ("t2i", "i2t") for k in RECALL_KS) + (
    "mono.t2t.r1",
    "mono.t2t.map",
)
AGGREGATE_METRICS = (
    *(f"mono.{d}.r{k}" for d in ("t2i", "i2t") for k in RECALL_KS),
    "mono.t2t.r1",
    "mono.t2t.map",
    "mono.t2t.coverage",
    "cross.t2t.r1",
    "cross.t2t.r10",
    "cross.t2t.map",
    "multi.t2t.map",
    "multi.rank_distance",
    *(name.replace("mono.", f"{EN}.", 1) for name in EN_METRICS),
)
# A trial's final report carries `<metric>.lo` and `<metric>.hi`: its 95 % bootstrap interval.
INTERVAL_SUFFIXES = ("lo", "hi")


def language_metric(metric: str, lang: str) -> str:
    """The per-language name of a `mono.*` metric: ('mono.t2i.r1', 'de') -> 'de.t2i.r1'."""
    return metric.replace("mono.", f"{lang}.", 1)


def _base(name: str) -> tuple[str, str]:
    """(metric, '.lo' or '.hi' or '') of a name."""
    head, _, tail = name.rpartition(".")
    return (head, f".{tail}") if tail in INTERVAL_SUFFIXES and head else (name, "")


def _is_language_metric(name: str) -> bool:
    lang, _, rest = name.partition(".")
    return is_known_language(lang) and f"mono.{rest}" in EN_METRICS


def is_metric_name(name: str) -> bool:
    """Whether `name` is an aggregate metric, a per-language one (`de.t2i.r1`) or either's
    interval end (`mono.t2i.r1.lo`)."""
    base, _ = _base(name)
    return base in AGGREGATE_METRICS or _is_language_metric(base)


def check_metric_name(name: str) -> str:
    """`name` if it is a metric name, else an InputError with the closest names."""
    if is_metric_name(name):
        return name
    base, suffix = _base(name)
    lang = base.partition(".")[0]
    known = list(AGGREGATE_METRICS)
    if is_known_language(lang):
        known += [language_metric(m, lang) for m in EN_METRICS]
    close = difflib.get_close_matches(base, known, n=1, cutoff=0.6)
    hint = (
        f"did you mean '{close[0]}{suffix}'?"
        if close
        else f"known: {', '.join(AGGREGATE_METRICS[:6])}, ... (see docs/metrics.md)"
    )
    raise InputError(f"unknown metric '{name}'; {hint}")
