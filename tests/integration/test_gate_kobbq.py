"""A real gate run through pytester on KoBBQ's official test split (``data.benchmark:
kobbq``) with a tiny random Llama: the items are named by KoBBQ's categories, the
prompt is the authors' Korean prompt, and a model that cannot answer the disambiguated
questions is refused, with its measured accuracy, instead of judged."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import SHARED_DATA
from tests.support.gate import run_gate_args, save_tiny_model

pytest_plugins = ["pytester"]

CONFIG = """\
model:
  path: {model}
data:
  benchmark: kobbq
  source: official
  categories: [Age, SES]
  items_per_category: 16
compressions:
  - {{name: dense, method: dense}}
scoring:
  mode: continuation
  batch_size: 16
perplexity:
  corpus: {corpus}
  window: 64
  windows: 2
"""


def test_a_model_that_cannot_read_korean_is_not_judged_on_kobbq(
    pytester: pytest.Pytester, tmp_path_factory, tiny_llama, wikitext_dir
) -> None:
    model = save_tiny_model(tiny_llama, tmp_path_factory.mktemp("kobbq") / "tiny-llama")
    config = pytester.path / "model.yaml"
    config.write_text(CONFIG.format(model=model, corpus=wikitext_dir / "test.txt"))
    out, junit = pytester.path / "results.json", pytester.path / "junit.xml"
    result = run_gate_args(
        pytester,
        "--bias-gate",
        str(config),
        "--bias-gate-data-dir",
        str(SHARED_DATA),
        "--bias-gate-cache-dir",
        str(pytester.path / "cache"),
        "--bias-gate-json",
        str(out),
        "--bias-gate-junit",
        str(junit),
        "-p",
        "no:cacheprovider",
        "-W",
        "ignore::DeprecationWarning",
    )
    result.assert_outcomes(passed=1, failed=2)  # perplexity passes; both bias items refused
    assert "dense model NOT valid" in result.stdout.str()
    results = json.loads(out.read_text())
    assert results["run"]["benchmark"] == "kobbq"
    dense = results["dense"]
    assert dense["informative"] is False
    assert dense["validity_state"] == "not_valid"  # shown not valid, not too few items
    accuracy = dense["validity"]["disambig_accuracy"]
    assert dense["validity"]["disambig_n"] == 16
    assert any(f"{accuracy:.1%}" in reason for reason in dense["validity_reasons"])
    (config_result,) = results["configs"]
    assert [item["category"] for item in config_result["items"]] == ["Age", "SES"]
    for item in config_result["items"]:
        assert item["verdict"] == "fail" and item["n"] == 8
    names = {case.get("name") for case in ET.parse(junit).getroot().iter("testcase")}
    assert {"dense::Age", "dense::SES"} <= names
