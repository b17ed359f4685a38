"""Training length from the budget, and the learning-rate schedule (linear warm-up, cosine decay)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

from trainers.config import BudgetConfig


class StepSchedule(Protocol):
    """What a budget needs of a sampler (`trainers.sampler.PairSampler`)."""

    steps_per_epoch: int

    def steps_for_samples(self, samples: int) -> int:
        """Global steps until `samples` pairs are drawn."""


def total_steps(budget: BudgetConfig, sampler: StepSchedule) -> int:
    """Optimiser steps for a budget: epochs x steps per epoch, the steps that draw the samples
    (every epoch's short last batch counted, so each N sees the same samples within a batch),
    or steps."""
    if budget.steps is not None:
        return budget.steps
    if budget.samples is not None:
        return sampler.steps_for_samples(budget.samples)
    return max(1, math.ceil(budget.epochs * sampler.steps_per_epoch))


def warmup_cosine(total: int, warmup_fraction: float) -> Callable[[int], float]:
    """LR multiplier for LambdaLR: linear from 1/warmup to 1 over warm-up, then cosine to 0."""
    warmup = round(total * warmup_fraction)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))

    return factor
