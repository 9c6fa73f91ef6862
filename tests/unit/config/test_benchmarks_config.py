"""``data.benchmarks`` in model.yaml: categories expand to gate categories benchmark by
benchmark (BBQ's plain, another's ``<benchmark>/<Category>``), each benchmark keeps its
own prompt, and each bad entry is one line naming file, line and key."""

from __future__ import annotations

import pytest

from bias_gate.config.schema import DEFAULT_TEMPLATE
from bias_gate.config.validated import load_gate_config
from bias_gate.errors import ConfigError
from tests.unit.config.test_config import VALID, write

BOTH = VALID.replace(
    "  categories: [Age, Religion]",
    "  benchmarks: [bbq, kobbq]\n  categories: [Age, kobbq/Religion, Race_ethnicity]",
)


def test_categories_expand_per_benchmark_and_each_keeps_its_prompt(tmp_path, bbq_dir, wikitext_dir):
    text = BOTH + "  categories: {{kobbq/Age: {{max_cohens_h: 0.3}}}}\n"
    config = load_gate_config(write(tmp_path, text, bbq_dir, wikitext_dir))
    spec = config.spec
    assert spec.data.categories == ["Age", "Race_ethnicity", "kobbq/Age", "kobbq/Religion"]
    assert spec.benchmark_prompts["bbq"].template == DEFAULT_TEMPLATE
    assert "정답" in spec.benchmark_prompts["kobbq"].template
    assert spec.scoring.prompt.template == DEFAULT_TEMPLATE  # the first one's
    assert config.thresholds.for_category("kobbq/Age").max_cohens_h == 0.3
    assert config.thresholds.for_category("Age").max_cohens_h == 0.2


@pytest.mark.parametrize(
    ("old", "new", "key", "part"),
    [
        ("kobbq/Religion", "Klingon", "data.categories[1]", "no benchmark of data.benchmarks"),
        ("kobbq/Religion", "cbbq/Age", "data.categories[1]", "which data.benchmarks does not"),
        ("kobbq/Religion", "kobbq/Nationality", "data.categories[1]", "of benchmark 'kobbq'"),
        ("[bbq, kobbq]", "[bbq, cbbq]", "data.benchmarks", "unknown benchmark 'cbbq'"),
        ("[bbq, kobbq]", "[bbq, bbq]", "data.benchmarks", "must not repeat"),
        ("  benchmarks:", "  benchmark: bbq\n  benchmarks:", "data.benchmark", "not both"),
    ],
)
def test_a_bad_benchmarks_entry_is_one_line(tmp_path, bbq_dir, wikitext_dir, old, new, key, part):
    path = write(tmp_path, BOTH.replace(old, new, 1), bbq_dir, wikitext_dir)
    with pytest.raises(ConfigError) as info:
        load_gate_config(path)
    (line,) = str(info.value).splitlines()
    assert f": {key}" in line and part in line and line.startswith(f"{path}:"), line
