"""Experiment tracking callbacks of a sweep: MLflow (one run per trial) on request.

TensorBoard needs nothing here: Ray Tune writes every trial's reports as TensorBoard event files
into its trial dir under `<run>/tune/`, with the training step as the x-axis.
"""

from __future__ import annotations

import os
from pathlib import Path

from study.config import StudyConfig
from study.errors import StudyError
from study.storage import Storage

MLFLOW_DIR = "mlruns"


def mlflow_uri(cfg: StudyConfig, storage: Storage) -> str:
    """The MLflow tracking URI: the configured one, else a file store inside a local run."""
    if cfg.tracking.uri:
        return cfg.tracking.uri
    if not storage.is_local:
        raise StudyError(
            "tracking.uri: resources.storage is remote, so there is no local MLflow file store; "
            "set tracking.uri to your MLflow server (e.g. http://mlflow:5000)"
        )
    return Path(storage.join(cfg.name, MLFLOW_DIR)).as_uri()


def tracking_callbacks(cfg: StudyConfig, storage: Storage) -> list:
    """Tune callbacks for `cfg.tracking` (checked before any trial starts)."""
    if cfg.tracking.backend != "mlflow":
        return []
    try:
        import mlflow  # noqa: F401
    except ImportError:
        raise StudyError(
            "tracking.backend: 'mlflow' needs the mlflow package; install it with "
            "pip install -e '.[tracking]'"
        ) from None
    from ray.air.integrations.mlflow import MLflowLoggerCallback

    uri = mlflow_uri(cfg, storage)
    if uri.startswith("file:"):
        # MLflow 3 keeps its file store only on request; it is the simplest local default.
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    return [
        MLflowLoggerCallback(
            tracking_uri=uri,
            experiment_name=cfg.tracking.experiment or cfg.name,
            tags={"study": cfg.name},
        )
    ]
