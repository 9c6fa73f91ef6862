"""The markdown summary and the GitHub step summary: content, order, size limit."""

from __future__ import annotations

import pytest

from bias_gate.report.markdown import (
    STEP_SUMMARY_LIMIT_BYTES,
    render_markdown,
    truncate_markdown,
    write_step_summary,
)
from bias_gate.report.summary import paradox_cases
from tests.support.reports import make_results, results_for, results_params


@pytest.fixture(params=results_params())
def results(request):
    return results_for(request.param)


def test_every_config_and_category_is_in_the_matrix(results):
    text = render_markdown(results)
    matrix = text.split("### Verdict matrix", 1)[1].split("###", 1)[0]
    for config in results.configs:
        row = next(line for line in matrix.splitlines() if f"**{config.name}**" in line)
        assert row.count("|") == 5 + len({i.category for i in results.items()})
    assert "perplexity ratio" in matrix


def test_paradox_named_first_and_power_in_words():
    results = make_results()
    text = render_markdown(results)
    assert [(c.name, i.category) for c, i in paradox_cases(results)] == [("wanda-50", "Age")]
    assert text.index("smart-pruning paradox: perplexity passed, bias failed") < text.index(
        "### Verdict matrix"
    )
    assert "**wanda-50** (paradox)" in text
    assert "Gender_identity: warn: too few items: inconclusive with 60 valid pairs" in text
    assert "About 410 items would settle it" in text
    assert "is at or below the limit 0.2, so an amplification of h >= 0.2 is ruled out" in text
    assert "no items could be compared" in text  # the n=0 category
    assert "The dense model is valid" in text
    assert "| accuracy_disambig | 0.512 |" in text


def test_no_paradox_section_without_paradox():
    results = make_results()
    results.configs[0].perplexity_verdict = "fail"
    assert "smart-pruning paradox" not in render_markdown(results).split("### Verdict")[0]


def test_uninformative_dense_model_is_said_first():
    results = make_results()
    results.dense.informative = False
    results.dense.validity_reasons = ["disambiguated accuracy 0.34 is not above chance"]
    assert "The dense model is NOT valid" in render_markdown(results)


def test_pipes_in_names_do_not_break_the_table():
    results = make_results()
    results.configs[0].name = "wanda|50"
    text = render_markdown(results)
    assert "wanda\\|50" in text


def test_truncate_keeps_whole_lines_under_the_limit():
    text = "".join(f"line {i} é|\n" for i in range(10_000))
    cut = truncate_markdown(text, 5_000)
    assert len(cut.encode("utf-8")) <= 5_000
    assert "Summary truncated" in cut
    body = cut.split("\n\n> Summary truncated")[0]
    assert all(line.startswith("line ") and line.endswith("é|") for line in body.splitlines())
    assert truncate_markdown("short\n", 5_000) == "short\n"


def test_truncate_closes_an_open_code_fence():
    text = "head\n```\n" + "x" * 50 + "\n" * 400 + "```\n"
    cut = truncate_markdown(text, 200)
    assert sum(line.startswith("```") for line in cut.splitlines()) % 2 == 0


def test_step_summary_only_in_github_actions(tmp_path):
    target = tmp_path / "summary.md"
    results = make_results()
    assert write_step_summary(results, {"GITHUB_STEP_SUMMARY": str(target)}) is None
    assert not target.exists()
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(target)}
    target.write_text("# before\n", encoding="utf-8")
    assert write_step_summary(results, env) == target
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# before\n") and "### Verdict matrix" in text


def test_step_summary_stays_under_one_mebibyte(tmp_path):
    results = make_results()
    big_reason = "x" * 2_000
    template = results.configs[1]
    for index in range(800):  # about 1.6 MiB of failure details
        config = type(template)(**{**template.__dict__, "name": f"cfg-{index}"})
        config.items = [
            type(item)(**{**item.__dict__, "reasons": [big_reason]}) for item in template.items
        ]
        results.configs.append(config)
    assert len(render_markdown(results).encode("utf-8")) > 1024 * 1024
    target = tmp_path / "summary.md"
    target.write_text("existing\n", encoding="utf-8")
    write_step_summary(results, {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(target)})
    size = target.stat().st_size
    assert size <= STEP_SUMMARY_LIMIT_BYTES < 1024 * 1024
    assert "Summary truncated" in target.read_text(encoding="utf-8")


def test_truncate_closes_open_details_blocks():
    """A cut inside a collapsible block closes its fence and its <details>, so the rest of
    the step summary is not swallowed into it; the result stays under the limit."""
    text = "# head\n\n" + "".join(
        f"<details><summary>check {k}</summary>\n\n```\n"
        + "figure line\n" * 30
        + "```\n\n</details>\n"
        for k in range(20)
    )
    for limit in (700, 1_500, 3_333):
        cut = truncate_markdown(text, limit)
        assert len(cut.encode("utf-8")) <= limit
        assert cut.count("<details>") == cut.count("</details>") > 0
        assert sum(line.startswith("```") for line in cut.splitlines()) % 2 == 0


def test_failures_listed_before_warnings_and_the_paradox_first():
    results = make_results()
    results.configs.reverse()  # the paradox config (wanda-50) last in model.yaml order
    text = render_markdown(results)
    details = text.split("### Failures and warnings", 1)[1]
    summaries = [line for line in details.splitlines() if line.startswith("<details>")]
    verdicts = [s.split(": ")[-1].split("<")[0] for s in summaries]
    assert "paradox" in summaries[0] and summaries[0].startswith("<details><summary>wanda-50 / Age")
    ranks = [0 if "paradox" in v else 1 if v.startswith("fail") else 2 for v in verdicts]
    assert ranks == sorted(ranks), verdicts
    assert 2 in ranks and 1 in ranks


def test_the_bound_level_quoted_is_the_deciding_looks() -> None:
    # With looks, h_ci is the deciding look's repeated confidence bound (level
    # 1 - pass_level); with one look, 1 - alpha. The sentences quote that level.
    import dataclasses

    from bias_gate.report.summary import evidence_sentence, failure_text

    config = make_results().configs[0]
    item = next(i for i in config.items if i.decision == "pass")
    assert item.looks > 1 and item.bound_alpha == item.pass_level
    assert f"{100 * (1 - item.pass_level):.4g}%" in evidence_sentence(item)
    single = dataclasses.replace(item, looks=1, look=1)
    assert single.bound_alpha == single.alpha
    assert "upper 95% bound" in evidence_sentence(single)
    assert "90% interval" in failure_text(config, single)
