"""Ray Data settings shared by the corpus importers and the feature actor pool."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

# Below this many images, Ray Data's start-up (a local cluster, or a job on a running one) costs
# more than parallel decoding saves: importers and the feature cache stay in one process.
RAY_DATA_MIN_ITEMS = 10_000


def ensure_ray() -> None:
    """Join the running Ray cluster, or start a local one (quietly) when none is running."""
    import ray

    if not ray.is_initialized():
        ray.init(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)


@contextmanager
def quiet_ray_data() -> Iterator[None]:
    """No progress bars or execution logs: a command prints its own summary or one error line."""
    import ray.data

    ctx = ray.data.DataContext.get_current()
    logger = logging.getLogger("ray.data")
    saved = ctx.enable_progress_bars, ctx.print_on_execution_start, logger.level
    ctx.enable_progress_bars, ctx.print_on_execution_start = False, False
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        ctx.enable_progress_bars, ctx.print_on_execution_start, _ = saved
        logger.setLevel(saved[2])


def cluster_slots() -> tuple[int, int]:
    """Whole CPUs and GPUs of the Ray cluster (at least one CPU)."""
    import ray

    resources = ray.cluster_resources()
    return max(1, int(resources.get("CPU", 1))), int(resources.get("GPU", 0))
