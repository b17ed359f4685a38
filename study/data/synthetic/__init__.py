"""The embedded corpus: a deterministic multilingual image-caption world (spec section 2).

`generate(out, items=, eval_items=, seed=)` writes `out/train` (canonical, PNG images),
`out/eval_xm3600` (XM3600 captions.jsonl + images/) and `out/eval` (that split imported),
plus `scenes.jsonl` (each item's scene) and `generator.json`. `World` holds the difficulty knobs.
"""

from study.data.synthetic.world import World
from study.data.synthetic.writer import (
    GENERATOR_VERSION,
    LANGUAGES,
    LOW_RESOURCE,
    SyntheticCorpus,
    ensure_synthetic,
    generate,
)

__all__ = [
    "GENERATOR_VERSION",
    "LANGUAGES",
    "LOW_RESOURCE",
    "SyntheticCorpus",
    "World",
    "ensure_synthetic",
    "generate",
]
