"""N labels of the trade-off figure: placed apart from each other, merged where a line barely moves."""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from analysis.labels import Label, place_labels, polyline_samples


def test_close_labels_do_not_overlap_and_coinciding_ends_merge():
    fig = Figure(figsize=(5, 3), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    lines = {  # two lines starting and ending a marker's width apart, one that stays put
        "#E69F00": (np.array([0.075, 0.11, 0.22, 0.267]), np.array([0.978, 0.98, 0.977, 0.976])),
        "#56B4E9": (np.array([0.069, 0.13, 0.24, 0.27]), np.array([0.968, 0.97, 0.967, 0.966])),
        "#009E73": (np.array([0.15, 0.1501, 0.1502]), np.array([0.5, 0.5001, 0.5002])),
    }
    labels, marks = [], []
    for color, (x, y) in lines.items():
        ax.plot(x, y, color=color, marker="o")
        labels += [Label(x[0], y[0], "250", color), Label(x[-1], y[-1], "2k", color)]
        marks.append(polyline_samples(x, y))
    fig.draw_without_rendering()
    place_labels(ax, labels, np.vstack(marks))
    texts = list(ax.texts)
    assert sorted(t.get_text() for t in texts) == ["250", "250", "250–2k", "2k", "2k"]
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in texts]
    for i, a in enumerate(boxes):
        assert not any(a.overlaps(b) for b in boxes[i + 1 :]), [t.get_text() for t in texts]
