"""Merging shards: identical to the unsharded run; foreign or repeated shards refused."""

from __future__ import annotations

import pytest
from statsmodels.stats.multitest import multipletests

from bias_gate.report.merge import MergeError, merge_results
from bias_gate.results import GateResults
from bias_gate.stats.core import adjust_pvalues
from tests.support.reports import make_results, results_for, results_params


@pytest.fixture(params=results_params())
def results(request):
    return results_for(request.param)


def _shards(results: GateResults, count: int) -> list[GateResults]:
    """Split like --bias-gate-shard: config k (0-based) goes to shard k % count + 1; each
    shard's run-wide p-values are those of its own smaller run."""
    shards = []
    for index in range(count):
        shard = GateResults.from_json(results.to_json())
        shard.configs = [c for k, c in enumerate(shard.configs) if k % count == index]
        shard.run["shard"] = f"{index + 1}/{count}"
        items = shard.items()
        present = [i for i in items if i.p_value is not None]
        if present:
            adjusted = adjust_pvalues([i.p_value for i in present], "holm")
            for item, p in zip(present, adjusted, strict=True):
                item.p_adjusted_run = float(p)
        shards.append(shard)
    return shards


def test_merged_shards_equal_the_unsharded_run(results):
    if len(results.configs) < 2:
        pytest.skip("needs two configs")
    shards = _shards(results, 2)
    if any(i.p_adjusted_run is not None and i.p_adjusted_run < 1 for i in results.items()):
        assert any(
            a.p_adjusted_run != b.p_adjusted_run
            for a, b in zip(shards[0].items(), results.items(), strict=False)
        )  # the shards' own run-wide p-values differ from the whole run's
    # (a run whose adjusted p-values all reach 1, such as the real fixture, in which no
    # config raised bias, has nothing a shard could get wrong: the merge is still checked)
    merged = merge_results(list(reversed(shards)))
    original = results.to_json()
    for a, b in zip(merged.items(), results.items(), strict=True):
        if b.p_adjusted_run is None:  # no p-value (n=0): none to correct
            assert a.p_adjusted_run is None
        else:
            assert a.p_adjusted_run == pytest.approx(b.p_adjusted_run, rel=1e-12, abs=0)
        a.p_adjusted_run = b.p_adjusted_run
    assert merged.to_json() == original


def test_merge_recomputes_with_the_run_correction():
    results = make_results()
    results.run["thresholds"]["base"]["correction"] = "bh"
    merged = merge_results(_shards(results, 3))
    present = [i.p_value for i in results.items() if i.p_value is not None]
    expected = multipletests(present, method="fdr_bh")[1].tolist()
    assert [i.p_adjusted_run for i in merged.items() if i.p_value is not None] == pytest.approx(
        expected, rel=1e-12
    )
    assert merged.items()[-1].p_adjusted_run is None  # n=0: no p-value, stays None


def test_merge_refuses_foreign_and_repeated_shards():
    results = make_results()
    first, second = _shards(results, 2)
    foreign = GateResults.from_json(second.to_json())
    foreign.run["model_fingerprint"] = "another-model"
    with pytest.raises(MergeError, match="model fingerprint") as info:
        merge_results([first, foreign], ["a.json", "b.json"])
    assert "b.json is not a shard of the same run as a.json" in str(info.value)
    other_items = GateResults.from_json(second.to_json())
    other_items.run["items_fingerprint"] = "other-items"
    with pytest.raises(MergeError, match="items fingerprint"):
        merge_results([first, other_items])
    with pytest.raises(MergeError, match=r"config 'wanda-50' is in both a\.json and c\.json"):
        merge_results([first, second, first], ["a.json", "b.json", "c.json"])
    with pytest.raises(MergeError, match="nothing to merge"):
        merge_results([])


def test_missing_shard_is_recorded():
    results = make_results()
    shards = _shards(results, 3)
    merged = merge_results([shards[0], shards[2]])
    assert merged.run["missing_shards"] == ["2/3"]
    assert merged.run["shard"] is None


def test_a_merge_with_a_missing_shard_is_never_shown_as_a_pass(tmp_path, monkeypatch):
    """Every config present passed, but shard 2/2 is missing: each report says INCOMPLETE
    prominently, none says PASS, and ``bias-gate report --merge`` exits 1."""
    from bias_gate.cli import main
    from bias_gate.report.annotations import annotation_lines
    from bias_gate.report.html import render_html
    from bias_gate.report.markdown import render_markdown
    from bias_gate.report.summary import config_status, headline
    from bias_gate.report.terminal import summary_table

    results = make_results()
    for config in results.configs:  # every present comparison passed
        config.perplexity_verdict = "pass"
        for item in config.items:
            item.verdict, item.decision, item.paradox = "pass", "pass", False
    assert {config_status(c) for c in results.configs} == {"pass"}
    first, _ = _shards(results, 2)
    merged = merge_results([first])
    assert headline(merged).word == "INCOMPLETE" and headline(merged).css == "incomplete"
    title = render_markdown(merged).splitlines()[0]
    assert "INCOMPLETE" in title and "PASS" not in title.upper().replace("INCOMPLETE", "")
    page = render_html(merged)
    assert "<title>bias-gate INCOMPLETE:" in page and 'class="banner incomplete"' in page
    assert "banner pass" not in page and "2/2 missing" in page
    assert any("INCOMPLETE" in line for line in summary_table(merged)[:3])
    (error,) = annotation_lines(merged, {})
    assert error.startswith("::error ") and "INCOMPLETE" in error

    failing = merge_results([_shards(make_results(), 3)[0]])  # a fail stays a fail
    assert headline(failing).word == "FAIL (INCOMPLETE)"

    first.write(tmp_path / "results-1.json")
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    out = tmp_path / "merged.md"
    assert (
        main(["report", "--merge", str(tmp_path / "results-1.json"), "--markdown", str(out)]) == 1
    )
    assert "INCOMPLETE" in out.read_text(encoding="utf-8").splitlines()[0]
    assert main(["report", "--merge", str(tmp_path / "results-1.json")]) == 1
