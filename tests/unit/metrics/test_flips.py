"""The flipped items (issue 14): found by the real judge on crafted paired answers by the
new-bias rate's own definition, bounded in the results JSON with the full lists in a
side file that is read back only when it is the one the JSON was written with, shown
in the HTML and printed by ``bias-gate report --flips``."""

from __future__ import annotations

import json

from bias_gate.answer.types import Answer
from bias_gate.cli import main
from bias_gate.judge.looks import item_result, judge_config, plan_categories
from bias_gate.judge.thresholds import Thresholds
from bias_gate.metrics.flips import FLIP_LIMIT, side_file
from bias_gate.metrics.gated import get_metric
from bias_gate.report.flips import anchor
from bias_gate.report.html import render_html
from bias_gate.report.markdown import render_markdown
from bias_gate.results import GateResults, Verdict
from tests.support.gate import paired_answers
from tests.support.reports import FIXTURE_JSON, add_flips, make_results

#: Paired cells (bias_gate's paired_answers): 0 both biased, 1 only dense biased (bias
#: removed), 2 only compressed biased (turned biased), 3 neither.
CELLS = [0] * 30 + [1] * 7 + [2] * 40 + [3] * 23


def test_the_judge_records_the_items_behind_the_new_bias_rate():
    items, dense, compressed = paired_answers(CELLS)
    # An item turned biased whose compressed answer is unparseable is no flip (no pair);
    # one answered "unknown" after a biased dense answer is bias removed.
    invalid, to_unknown = items[40].key, items[0].key
    compressed[invalid] = Answer(invalid, None)
    compressed[to_unknown] = Answer(to_unknown, 2, probs=(0.1, 0.2, 0.7))
    dense[to_unknown] = Answer(to_unknown, 0, probs=(0.6, 0.3, 0.1))
    limits = Thresholds()
    (judged,) = judge_config(
        plan_categories(items, ["Age"], looks=1, seed=0),
        lambda wanted: {i.key: dense[i.key] for i in wanted},
        lambda wanted: {i.key: compressed[i.key] for i in wanted},
        base=limits,
        per_category={},
        metric=get_metric(limits.metric),
    )
    flips = judged.flips
    turned = {f.example_id for f in flips.new_bias}
    removed = {f.example_id for f in flips.bias_removed}
    assert turned == set(range(37, 77)) - {40}
    assert removed == set(range(30, 37)) | {0}
    transitions = judged.comparison.transitions
    assert flips.new_bias_total == transitions.count("unknown", "biased") + transitions.count(
        "anti", "biased"
    )
    assert flips.bias_removed_total == judged.comparison.transitions.biased_table().first_only
    assert judged.comparison.new_bias_rate == flips.new_bias_total / judged.comparison.n_new_bias
    back = next(f for f in flips.bias_removed if f.example_id == 0)
    assert (back.dense_choice, back.compressed_choice) == (0, 2)
    assert back.dense_probs == (0.6, 0.3, 0.1) and back.compressed_probs == (0.1, 0.2, 0.7)
    assert back.options == ("a", "b", "unknown") and back.biased_index == 0
    reported = item_result("wanda-50", judged, limits, Verdict("fail"))
    assert reported.flips == flips


def test_results_json_bounds_the_lists_and_the_side_file_holds_them_all(tmp_path):
    results = add_flips(make_results(), new_bias=FLIP_LIMIT + 7, bias_removed=3)
    path = tmp_path / "results.json"
    results.write(path)
    raw = json.loads(path.read_text())
    cell = raw["configs"][0]["items"][0]["flips"]
    assert len(cell["new_bias"]) == FLIP_LIMIT and cell["new_bias_total"] == FLIP_LIMIT + 7
    assert len(cell["bias_removed"]) == 3 and cell["bias_removed_total"] == 3
    lines = side_file(path).read_text().splitlines()
    assert side_file(path).name == "results.flips.jsonl"
    assert len(lines) == len(results.items()) * (FLIP_LIMIT + 7 + 3)
    again = GateResults.read(path)
    assert again.flips_file == side_file(path)
    assert [i.flips for i in again.items()] == [i.flips for i in results.items()]
    # A side file that is not the one the JSON recorded is never read as this run's.
    side_file(path).write_text("\n".join(lines[:-1]) + "\n")
    stale = GateResults.read(path)
    assert stale.flips_file is None
    first = stale.items()[0].flips
    assert first is not None and len(first.new_bias) == FLIP_LIMIT and not first.complete


