"""Point labels placed where they collide least with each other, the markers and the lines."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from matplotlib.axes import Axes
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import text_to_path

FONT = 6.5  # points
GAP = 4.0  # points between the anchor and the nearest corner or edge of its label
MARGIN = 3.0  # points: about the largest marker's radius, and how far a label may leave the frame
MERGE = 8.0  # points: nearer same-colour labels are merged into one
# Directions tried around each anchor, in order of preference (below right reads best on a line plot).
_DIRECTIONS = ((1, -1), (1, 1), (-1, -1), (-1, 1), (0, -1), (0, 1), (1, 0), (-1, 0))
_HA = {1: "left", 0: "center", -1: "right"}
_VA = {1: "bottom", 0: "center", -1: "top"}


@dataclass(frozen=True)
class Label:
    """A text to put next to the data point (x, y)."""

    x: float
    y: float
    text: str
    color: str


def _box(anchor: np.ndarray, direction: tuple[int, int], size: np.ndarray) -> np.ndarray:
    """(x0, y0, x1, y1) in points of a label of `size` set off from `anchor` towards `direction`."""
    d = np.asarray(direction, float)
    centre = anchor + d * (GAP + size / 2)
    return np.concatenate([centre - size / 2, centre + size / 2])


def _overlap(box: np.ndarray, others: np.ndarray) -> float:
    """Total area shared by `box` and the rows of `others`."""
    if not len(others):
        return 0.0
    w = np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0])
    h = np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1])
    return float((np.clip(w, 0, None) * np.clip(h, 0, None)).sum())


def _merge(labels: list[Label], anchors: np.ndarray) -> list[tuple[Label, np.ndarray]]:
    """Same-colour labels whose points nearly coincide become one ('250–2k': the line barely moves)."""
    kept: list[tuple[Label, np.ndarray]] = []
    for label, anchor in zip(labels, anchors, strict=True):
        near = [i for i, (k, a) in enumerate(kept)
                if k.color == label.color and np.hypot(*(a - anchor)) < MERGE]  # fmt: skip
        if near:
            first, at = kept[near[0]]
            kept[near[0]] = (replace(first, text=f"{first.text}–{label.text}"), at)
        else:
            kept.append((label, anchor))
    return kept


def place_labels(ax: Axes, labels: list[Label], obstacles: np.ndarray) -> None:
    """Annotate each label on the side that overlaps least with placed labels and `obstacles [k, 2]`.

    Call it once the axes' limits and position are final (after `Figure.draw_without_rendering`):
    each label's box is its text's measured extent in points (the font the figure draws it with).
    """
    font = FontProperties(size=FONT)
    to_pt = 72.0 / ax.figure.dpi
    frame = ax.get_window_extent().extents * to_pt
    marks = ax.transData.transform(obstacles) * to_pt if len(obstacles) else np.empty((0, 2))
    placed = np.empty((0, 4))
    for label, anchor in _merge(
        labels, ax.transData.transform([(b.x, b.y) for b in labels]) * to_pt
    ):
        width, height, _ = text_to_path.get_text_width_height_descent(
            label.text, font, ismath=False
        )
        size = np.array([width, height])
        costs = []
        for rank, direction in enumerate(_DIRECTIONS):
            box = _box(anchor, direction, size)
            inside = (  # a marker or line sample within MARGIN of the box
                (marks[:, 0] > box[0] - MARGIN) & (marks[:, 0] < box[2] + MARGIN)
                & (marks[:, 1] > box[1] - MARGIN) & (marks[:, 1] < box[3] + MARGIN)
            )  # fmt: skip
            off_frame = np.clip(
                np.r_[frame[:2] - box[:2], box[2:] - frame[2:]] - MARGIN, 0, None
            ).sum()
            padded = placed + np.array([-1, -1, 1, 1]) * MARGIN / 2
            costs.append(10 * _overlap(box, padded) + 8 * inside.sum() + 50 * off_frame + rank)
        best = _DIRECTIONS[int(np.argmin(costs))]
        placed = np.vstack([placed, _box(anchor, best, size)])
        ax.annotate(
            label.text, (label.x, label.y), xytext=(best[0] * GAP, best[1] * GAP),
            textcoords="offset points", ha=_HA[best[0]], va=_VA[best[1]], fontsize=FONT,
            color=label.color, in_layout=False,
        )  # fmt: skip


def polyline_samples(x: np.ndarray, y: np.ndarray, per_segment: int = 12) -> np.ndarray:
    """Points along a polyline in data coordinates, so labels keep off its segments too."""
    t = np.linspace(0, 1, per_segment, endpoint=False)
    xs = np.concatenate([x[:-1, None] + t * np.diff(x)[:, None], x[-1:, None]], axis=None)
    ys = np.concatenate([y[:-1, None] + t * np.diff(y)[:, None], y[-1:, None]], axis=None)
    return np.column_stack([xs, ys])
