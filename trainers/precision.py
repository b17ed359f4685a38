"""The one precision policy of training, evaluation and `Encoder`: `train.precision` to autocast.

`auto` is bf16 autocast on CUDA and fp32 elsewhere (a CPU has no bf16 speed-up to gain);
`bf16` is bf16 autocast on any device (CPU autocast included); `fp32` never autocasts.
Exports record the policy they were trained with (model.json), so a loaded model encodes
queries in the precision its indexed embeddings and metrics were computed in.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import get_args

import torch

from trainers.config import TrainConfig

PRECISIONS = get_args(TrainConfig.model_fields["precision"].annotation)


def compute_dtype(precision: str, device: torch.device) -> torch.dtype:
    """The dtype matrix products run in under `precision` on `device`."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision '{precision}': use one of {', '.join(PRECISIONS)}")
    if precision == "bf16" or (precision == "auto" and device.type == "cuda"):
        return torch.bfloat16
    return torch.float32


def autocast(precision: str, device: torch.device) -> AbstractContextManager:
    """The autocast context for `precision` on `device` (a no-op for fp32)."""
    dtype = compute_dtype(precision, device)
    if dtype == torch.float32:
        return nullcontext()
    return torch.autocast(device.type, dtype=dtype)
