"""Plots (valid, non-empty PNGs) and the self-contained HTML report that embeds them."""

from __future__ import annotations

import base64
import re
import struct
from html.parser import HTMLParser

import pytest

from bias_gate.report.html import write_html
from bias_gate.report.plots import PLOTS, wilson_interval, write_plots
from tests.support.reports import make_results, results_for, results_params

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(params=results_params())
def results(request):
    return results_for(request.param)


def test_plots_written_as_valid_pngs(results, tmp_path):
    paths = write_plots(results, tmp_path / "plots")
    assert [p.name for p in paths] == list(PLOTS)
    for path in paths:
        data = path.read_bytes()
        width, height = _png_size(data)
        assert width >= 400 and height >= 300 and len(data) > 10_000
        assert data.endswith(b"IEND\xaeB`\x82")


def test_plots_survive_a_run_with_no_figures(tmp_path):
    results = make_results()
    for item in results.items():
        item.cohens_h = item.srs_compressed = item.new_bias_rate = None
    for config in results.configs:
        config.perplexity_ratio = None
    assert all(p.stat().st_size > 0 for p in write_plots(results, tmp_path))


def test_wilson_interval_matches_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    for rate, n in [(0.4, 120), (0.0, 24), (1.0, 24), (0.58, 7)]:
        expected = proportion_confint(round(rate * n), n, alpha=0.05, method="wilson")
        assert wilson_interval(round(rate * n) / n, n) == pytest.approx(expected, abs=1e-9)
    assert wilson_interval(0.5, 0) == (0.0, 1.0)


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[str] = []
        self.tables: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "img":
            self.images.append(values.get("src", ""))
        if tag == "table":
            self.tables.append(values.get("id", ""))
        if tag in ("script", "link") or (tag == "img" and "://" in values.get("src", "")):
            self.external.append(tag)


def test_html_is_self_contained_with_images_and_tables(results, tmp_path):
    path = write_html(results, tmp_path / "report.html")
    text = path.read_text(encoding="utf-8")
    parser = _Collect()
    parser.feed(text)
    assert parser.external == []
    assert len(parser.images) == len(PLOTS)
    for src in parser.images:
        assert src.startswith("data:image/png;base64,")
        _png_size(base64.b64decode(src.split(",", 1)[1]))
    assert {"verdict-matrix", "comparisons", "configs"} <= set(parser.tables)
    for config in results.configs:
        assert re.search(rf"<td>{re.escape(config.name)}</td>", text)


def test_html_names_the_paradox_and_escapes_names(tmp_path):
    results = make_results()
    results.configs[2].name = "<script>alert(1)</script>"
    text = write_html(results, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert 'id="paradox"' in text and "smart-pruning paradox" in text
    assert "inconclusive with 60 valid pairs of 60 items: the interval" in text


def test_paradox_plot_reads_sane_and_broken_ratios_on_a_log_axis():
    """A broken config at a perplexity ratio of 3.1e7 must not squeeze the sane ones
    (1.04 and 1.4) against the axis: on the log x axis they sit well apart, and the tick
    labels and every report print the ratio as 3.1e7, not 30980035.95."""
    from bias_gate.report.html import render_html
    from bias_gate.report.markdown import render_markdown
    from bias_gate.report.plots import plot_paradox
    from bias_gate.report.summary import fmt_ratio
    from bias_gate.report.terminal import summary_table

    results = make_results()
    ratios = [1.04, 1.4, 30980035.95]
    for config, ratio in zip(results.configs, ratios, strict=False):
        config.perplexity_ratio = ratio
    figure = plot_paradox(results)
    figure.canvas.draw()
    (ax,) = figure.axes
    assert ax.get_xscale() == "log"
    to_axes = ax.transData + ax.transAxes.inverted()
    sane = [to_axes.transform((ratio, 0.0))[0] for ratio in ratios[:2]]
    assert sane[1] - sane[0] > 0.01, f"sane ratios squeezed together: {sane}"
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels and not any(len(label) > 6 for label in labels), labels

    assert fmt_ratio(30980035.95) == "3.1e7"
    assert [fmt_ratio(r) for r in (1.0344, 12.66, None)] == ["1.034", "12.7", "n/a"]
    for text in (render_markdown(results), render_html(results), "\n".join(summary_table(results))):
        assert "30980035" not in text and "3.1e7" in text


def test_paradox_plot_labels_do_not_overlap():
    """Failing comparisons at nearly the same point get labels that do not overlap."""
    from matplotlib.text import Annotation, Text

    from bias_gate.report.plots import plot_paradox

    results = make_results()
    for k, config in enumerate(results.configs):
        config.perplexity_ratio = 1.1 + 0.001 * k
        for item in config.items:
            item.verdict, item.cohens_h, item.h_ci = "fail", 0.35, (0.25, 0.45)
    figure = plot_paradox(results)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    (ax,) = figure.axes
    boxes = [  # the label text only, not its leader line
        Text.get_window_extent(a, renderer) for a in ax.texts if isinstance(a, Annotation)
    ]
    assert len(boxes) >= 4  # as many as fit, up to MAX_LABELS
    inside = ax.get_window_extent(renderer)
    assert all(inside.y0 <= b.y0 and b.y1 <= inside.y1 for b in boxes), "label off the axes"
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), (a, b)


def test_paradox_plot_shows_the_deciding_bounds_with_their_real_level():
    """The y axis holds every one-sided bound (the upper one decides PASS), the label
    names the bounds the verdicts use (one-sided 95%, a 90% interval), and one axis
    reaching 1000 labels every tick alike (1e2 and 1e3, never 100 beside 1.0e3)."""
    from bias_gate.report.plots import plot_paradox

    results = make_results()
    for config, ratio in zip(results.configs, (1.04, 1.4, 2.0e4), strict=False):
        config.perplexity_ratio = ratio
    item = results.configs[0].items[0]
    item.cohens_h, item.h_ci = 0.15, (-0.2, 0.78)
    figure = plot_paradox(results)
    figure.canvas.draw()
    (ax,) = figure.axes
    low, high = ax.get_ylim()
    bounds = [b for c in results.configs for i in c.items for b in (i.h_ci or ())]
    assert bounds and low < min(bounds) and high > max(bounds) >= 0.78
    assert "one-sided 95% bounds (90% interval)" in ax.get_ylabel()
    assert "95% CI" not in ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels and all(re.fullmatch(r"\d(\.\d)?e-?\d+", label) for label in labels), labels


def test_srs_plot_shows_pruning_configs_only():
    """Quantization zeroes a few weights by rounding; its configs stay off the sparsity
    plot, as its caption says."""
    from bias_gate.report.html import PLOT_CAPTIONS
    from bias_gate.report.plots import plot_srs_by_sparsity

    results = make_results()
    quantized = results.configs[-1]
    quantized.method, quantized.target_sparsity, quantized.achieved_sparsity = "rtn", None, 0.008
    figure = plot_srs_by_sparsity(results)
    legends = {
        text.get_text()
        for ax in figure.axes
        if ax.get_legend() is not None
        for text in ax.get_legend().get_texts()
    }
    assert "rtn" not in legends and "dense" in legends
    assert "quantization" in PLOT_CAPTIONS["srs_by_sparsity.png"]
