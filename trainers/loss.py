"""Symmetric InfoNCE over the global batch (open_clip's gather-with-grad + local-loss), and the
logit-scale clamp.

Scaling contract (why the per-rank value is not the global loss): with world size W and N pairs
over all ranks, rank r returns `W / (2N) * sum of its local queries' cross-entropies` (both
directions). Gradients flow through the all-gather, whose backward sums over ranks, so rank r's
feature gradients are those of `sum_r loss_r = W * L_global`; DDP then averages parameter
gradients over the W ranks, which yields exactly the gradient of `L_global`, the mean over all
global pairs, even when ranks hold different numbers of pairs. With equal counts the value is the
local mean, as in open_clip. To log the global loss, all-reduce the values and divide by W.
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn


def _world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def _connected_zero(a: Tensor, b: Tensor, scale: Tensor) -> Tensor:
    """A zero that depends on every input, so backward (and DDP's hooks) still run."""
    return (a.sum() + b.sum() + scale) * 0.0


def _directional_ce(
    queries: Tensor, candidates: Tensor, scale: Tensor, targets: Tensor, valid: Tensor | None
) -> Tensor:
    """Summed cross-entropy of each query against all candidates (invalid candidates masked)."""
    logits = (scale * queries @ candidates.T).float()
    if valid is not None:
        logits = logits.masked_fill(~valid, float("-inf"))
    return F.cross_entropy(logits, targets, reduction="sum")


def contrastive_loss(a: Tensor, b: Tensor, logit_scale: Tensor, *, gather: bool = True) -> Tensor:
    """Symmetric InfoNCE between a[i] and b[i], negatives from the global batch (see module doc).

    `logit_scale` is the multiplier (`log_scale.exp()`), as in open_clip's ClipLoss. A rank with
    no pairs still joins the collectives; a global batch with no pairs gives a zero loss that is
    still connected to the inputs, so every rank runs the same backward.
    """
    a, b = F.normalize(a, dim=-1), F.normalize(b, dim=-1)
    world = _world_size() if gather else 1
    n = a.shape[0]
    if world == 1:
        if n == 0:
            return _connected_zero(a, b, logit_scale)
        targets = torch.arange(n, device=a.device)
        both = _directional_ce(a, b, logit_scale, targets, None) + _directional_ce(
            b, a, logit_scale, targets, None
        )
        return both / (2 * n)
    from torch.distributed.nn.functional import all_gather

    counts = [torch.zeros(1, dtype=torch.int64, device=a.device) for _ in range(world)]
    dist.all_gather(counts, torch.tensor([n], dtype=torch.int64, device=a.device))
    sizes = torch.cat(counts)
    total, most = int(sizes.sum()), int(sizes.max())
    if total == 0:
        return _connected_zero(a, b, logit_scale)
    # One gather for both sides; rows are padded to the largest rank and masked as candidates.
    local = F.pad(torch.cat([a, b], dim=1), (0, 0, 0, most - n))
    with warnings.catch_warnings():
        # Deprecated in favour of a private API (_functional_collectives); still the public one.
        warnings.filterwarnings("ignore", "torch.distributed.nn.functional", FutureWarning)
        gathered = torch.cat(all_gather(local), dim=0)
    a_all, b_all = gathered.split(a.shape[1], dim=1)
    valid = (torch.arange(most, device=a.device) < sizes[:, None]).flatten()
    targets = dist.get_rank() * most + torch.arange(n, device=a.device)
    both = _directional_ce(a, b_all, logit_scale, targets, valid) + _directional_ce(
        b, a_all, logit_scale, targets, valid
    )
    return both * (world / (2 * total))


def clamp_logit_scale(log_scale: nn.Parameter, max_scale: float = 100.0) -> None:
    """Keep the learnable log logit scale in [0, log(max_scale)] (call after each optimiser step)."""
    with torch.no_grad():
        log_scale.clamp_(0.0, math.log(max_scale))
