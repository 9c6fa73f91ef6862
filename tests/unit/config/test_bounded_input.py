"""Hostile or broken model.yaml and threshold files (issue 26, findings 2 and 9): each is
one line at its file and line, found at load, with bounded work and memory."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from bias_gate.config.validated import load_gate_config
from bias_gate.config.yaml_source import MAX_ALIASES, MAX_NODES, MAX_YAML_BYTES, load_yaml
from bias_gate.errors import BaselineError, ConfigError
from bias_gate.gate.baseline import BaselineFile
from bias_gate.judge.thresholds import load_profile
from tests.support.hostile import laughs
from tests.unit.config.test_config import VALID, write


def refusal(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_yaml(path)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_alias_bomb_is_refused_with_bounded_memory(tmp_path):
    path = tmp_path / "laughs.yaml"
    path.write_text(laughs(6))  # 531,441 strings expanded: loaded whole before issue 26
    tracemalloc.start()
    try:
        message = refusal(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert message.startswith(f"{path}:6: more than {MAX_NODES} values"), message
    assert peak < 20 * 2**20, peak


def test_the_billion_laughs_is_refused(tmp_path):
    path = tmp_path / "laughs.yaml"
    path.write_text(laughs(9))
    assert f"more than {MAX_NODES} values" in refusal(path)


def test_too_many_aliases(tmp_path):
    path = tmp_path / "aliases.yaml"
    path.write_text("a: &a [x]\n" + "".join(f"k{i}: *a\n" for i in range(MAX_ALIASES + 5)))
    assert refusal(path).startswith(f"{path}:{MAX_ALIASES + 2}: more than {MAX_ALIASES}")


def test_a_few_aliases_and_merge_keys_still_load(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("base: &b {x: 1}\nc:\n  <<: *b\n  y: [1, *b]\n")
    doc = load_yaml(path)
    assert doc.data == {"base": {"x": 1}, "c": {"x": 1, "y": [1, {"x": 1}]}}
    assert doc.line_of(("c", "y")) == 4


def test_a_list_as_a_key_is_a_yaml_error_not_a_crash(tmp_path):
    path = tmp_path / "key.yaml"
    path.write_text("? [a, b]\n: 1\n")
    assert refusal(path).startswith(f"{path}:1: invalid YAML: found unhashable key")


def test_a_control_character_and_a_5000_digit_number_are_one_line(tmp_path):
    path = tmp_path / "ctrl.yaml"
    path.write_text('model:\n  name: "bell\x07"\n')
    assert refusal(path).startswith(f"{path}:2: character U+0007 is not allowed in YAML")
    path.write_text("n: " + "9" * 5000 + "\n")
    assert refusal(path).startswith(f"{path}: invalid YAML value (Exceeds the limit")


def test_oversized_file_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("#" * (MAX_YAML_BYTES + 1))
    assert refusal(path).startswith(f"{path}:1: file is {MAX_YAML_BYTES + 1} bytes, over")


def test_deep_nesting_is_refused(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("[" * 5000 + "]" * 5000)
    assert "nested deeper than" in refusal(path)


def test_duplicate_keys_name_both_lines(tmp_path, bbq_dir, wikitext_dir):
    text = VALID + "model:\n  gguf: other.gguf\n"
    path = write(tmp_path, text, bbq_dir, wikitext_dir)
    last = len(text.splitlines()) - 1
    with pytest.raises(ConfigError) as info:
        load_gate_config(path)
    assert str(info.value) == (
        f"{path}:{last}: key 'model' is given twice (lines 1 and {last}); keep one"
    )


def test_invalid_utf8_is_one_line_at_its_line(tmp_path):
    path = tmp_path / "model.yaml"
    path.write_bytes(b"model:\n  name: caf\xe9\ncompressions: []\n")
    with pytest.raises(ConfigError) as info:
        load_gate_config(path)
    assert str(info.value).startswith(f"{path}:2: not UTF-8 text: byte 0xe9 at column 12")


def test_threshold_profile_goes_through_the_same_bounds(tmp_path):
    path = tmp_path / "profile.yaml"
    path.write_text("max_cohens_h: 0.2\nmax_cohens_h: 0.5\n")
    with pytest.raises(ConfigError, match=r"profile\.yaml:2: key 'max_cohens_h' is given twice"):
        load_profile(str(path))


@pytest.mark.parametrize(
    ("template", "part"),
    [
        ("{nope} {a} {b} {c}", "unknown placeholder {nope}"),
        ("{context { {a} {b} {c}", "not a format string"),
        ("{a} {b} {c} }", "not a format string"),
        ("{a!r} {b} {c}", "takes no conversion or format"),
    ],
)
def test_prompt_template_is_checked_at_load(tmp_path, bbq_dir, wikitext_dir, template, part):
    path = write(tmp_path, VALID, bbq_dir, wikitext_dir)
    prompt = f"mode: permuted\n  prompt:\n    template: '{template}'"
    path.write_text(path.read_text().replace("mode: permuted", prompt))
    with pytest.raises(ConfigError) as info:
        load_gate_config(path)
    assert str(info.value).startswith(f"{path}:18: scoring.prompt.template: "), info.value
    assert part in str(info.value)


@pytest.mark.parametrize(("key", "what"), [("path", "checkpoint directory"), ("gguf", "GGUF file")])
def test_missing_checkpoint_is_found_at_load(tmp_path, bbq_dir, wikitext_dir, key, what):
    text = VALID.replace(
        "  - name: magnitude-50\n    method: magnitude\n    sparsity: 0.5\n",
        f"  - name: shipped\n    method: checkpoint\n    {key}: missing/{key}\n",
    )
    path = write(tmp_path, text, bbq_dir, wikitext_dir)
    with pytest.raises(ConfigError) as info:
        load_gate_config(path)
    assert str(info.value) == (
        f"{path}:14: compressions[1].{key}: {what} '{tmp_path}/missing/{key}' does not "
        "exist; fix the path (relative paths are relative to model.yaml)"
    )


@pytest.mark.parametrize(
    ("body", "part"),
    [
        (b'{"parts": "caf\xe9"}', ":1: not UTF-8 text: byte 0xe9 at column 15"),
        (b"[1, 2]", ": baseline is not a JSON object; delete it or rerun with"),
        (b"{", ": cannot read baseline (Expecting property name"),
    ],
)
def test_a_broken_baseline_file_is_one_line(tmp_path, body, part):
    path = tmp_path / "baseline.json"
    path.write_bytes(body)
    with pytest.raises(BaselineError) as info:
        BaselineFile(path).check({"model": "m"})
    assert str(info.value).startswith(f"{path}{part}"), info.value
