"""Evaluation defaults shared by the config, the CLI and the API (no heavy imports: the CLI reads
them while it builds its parser)."""

EVAL_BLOCK_SIZE = 8192  # evaluation blocks hold at most this**2 scores (256 MiB)
EVAL_BOOTSTRAP = 1000  # resamples of the per-query bootstrap intervals of the final evaluation
