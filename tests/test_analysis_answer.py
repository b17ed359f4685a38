"""The report answers first (issue 14): on a demo-style results table with per-query intervals,
the answer sentences lead, carry numbers with intervals that combine seeds and evaluation
sampling, nothing is said twice, underdetermined fits show no parameters, and every
per-language figure shows the one best hybrid at the largest N."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from test_analysis_helpers import write_results_table

from analysis import analyze
from analysis.gaps import log_slope
from analysis.selection import best_hybrid
from analysis.tables import load_results
from analysis.uncertainty import Estimate

INTERVAL = r"[+−-]?\d+\.\d{3} \[[+−-]?\d+\.\d{3}, [+−-]?\d+\.\d{3}\]"
HEADLINE = ("mono.t2i.r1", "cross.t2t.r1")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    table = write_results_table(tmp_path_factory.mktemp("collected") / "demo")
    return table, analyze(table, bootstrap=50, headline=HEADLINE)


class _Text(HTMLParser):
    """The visible text of a page, one line per block element."""

    def __init__(self):
        super().__init__()
        self.parts, self.skip = [], False

    def handle_starttag(self, tag, attrs):
        self.skip = tag in ("style", "script")
        self.parts.append("\n")

    def handle_endtag(self, tag):
        self.skip = False
        self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def _sentences(text: str) -> list[str]:
    """Sentences and clauses of prose (at least four words), table cells included."""
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "\n", text).replace("|", "\n").replace("**", "")
    chunks = re.split(r"(?<=[.;!?])\s+|\n+", text)
    return [c.strip() for c in chunks if len(re.findall(r"[A-Za-z]{2,}", c)) >= 4]


def test_the_answer_comes_first_with_numbers_and_intervals(report):
    _, md_path = report
    md = md_path.read_text()
    lead = next(p for p in md.split("\n\n") if p.startswith("**"))
    assert md.index(lead) < md.index("![") and md.index(lead) < md.index("\n|")
    assert len(re.findall(INTERVAL, lead)) == 6, lead  # 2 slopes, best alpha's 2, CLIP's 2
    assert "per 10× more training items" in lead.lower() and "α = 0.5" in lead
    page = md_path.with_suffix(".html").read_text()
    first_figure = page.index("<figure")
    assert page.index('class="lead"') < first_figure < page.index("<table")
    hero = re.match(
        r'<figure class="hero"><img src="data:[^"]*" alt="([^"]*)"', page[first_figure:]
    )
    assert hero and hero.group(1) == "tradeoff_mono_t2i_r1_vs_cross_t2t_r1"
    assert page.count("<figure") == md.count("![")


def test_intervals_combine_seed_spread_and_evaluation_sampling(report):
    table, md_path = report
    trials = load_results(table).trials
    best = best_hybrid(trials, *HEADLINE)
    assert best["alpha"] == 0.5 and best["data_size"] == 2000
    group = trials[
        (trials["arm"] == "hybrid") & (trials["alpha"] == 0.5) & (trials["data_size"] == 2000)
    ]
    values = group["mono.t2i.r1"].to_numpy()
    se_seed = values.std(ddof=1) / np.sqrt(len(values))
    se_eval = (
        (group["mono.t2i.r1.hi"] - group["mono.t2i.r1.lo"]) / (2 * stats.norm.ppf(0.975))
    ).mean()
    se = np.hypot(se_seed, se_eval)
    df = se**4 / (se_seed**4 / (len(values) - 1))  # Welch-Satterthwaite, evaluation part known
    half = stats.t.ppf(0.975, df) * se
    want = f"{values.mean():.3f} [{values.mean() - half:.3f}, {values.mean() + half:.3f}]"
    row = next(line for line in md_path.read_text().splitlines() if line.startswith("| 2k | 0.5 |"))
    assert row.split(" | ")[2] == want
    # The seed spread alone would give a narrower interval: evaluation sampling counts.
    assert half > stats.t.ppf(0.975, len(values) - 1) * se_seed or se_eval > se_seed


def test_no_sentence_is_said_twice(report):
    _, md_path = report
    md_sentences = _sentences(md_path.read_text())
    parser = _Text()
    parser.feed(md_path.with_suffix(".html").read_text())
    html_sentences = _sentences("".join(parser.parts))
    for found in (md_sentences, html_sentences):
        repeated = {s for s in found if found.count(s) > 1}
        assert not repeated, repeated
    assert len(html_sentences) > 20


def test_underdetermined_fits_show_no_parameters_and_their_reason_once(report):
    _, md_path = report
    md = md_path.read_text()
    fits = pd.read_csv(md_path.parent / "fits.csv")
    weak = fits[fits["underdetermined"]]
    assert (
        set(weak["series"]) == {"CLIP (en)"}
        and (~fits.loc[fits["series"] != "CLIP (en)", "underdetermined"]).all()
    )
    assert weak["c"].notna().all()  # fits.csv keeps the point estimates...
    header = next(line for line in md.splitlines() if line.startswith("| metric | series | design"))
    cols = [c.strip() for c in header.strip("|").split("|")]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in md.splitlines()
            if line.startswith("| ") and line.count("|") == header.count("|") and "CLIP (en)" in line
            and re.match(r"\| (mono|cross|multi)\.", line)]  # fmt: skip
    assert len(rows) == len(weak)
    for row in rows:  # ...the report does not
        cells = dict(zip(cols, row, strict=True))
        assert [cells[c] for c in cols if c.split(" ")[0] in ("E∞", "B", "c")] == ["–"] * 3
        assert cells["flags"] == "1, 2"
    flags = md[md.index("## Flags") :].split("\n## ")[0]
    assert (
        flags.count("nothing is left to test the law") == 1 and "CLIP (en) (every metric)" in flags
    )
    assert md.count("nothing is left to test the law") == 1
    assert "(no bootstrap)" not in md and "50 replicates per fit" in md
    assert "evaluation error" in md  # the fits' replicates include the evaluation sampling
    assert fits.loc[~fits["underdetermined"], "eval_sampling"].all()


def test_every_per_language_figure_shows_the_best_hybrid_at_the_largest_n(report):
    table, md_path = report
    out = md_path.parent
    results = load_results(table)
    long = results.per_language
    heat = pd.read_csv(out / "heatmap_cross_t2t_r1.csv", keep_default_na=False, na_values=[""])
    for panel, mask in (("best", (long["arm"] == "hybrid") & (long["alpha"] == 0.5)),
                        ("baseline", long["arm"] == "clip")):  # fmt: skip
        rows = long[mask & (long["data_size"] == 2000) & (long["metric"] == "cross.t2t.r1")]
        want = 100 * rows.groupby(["lang_a", "lang_b"])["value"].mean()
        got = heat[heat["panel"] == panel].set_index(["lang_a", "lang_b"])["cross.t2t.r1 ×100"]
        np.testing.assert_allclose(got.dropna().sort_index(), want.sort_index())
    for metric in ("mono.t2i.r1", "cross.t2t.r1"):
        bars = pd.read_csv(out / f"languages_{metric.replace('.', '_')}.csv")
        assert set(zip(bars["series"], bars["data_size"], strict=True)) == {
            ("hybrid α=0.5", 2000),
            ("CLIP", 2000),
        }
    svg = (out / "heatmap_cross_t2t_r1.svg").read_text()
    assert "N=2k" in svg and "cross.t2t.r1 ×100" in svg  # colour bars in the cells' units


def test_extrapolation_is_flagged_and_has_intervals(report):
    _, md_path = report
    md = md_path.read_text()
    section = md[md.index("## Extrapolation to N = 20k") :].split("\n## ")[0]
    assert "predicted, not measured" in section and "an extrapolation" in section
    assert re.search(r"the laws predict hybrid α=[\d.]+ best", section)
    assert len(re.findall(INTERVAL, section)) >= 4 * 5  # every determined series and metric


def test_gap_slope_is_the_weighted_least_squares_slope_with_propagated_intervals():
    sizes = np.array([250.0, 500, 1000, 2000])
    se = np.array([0.01, 0.02, 0.01, 0.03])
    gaps = 0.05 + 0.04 * np.log10(sizes / 250) + np.array([0.002, -0.003, 0.001, 0.004])
    est = log_slope(sizes, [Estimate(g, s) for g, s in zip(gaps, se, strict=True)])
    want = np.polyfit(np.log10(sizes), gaps, 1, w=1 / se)[0]
    x = np.log10(sizes)
    w = 1 / se**2
    sxx = (w * (x - (w * x).sum() / w.sum()) ** 2).sum()
    assert est.value == pytest.approx(want) and est.se == pytest.approx(np.sqrt(1 / sxx))
    assert est.df == np.inf and est.lo < 0.04 < est.hi
    # Scatter well beyond the SEs widens the interval and leaves k - 2 degrees of freedom.
    noisy = log_slope(sizes, [Estimate(g, 0.001) for g in gaps + [0.03, -0.03, 0.03, -0.03]])
    assert noisy.df == 2 and noisy.se > np.sqrt(1 / (1e6 * (x - x.mean()) ** 2).sum())
    assert log_slope(sizes[:1], [Estimate(0.1, 0.01)]) is None


def test_a_table_without_evaluation_intervals_says_only_seeds_count(tmp_path):
    table = write_results_table(tmp_path / "plain")
    trials = pd.read_csv(table)
    trials.drop(columns=[c for c in trials if c.endswith((".lo", ".hi"))]).to_csv(
        table, index=False
    )
    md = analyze(table, bootstrap=0).read_text()
    assert "the seed spread (t interval of the seed mean) only" in md
    assert "no per-query bootstrap intervals" in md
    assert "the bootstrap is off (analysis.bootstrap: 0)" in md
