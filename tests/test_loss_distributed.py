"""Contrastive loss: two gloo processes under DDP match the single-process loss on the whole batch."""

from __future__ import annotations

import math
import socket
from datetime import timedelta
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from trainers.loss import clamp_logit_scale, contrastive_loss

DIM = 8
# Pairs per rank: unequal, one rank without pairs, equal, none at all.
CASES = [(5, 3), (0, 6), (4, 4), (0, 0)]


class Encoder(nn.Module):
    """A projection and a learnable log logit scale, replicated on every rank (as a dual encoder)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.proj = nn.Linear(DIM, DIM, bias=False)
        self.log_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.proj(x), self.log_scale.exp()


def case_inputs(counts: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """The global batch of a case: two views (a, b) of sum(counts) pairs, b correlated with a."""
    gen = torch.Generator().manual_seed(sum(counts) * 31 + counts[0])
    a = torch.randn(sum(counts), DIM, generator=gen)
    return a, a + 0.5 * torch.randn(sum(counts), DIM, generator=gen)


def single_process(counts: tuple[int, int]) -> dict[str, torch.Tensor]:
    """Loss and gradients of the whole batch in one process."""
    model = Encoder()
    a, b = (x.requires_grad_() for x in case_inputs(counts))
    feats, scale = model(torch.cat([a, b]))
    loss = contrastive_loss(feats[: len(a)], feats[len(a) :], scale)
    loss.backward()
    return {
        "loss": loss.detach(),
        "a": a.grad,
        "b": b.grad,
        "proj": model.proj.weight.grad,
        "scale": model.log_scale.grad,
    }


def _worker(rank: int, port: int, out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=2,
        timeout=timedelta(seconds=60),
    )
    results = []
    for counts in CASES:
        model = nn.parallel.DistributedDataParallel(Encoder())
        lo = sum(counts[:rank])
        a, b = (x[lo : lo + counts[rank]].clone().requires_grad_() for x in case_inputs(counts))
        feats, scale = model(torch.cat([a, b]))
        loss = contrastive_loss(feats[: len(a)], feats[len(a) :], scale)
        loss.backward()  # DDP averages the parameter gradients over both ranks here
        results.append(
            {
                "loss": loss.detach(),
                "a": a.grad,
                "b": b.grad,
                "proj": model.module.proj.weight.grad,
                "scale": model.module.log_scale.grad,
            }
        )
    torch.save(results, Path(out) / f"rank{rank}.pt")
    dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(180)
def test_two_gloo_ranks_match_the_single_process_loss_and_gradients(tmp_path: Path) -> None:
    mp.spawn(_worker, args=(_free_port(), str(tmp_path)), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    for i, counts in enumerate(CASES):
        want = single_process(counts)
        got = [ranks[r][i] for r in range(2)]
        # The global loss is the mean of the per-rank values (module docstring of trainers.loss).
        torch.testing.assert_close((got[0]["loss"] + got[1]["loss"]) / 2, want["loss"])
        for r in range(2):
            # DDP-averaged parameter gradients are exactly the whole-batch gradients.
            torch.testing.assert_close(got[r]["proj"], want["proj"])
            torch.testing.assert_close(got[r]["scale"], want["scale"])
            # Feature gradients carry the factor W that DDP's averaging later divides out.
            lo = sum(counts[:r])
            for key in ("a", "b"):
                torch.testing.assert_close(got[r][key] / 2, want[key][lo : lo + counts[r]])
    assert want["loss"] == 0 and ranks[0][1]["loss"] == 0  # no pairs anywhere / on rank 0


def test_single_process_loss_is_symmetric_infonce_and_scale_is_clamped() -> None:
    a, b = torch.randn(6, DIM), torch.randn(6, DIM)
    scale = torch.tensor(10.0)
    an, bn = nn.functional.normalize(a, dim=-1), nn.functional.normalize(b, dim=-1)
    logits = scale * an @ bn.T
    labels = torch.arange(6)
    expected = (
        nn.functional.cross_entropy(logits, labels) + nn.functional.cross_entropy(logits.T, labels)
    ) / 2
    torch.testing.assert_close(contrastive_loss(a, b, scale), expected)
    assert contrastive_loss(a, a.clone(), torch.tensor(100.0)) < 1e-3  # aligned pairs cost ~nothing
    log_scale = nn.Parameter(torch.tensor(7.0))
    clamp_logit_scale(log_scale)
    assert log_scale.item() == pytest.approx(math.log(100.0))
    log_scale.data.fill_(-1.0)
    clamp_logit_scale(log_scale, max_scale=50.0)
    assert log_scale.item() == 0.0
