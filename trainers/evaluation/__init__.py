"""Retrieval evaluation (spec section 5): every metric from one blocked pass over the scores."""

from trainers.evaluation.inputs import load_embeddings_npz
from trainers.evaluation.metrics import RetrievalResult, evaluate_embeddings

__all__ = ["RetrievalResult", "evaluate_embeddings", "load_embeddings_npz"]
