"""A traced copy of a model's text path (TorchScript) and its tokenizer (a `tokenizers` file):
it encodes query texts with torch and tokenizers alone, without importing transformers (which
takes seconds), so a search over a cached index answers quickly.

Each text is padded to the model's max_text_length and encoded on its own, the one shape the
trace saw; the trace is kept only if it reproduces the model on a few texts. TorchScript is
deprecated in torch 2 but loads in milliseconds, where torch.export's loader imports the
compiler stack (seconds); without it, callers load the whole model instead.
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer

TRACED_FILE, TOKENIZER_FILE = "text_encoder.pt", "text_tokenizer.json"
TOLERANCE = 1e-4  # largest difference to the model's own embeddings (unit vectors)


class _TextPath(torch.nn.Module):
    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model.encode_text(input_ids=input_ids, attention_mask=attention_mask)


class TracedText:
    """Unit-norm text embeddings from a traced text path and its padding tokenizer."""

    def __init__(self, module: torch.jit.ScriptModule, tokenizer: Tokenizer):
        self.module = module
        self.tokenizer = tokenizer

    @classmethod
    def load(cls, directory: str | Path) -> TracedText | None:
        """The traced text path saved in `directory`, or None if there is none."""
        directory = Path(directory)
        if not (directory / TRACED_FILE).is_file():
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            module = torch.jit.load(str(directory / TRACED_FILE), map_location="cpu")
        return cls(module, Tokenizer.from_file(str(directory / TOKENIZER_FILE)))

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """float32 [len(texts), embed_dim], one text at a time."""
        out = []
        with torch.no_grad():
            for enc in self.tokenizer.encode_batch(list(texts)):
                ids = torch.tensor([enc.ids], dtype=torch.long)
                mask = torch.tensor([enc.attention_mask], dtype=torch.long)
                out.append(self.module(ids, mask).float().numpy())
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def save_traced_text(model, tokenizer, out_dir: str | Path, check_texts: list[str]) -> bool:
    """Trace `model`'s (a DualEncoder's) text path on the CPU in float32 and save it with a
    tokenizer that pads to max_text_length; False, writing nothing, where the model's tokenizer
    has no `tokenizers` backend or the trace does not reproduce the model on `check_texts`."""
    from trainers.tokenizer import tokenize

    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None or tokenizer.pad_token_id is None:
        return False
    length = model.config.max_text_length
    fast = Tokenizer.from_str(backend.to_str())
    fast.enable_truncation(length)
    fast.enable_padding(length=length, pad_id=tokenizer.pad_token_id, pad_token=tokenizer.pad_token)
    cpu = copy.deepcopy(model).float().cpu().eval()
    example = fast.encode(check_texts[0])
    example = (torch.tensor([example.ids]), torch.tensor([example.attention_mask]))
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit.trace's deprecation and tracer notes
            traced = torch.jit.trace(_TextPath(cpu), example, check_trace=False)
    except Exception:  # noqa: BLE001 - a model the tracer cannot follow is encoded eagerly
        return False
    with torch.no_grad():
        want = cpu.encode_text(**tokenize(tokenizer, check_texts, length, torch.device("cpu")))
    got = TracedText(traced, fast).encode_texts(check_texts)
    if not np.allclose(got, want.numpy(), atol=TOLERANCE):
        return False
    out_dir = Path(out_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(traced, str(out_dir / TRACED_FILE))
    fast.save(str(out_dir / TOKENIZER_FILE))
    return True