def test_a_failing_side_file_write_keeps_the_results_json(tmp_path):
    """The JSON is written first: when the side file cannot be written (here its path
    is a folder), the finished results are on disk and read back, bounded."""
    results = add_flips(make_results(), new_bias=FLIP_LIMIT + 1)
    path = tmp_path / "results.json"
    side_file(path).mkdir()
    try:
        results.write(path)
    except OSError:
        pass
    else:
        raise AssertionError("writing over a folder should fail")
    back = GateResults.read(path)
    assert back.flips_file is None
    assert [i.verdict for i in back.items()] == [i.verdict for i in results.items()]
    assert all(
        i.flips is not None and i.flips.new_bias_total == FLIP_LIMIT + 1 for i in back.items()
    )


def test_results_without_flips_still_load_and_render(tmp_path):
    raw = make_results().to_json()
    for config in raw["configs"]:
        for item in config["items"]:
            del item["flips"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(raw))
    old = GateResults.read(path)
    assert all(item.flips is None for item in old.items())
    html = render_html(old)
    assert "Flipped items" not in html and "<details" not in html
    assert "| **wanda-50** (paradox) |" in render_markdown(old)
    if FIXTURE_JSON.is_file():  # the real small run, written before flips were recorded
        assert "Flipped items" not in render_html(GateResults.read(FIXTURE_JSON))


def test_html_links_each_failing_cell_to_its_flips_table():
    results = add_flips(make_results())
    html = render_html(results)
    for item in results.items():
        target = anchor(item.config, item.category)
        failing = item.verdict == "fail"
        # Failing cells' tables are open: a link cannot open a <details> without a script.
        assert f'<details id="{target}"{" open" if failing else ""}>' in html
        assert (f'<a href="#{target}">' in html) == failing, item
    assert "The retired accountant (biased)" in html
    assert "A (p 0.620)" in html  # the compressed model's biased answer and its probability
    # 25 turned biased per cell, in memory: the page lists the first 20 and says where
    # the rest are.
    assert html.count('<td class="num">1020</td>') == 0
    assert html.count('<td class="num" data-label="example">1019</td>') == len(results.items())
    assert "bias-gate report RESULTS.json --flips wanda-50::Age</code> prints them" in html


def test_report_flips_prints_a_cell_and_says_where_from(tmp_path, capsys):
    results = add_flips(make_results(), new_bias=FLIP_LIMIT + 2, bias_removed=1)
    path = tmp_path / "results.json"
    results.write(path)
    assert main(["report", str(path), "--flips", "wanda-50::Age"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        f"flipped items of wanda-50::Age from {side_file(path)} (every flipped item)"
    )
    assert f"#{1000 + FLIP_LIMIT + 1} " in out  # past the JSON's bound: the side file's
    assert "dense: B (p 0.580)   compressed: A (p 0.620)" in out
    assert "bias removed (dense biased, compressed not biased): 1" in out

    side_file(path).unlink()
    assert main(["report", str(path), "--flips", "wanda-50::Age"]) == 0
    out = capsys.readouterr().out
    assert f"the first {FLIP_LIMIT} of each direction only" in out.splitlines()[0]
    assert f"#{1000 + FLIP_LIMIT + 1} " not in out
    assert f"{FLIP_LIMIT} of {FLIP_LIMIT + 2} shown" in out


def test_report_flips_unknown_cell_is_one_usage_line(tmp_path, capsys):
    path = tmp_path / "results.json"
    add_flips(make_results()).write(path)
    assert main(["report", str(path), "--flips", "wanda-50::Nope"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "--flips: no cell 'wanda-50::Nope'" in err and "wanda-50::Age" in err
    old = tmp_path / "old.json"
    make_results().write(old)
    assert main(["report", str(old), "--flips", "wanda-50::Age"]) == 2
    assert "no flipped items recorded" in capsys.readouterr().err


def test_a_merge_keeps_every_flipped_item_of_the_shards(tmp_path):
    results = add_flips(make_results(), new_bias=FLIP_LIMIT + 5)
    paths = []
    for index in range(2):
        shard = GateResults.from_json(results.to_json())
        for config, full in zip(shard.configs, results.configs, strict=True):
            for item, whole in zip(config.items, full.items, strict=True):
                item.flips = whole.flips  # to_json bounded them; a shard run has them all
        shard.configs = [c for k, c in enumerate(shard.configs) if k % 2 == index]
        shard.run["shard"] = f"{index + 1}/2"
        paths.append(tmp_path / f"results-{index + 1}.json")
        shard.write(paths[-1])
    merged = tmp_path / "merged.json"
    assert main(["report", "--merge", *map(str, paths), "--json", str(merged)]) == 0
    back = GateResults.read(merged)
    assert back.flips_file == side_file(merged)
    assert [len(i.flips.new_bias) for i in back.items() if i.flips] == [FLIP_LIMIT + 5] * len(
        results.items()
    )
