"""One identity per measurement: every input that determines a result changes its key,
nothing else does, and no path enters a key.

The table changes exactly one input of a real config (model.yaml on disk, a tiny Llama
model directory, real BBQ lines, real WikiText text) and checks which of the keys of
:meth:`GateRun.measurement_keys` change: exactly the ones that input determines.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import bias_gate.fingerprint as fingerprint_module
from bias_gate.config.validated import load_gate_config
from bias_gate.gate.options import GateOptions
from bias_gate.gate.runner import GateRun
from tests.support.gate import save_tiny_model

CONFIG = """\
model:
  path: model
data:
  source: bbq
  categories: [Age]
  items_per_category: 20
compressions:
  - {compression}
scoring:
  mode: permuted
  batch_size: 16
  max_batch_tokens: 1024
perplexity:
  corpus: corpus.txt
  window: 64
  windows: 4
output:
  json: out/results.json
"""

MAGNITUDE = "{name: c, method: magnitude, sparsity: 0.5}"
WANDA = "{name: c, method: wanda, sparsity: 0.5, calibration: {corpus: calibration.txt}}"
CHECKPOINT = "{name: c, method: checkpoint, path: ckpt}"
TORCHAO = "{name: c, method: torchao, scheme: int8_weight_only}"
QUANTO = "{name: c, method: quanto, weights: int8}"

ALL = frozenset({"compressed_weights", "answers", "perplexity", "baseline", "dense_answers"})
COMPRESSED = frozenset({"compressed_weights", "answers", "perplexity"})
ANSWERS = frozenset({"answers", "baseline", "dense_answers"})
PERPLEXITY = frozenset({"perplexity", "baseline"})
NOTHING: frozenset[str] = frozenset()
TEMPLATE = "Q: {context} {question} (a) {a} (b) {b} (c) {c}"


@dataclass
class Material:
    """A gate set-up on disk: model.yaml and every file it names."""

    root: Path
    other_weights: Path
    compression: str = MAGNITUDE

    @property
    def config(self) -> Path:
        return self.root / "model.yaml"

    def write(self, text: str | None = None) -> None:
        self.config.write_text(text or CONFIG.format(compression=self.compression))

    def edit(self, old: str, new: str) -> None:
        text = self.config.read_text()
        assert old in text, old
        self.config.write_text(text.replace(old, new, 1))

    def keys(self) -> dict[str, str | None]:
        config = load_gate_config(self.config)
        options = GateOptions(config_paths=(self.config,), data_dir=self.root / "shared")
        return GateRun(config, options).measurement_keys("c")


@pytest.fixture(scope="module")
def template(tmp_path_factory, tiny_llama, bbq_dir, wikitext_dir) -> Path:
    """Model and checkpoint directories (the tiny Llama), a second set of weights of the
    same shape, 200 real BBQ lines, real WikiText text for perplexity and calibration."""
    import torch
    from transformers import LlamaForCausalLM

    root = tmp_path_factory.mktemp("identity-template")
    save_tiny_model(tiny_llama, root / "model")
    save_tiny_model(tiny_llama, root / "ckpt")
    torch.manual_seed(1)
    other = LlamaForCausalLM(tiny_llama.model.config)
    other.save_pretrained(root / "other-weights", safe_serialization=True)
    (root / "bbq").mkdir()
    lines = (bbq_dir / "Age.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (root / "bbq" / "Age.jsonl").write_text("".join(lines[:200]), encoding="utf-8")
    text = (wikitext_dir / "valid.txt").read_text(encoding="utf-8")
    (root / "corpus.txt").write_text(text[:20_000], encoding="utf-8")
    (root / "calibration.txt").write_text(text[20_000:40_000], encoding="utf-8")
    (root / "shared" / "wikitext-2").mkdir(parents=True)
    for split in ("valid", "test"):
        shutil.copy(wikitext_dir / f"{split}.txt", root / "shared" / "wikitext-2")
    return root


@pytest.fixture
def material(template: Path, tmp_path: Path) -> Callable[[str], Material]:
    def make(compression: str) -> Material:
        root = tmp_path / "setup"
        shutil.copytree(template, root)
        made = Material(root=root, other_weights=root / "other-weights", compression=compression)
        made.write()
        return made

    return make


def _overwrite_weights(folder: str) -> Callable[[Material, pytest.MonkeyPatch], None]:
    def change(m: Material, _mp: pytest.MonkeyPatch) -> None:
        shutil.copy(m.other_weights / "model.safetensors", m.root / folder / "model.safetensors")

    return change


def _edit(old: str, new: str) -> Callable[[Material, pytest.MonkeyPatch], None]:
    return lambda m, _mp: m.edit(old, new)


def _append(name: str, text: str) -> Callable[[Material, pytest.MonkeyPatch], None]:
    def change(m: Material, _mp: pytest.MonkeyPatch) -> None:
        with (m.root / name).open("a", encoding="utf-8") as handle:
            handle.write(text)

    return change


def _replace(name: str, old: str, new: str) -> Callable[[Material, pytest.MonkeyPatch], None]:
    def change(m: Material, _mp: pytest.MonkeyPatch) -> None:
        path = m.root / name
        text = path.read_text(encoding="utf-8")
        assert old in text, old
        path.write_text(text.replace(old, new), encoding="utf-8")

    return change


def _move(name: str) -> Callable[[Material, pytest.MonkeyPatch], None]:
    """The same file or folder, somewhere else, named there by an absolute path."""

    def change(m: Material, _mp: pytest.MonkeyPatch) -> None:
        target = m.root / "elsewhere" / name
        target.parent.mkdir()
        shutil.move(m.root / name, target)
        text = m.config.read_text()
        for form in (f"corpus: {name}", f"path: {name}", f"source: {name}"):
            text = text.replace(form, form.replace(name, str(target)))
        m.config.write_text(text)

    return change


def _version(library: str) -> Callable[[Material, pytest.MonkeyPatch], None]:
    def change(_m: Material, mp: pytest.MonkeyPatch) -> None:
        real = fingerprint_module.installed_version
        mp.setattr(
            fingerprint_module,
            "installed_version",
            lambda name: "999.0" if name == library else real(name),
        )

    return change


MODE = "mode: permuted"
ITEMS = "items_per_category: 20"


def _scoring(extra: str) -> Callable[[Material, pytest.MonkeyPatch], None]:
    return _edit(MODE, f"{MODE}\n  {extra}")


#: (id, base compression, change, keys that must change)
CASES = [
    # The model, by content.
    ("model-weights-rewritten-in-place", MAGNITUDE, _overwrite_weights("model"), ALL),
    ("model-dtype", MAGNITUDE, _edit("path: model", "path: model\n  dtype: bfloat16"), ALL),
    ("model-moved", MAGNITUDE, _move("model"), NOTHING),
    # The compression: method, each option, the method's inputs.
    ("method", MAGNITUDE, _edit("method: magnitude", "method: random"), COMPRESSED),
    ("sparsity", MAGNITUDE, _edit("sparsity: 0.5", "sparsity: 0.4"), COMPRESSED),
    ("pattern", MAGNITUDE, _edit("0.5", "0.5, pattern: '2:4'"), COMPRESSED),
    ("targets", MAGNITUDE, _edit("0.5", "0.5, targets: [q_proj]"), COMPRESSED),
    ("seed", MAGNITUDE, _edit("0.5", "0.5, seed: 3"), COMPRESSED),
    ("calibration-samples", WANDA, _edit("n.txt", "n.txt, samples: 8"), COMPRESSED),
    ("calibration-text", WANDA, _append("calibration.txt", " more text"), COMPRESSED),
    ("calibration-moved", WANDA, _move("calibration.txt"), NOTHING),
    ("calibration-named", WANDA, _edit("calibration.txt", "wikitext2:valid"), COMPRESSED),
    ("checkpoint-rewritten-in-place", CHECKPOINT, _overwrite_weights("ckpt"), COMPRESSED),
    ("checkpoint-tokenizer", CHECKPOINT, _append("ckpt/tokenizer_config.json", "\n"), COMPRESSED),
    ("checkpoint-moved", CHECKPOINT, _move("ckpt"), NOTHING),
    ("checkpoint-dtype", CHECKPOINT, _edit("ckpt", "ckpt, dtype: float16"), COMPRESSED),
    # The libraries that compute it.
    ("torch-version", MAGNITUDE, _version("torch"), ALL),
    ("transformers-version", MAGNITUDE, _version("transformers"), ALL),
    ("torchao-version", TORCHAO, _version("torchao"), COMPRESSED),
    ("torchao-version-unused", MAGNITUDE, _version("torchao"), NOTHING),
    ("quanto-version", QUANTO, _version("optimum-quanto"), COMPRESSED),
    # The items.
    ("items-per-category", MAGNITUDE, _edit(ITEMS, "items_per_category: 21"), ANSWERS),
    ("items-seed", MAGNITUDE, _edit(ITEMS, f"{ITEMS}\n  seed: 4"), ANSWERS),
    (
        "items-content",
        MAGNITUDE,
        _replace("bbq/Age.jsonl", '"context": "', '"context": "So. '),
        ANSWERS,
    ),
    ("bbq-moved", MAGNITUDE, _move("bbq"), NOTHING),
    # Prompt and scoring.
    ("scoring-mode", MAGNITUDE, _edit(MODE, "mode: letter"), ANSWERS),
    ("prompt-system", MAGNITUDE, _scoring("prompt: {system: Hi.}"), ANSWERS),
    ("prompt-chat-template", MAGNITUDE, _scoring("prompt: {chat_template: false}"), ANSWERS),
    ("prompt-template", MAGNITUDE, _scoring(f"prompt: {{template: {TEMPLATE!r}}}"), ANSWERS),
    ("normalize", MAGNITUDE, _scoring("continuation_normalize: sum"), ANSWERS),
    ("generate-temperature", MAGNITUDE, _scoring("generate: {temperature: 0.3}"), ANSWERS),
    ("generate-seeds", MAGNITUDE, _scoring("generate: {seeds: [0, 1]}"), ANSWERS),
    ("generate-max-new-tokens", MAGNITUDE, _scoring("generate: {max_new_tokens: 7}"), ANSWERS),
    # Perplexity.
    ("corpus-text", MAGNITUDE, _append("corpus.txt", " more text"), PERPLEXITY),
    ("corpus-window", MAGNITUDE, _edit("window: 64", "window: 128"), PERPLEXITY),
    ("corpus-windows", MAGNITUDE, _edit("windows: 4", "windows: 5"), PERPLEXITY),
    ("corpus-moved", MAGNITUDE, _move("corpus.txt"), NOTHING),
    # What changes no result.
    ("batch-size", MAGNITUDE, _edit("batch_size: 16", "batch_size: 3"), NOTHING),
    (
        "max-batch-tokens",
        MAGNITUDE,
        _edit("max_batch_tokens: 1024", "max_batch_tokens: 256"),
        NOTHING,
    ),
    ("output-path", MAGNITUDE, _edit("json: out/results.json", "json: elsewhere/r.json"), NOTHING),
    ("thresholds", MAGNITUDE, _edit("output:", "thresholds: {profile: strict}\noutput:"), NOTHING),
    ("measure", MAGNITUDE, _edit("output:", "measure: {storage: true}\noutput:"), NOTHING),
]


@pytest.mark.parametrize(
    ("compression", "change", "changed"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_input_changes_exactly_its_keys(material, monkeypatch, compression, change, changed):
    if "quanto" in compression:
        pytest.importorskip("optimum.quanto")
        pytest.importorskip("bias_gate_quanto")
    setup = material(compression)
    before = setup.keys()
    change(setup, monkeypatch)
    after = setup.keys()
    differ = {kind for kind in before if before[kind] != after[kind]}
    assert differ == changed


def test_keys_hold_no_path_and_are_the_same_in_another_folder(material, tmp_path):
    for compression in (MAGNITUDE, WANDA, CHECKPOINT):
        first = material(compression)
        keys = first.keys()
        moved = tmp_path / "moved-setup"
        shutil.move(first.root, moved)
        second = Material(root=moved, other_weights=moved / "other-weights")
        assert second.keys() == keys
        shutil.rmtree(moved)


def test_perplexity_off_has_no_perplexity_key(material):
    setup = material(MAGNITUDE)
    setup.edit("perplexity:\n", "perplexity:\n  enabled: false\n")
    assert setup.keys()["perplexity"] is None
