"""Training checkpoints: everything a run needs to continue exactly where it stopped.

Layout of a checkpoint dir:
- `state.pt`: trainable model weights, optimiser, scheduler, step, samples seen, seconds spent,
  and per rank the sampler state and the torch / numpy / python RNG states;
- `tokenizer/`: the tokenizer (so a resume never depends on the cache);
- `job.json`: the TrainJob it was trained with;
- the final checkpoint adds `model/` (an export, see `DualEncoder.save_pretrained`) and
  `per_language.csv`.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from trainers.metric_names import PER_LANGUAGE_FILE

STATE_FILE, TOKENIZER_DIR, JOB_FILE = "state.pt", "tokenizer", "job.json"
MODEL_DIR = "model"


def rng_state() -> dict:
    """This process's torch, numpy and python RNG states (and CUDA's where present)."""
    state = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def set_rng_state(state: dict) -> None:
    """Restore states taken by `rng_state`."""
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


def gather_rank_states(state: dict, world_size: int) -> list[dict]:
    """Every rank's `state`, in rank order (a collective when world_size > 1)."""
    if world_size == 1:
        return [state]
    states: list = [None] * world_size
    dist.all_gather_object(states, state)
    return states


def trainable_state(model: nn.Module) -> dict:
    """The model's state without frozen-tower weights (those are rebuilt from their source)."""
    frozen = {name for name, p in model.named_parameters() if not p.requires_grad}
    return {k: v for k, v in model.state_dict().items() if k not in frozen}


def save_state(out_dir: str | Path, state: dict) -> None:
    """Write `state.pt` into a checkpoint dir."""
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    torch.save(state, Path(out_dir) / STATE_FILE)


def load_state(ckpt_dir: str | Path) -> dict:
    """Read `state.pt` of a checkpoint dir (trusted: written by this package)."""
    return torch.load(Path(ckpt_dir) / STATE_FILE, map_location="cpu", weights_only=False)


def restore_model(model: nn.Module, weights: dict) -> None:
    """Load `trainable_state` weights; only frozen parameters may be missing."""
    missing, unexpected = model.load_state_dict(weights, strict=False)
    frozen = {name for name, p in model.named_parameters() if not p.requires_grad}
    if unexpected or set(missing) - frozen:
        raise RuntimeError(
            f"checkpoint does not fit the model: missing {sorted(set(missing) - frozen)[:3]}, "
            f"unexpected {unexpected[:3]}; resume with the model config it was saved with"
        )


def write_checkpoint(
    out_dir: str | Path,
    *,
    state: dict,
    model,
    tokenizer,
    job_json: str,
    per_language=None,
    precision: str = "auto",
) -> Path:
    """A checkpoint dir: `state`, tokenizer and job; the final one (with `per_language`, a
    DataFrame) adds the exported model (recording `precision`) and the per-language table."""
    out = Path(out_dir)
    save_state(out, state)
    tokenizer.save_pretrained(str(out / TOKENIZER_DIR))
    (out / JOB_FILE).write_text(job_json, encoding="utf-8")
    if per_language is not None:
        model.save_pretrained(out / MODEL_DIR, tokenizer, precision=precision)
        per_language.to_csv(out / PER_LANGUAGE_FILE, index=False)
    return out
