"""All the problems of a model.yaml in one run, one line each (not one per run)."""

from __future__ import annotations

import pytest

from bias_gate.config.validated import load_gate_config
from bias_gate.config.validation import ConfigErrors
from bias_gate.errors import ConfigError

THREE_TYPOS = """\
model:
  path: {model}
data:
  source: official
  item_per_category: 40
compressions:
  - {{name: wanda-50, method: wanda, sparsty: 0.5}}
  - {{name: int8, method: rtn, bits: 8}}
  - {{name: mag, method: magnitude, sparsity: 50}}
scoring:
  mod: continuation
"""


def _write(tmp_path, text: str):
    (tmp_path / "tiny").mkdir()
    path = tmp_path / "model.yaml"
    path.write_text(text.format(model=tmp_path / "tiny"), encoding="utf-8")
    return path


def test_every_problem_at_once_in_line_order(tmp_path):
    """Schema typos, a method option's typo and range, and an unknown category: one
    run, one line each, in the file's order (issue 25: not one 8-second run per typo)."""
    path = _write(
        tmp_path,
        THREE_TYPOS.replace("source: official", "source: official\n  categories: [Age, Religon]"),
    )
    with pytest.raises(ConfigErrors) as caught:
        load_gate_config(path)
    lines = str(caught.value).splitlines()
    assert [line.split(": ", 2)[1] for line in lines] == [
        "data.categories[1]",
        "data.item_per_category",
        "compressions[0].sparsty",
        "compressions[2].sparsity",
        "scoring.mod",
    ]
    assert lines[0].startswith(f"{path}:5: data.categories[1]: unknown category 'Religon'")
    assert lines[1].startswith(f"{path}:6: data.item_per_category: unknown key; allowed keys")
    assert lines[4].startswith(f"{path}:12: scoring.mod: unknown key")
    assert all(line.startswith(f"{path}:") for line in lines)
    # What code reading one error sees: the first problem.
    assert (caught.value.line, caught.value.key) == (5, "data.categories[1]")


def test_every_compression_problem_at_once(tmp_path):
    text = THREE_TYPOS.replace("  item_per_category: 40\n", "").replace("  mod:", "  mode:")
    path = _write(tmp_path, text)
    with pytest.raises(ConfigErrors) as caught:
        load_gate_config(path)
    lines = str(caught.value).splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"{path}:6: compressions[0].sparsty: unknown key")
    assert lines[1].startswith(f"{path}:8: compressions[2].sparsity: sparsity must be a fraction")


def test_one_problem_is_one_plain_error(tmp_path):
    text = THREE_TYPOS.replace("  item_per_category: 40\n", "").replace("  mod:", "  mode:")
    path = _write(
        tmp_path, text.replace("sparsty", "sparsity").replace("sparsity: 50", "sparsity: 0.5")
    )
    load_gate_config(path)  # valid now
    path.write_text(path.read_text().replace("bits: 8", "bits: 7"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_gate_config(path)
    assert not isinstance(caught.value, ConfigErrors) and "\n" not in str(caught.value)
