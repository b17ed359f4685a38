"""N labels of the trade-off figure: placed apart from each other, merged where a line barely moves."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from analysis.labels import Label, place_labels, polyline_samples
from analysis.plot_tradeoff import draw_tradeoff
from analysis.tables import normalise_trials


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


def _saturated_demo() -> pd.DataFrame:
    """Seed-level rows shaped like the synthetic demo: two hybrid lines that start and end close
    together near the top, mono-only below, CLIP low; the labels' hardest case."""
    sizes = (500, 1000, 2000)
    mono = {
        0.0: (0.11, 0.19, 0.24),
        0.5: (0.12, 0.2, 0.27),
        1.0: (0.1, 0.15, 0.2),
        None: (0.04, 0.07, 0.09),
    }
    cross = {
        0.0: (0.975, 0.98, 0.978),
        0.5: (0.965, 0.97, 0.975),
        1.0: (0.19, 0.17, 0.15),
        None: (0.1, 0.2, 0.33),
    }
    rows = [
        {"arm": "hybrid" if a is not None else "clip", "alpha": a, "data_size": n, "seed": s,
         "mono.t2i.r1": mono[a][i] + 0.002 * s, "cross.t2t.r1": cross[a][i] - 0.002 * s}
        for a in mono for i, n in enumerate(sizes) for s in (0, 1)
    ]  # fmt: skip
    return normalise_trials(pd.DataFrame(rows), "demo")


def test_the_tradeoff_figure_draws_its_n_labels_apart():
    fig, main, _ = draw_tradeoff(_saturated_demo(), "mono.t2i.r1", "cross.t2t.r1")
    FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()
    texts = [t for t in main.texts if t.get_text()]
    assert len(texts) >= 6
    boxes = [t.get_window_extent(renderer) for t in texts]
    for i, a in enumerate(boxes):
        assert not any(a.overlaps(b) for b in boxes[i + 1 :]), [t.get_text() for t in texts]
    frame = main.get_window_extent(renderer).padded(4)
    assert all(frame.contains(*b.p0) and frame.contains(*b.p1) for b in boxes)
