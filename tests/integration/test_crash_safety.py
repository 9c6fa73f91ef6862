"""Crash safety, proven: the real gate is killed with SIGKILL while it writes answers and
while it saves compressed weights, then rerun; the results equal those of a run that was
never interrupted, and the torn files the kills left behind are never read back.

The kills are injected by a conftest in the run's folder (test code, not the plugin's):
it wraps ``os.replace``, the rename that publishes every atomic write, and at the chosen
write cuts the finished temporary file in half (as a crash mid-write would leave it) and
sends the process SIGKILL, so the file is never renamed into place. The resumed run also
evicts (``--bias-gate-cache-max-size``), which changes no result either.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA
from tests.support.gate import save_tiny_model, without_timing

pytest_plugins = ["pytester"]

KILL_CONFTEST = """
import os
import signal
from pathlib import Path

_real_replace = os.replace
_target = os.environ.get("BIAS_GATE_TEST_KILL", "")
_seen = {"answers": 0}


def _due(destination):
    path = Path(destination)
    if _target.startswith("answers:") and path.name.startswith("shard-"):
        _seen["answers"] += 1
        return _seen["answers"] == int(_target.split(":")[1])
    return _target == "weights" and path.parent.name == "compressed" and (
        path.suffix == ".safetensors"
    )


def replace(source, destination, *args, **kwargs):
    if _due(destination):
        size = os.path.getsize(source)
        with open(source, "r+b") as handle:
            handle.truncate(size // 2)
        os.kill(os.getpid(), signal.SIGKILL)
    return _real_replace(source, destination, *args, **kwargs)


os.replace = replace
"""

CONFIG = """\
model:
  path: {model}
data:
  source: official
  categories: [Age]
compressions:
  - {{name: int8, method: rtn, bits: 8}}  # its weights are stored as packed int8 codes
scoring:
  mode: continuation
  batch_size: 8
perplexity:
  corpus: wikitext2:test
  window: 64
  windows: 4
thresholds:
  overrides:
    validity: {{max_disambig_pvalue: 1.0, max_letter_share: 1.0}}
"""


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory, tiny_llama) -> Path:
    return save_tiny_model(tiny_llama, tmp_path_factory.mktemp("crash") / "tiny-llama")


def _run(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    cache: Path,
    out: Path,
    kill: str = "",
    *extra: str,
) -> pytest.RunResult:
    monkeypatch.setenv("BIAS_GATE_TEST_KILL", kill)
    return pytester.runpytest_subprocess(
        "--bias-gate",
        str(pytester.path / "model.yaml"),
        "--bias-gate-data-dir",
        str(SHARED_DATA),
        "--bias-gate-limit",
        "24",
        "--bias-gate-cache-dir",
        str(cache),
        "--bias-gate-json",
        str(out),
        "-p",
        "no:cacheprovider",
        "-W",
        "ignore::DeprecationWarning",
        *extra,
    )


def _torn(folder: Path) -> list[Path]:
    return sorted(folder.rglob(".*.tmp"))


def test_sigkill_while_answering_and_while_saving_weights_changes_no_result(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tiny_model_dir: Path
):
    pytester.makeconftest(KILL_CONFTEST)
    (pytester.path / "model.yaml").write_text(CONFIG.format(model=tiny_model_dir))

    clean = pytester.path / "clean.json"
    _run(pytester, monkeypatch, pytester.path / "cache-clean", clean).assert_outcomes(passed=2)

    cache = pytester.path / "cache"
    out = pytester.path / "interrupted.json"
    # 24 dense items in batches of 8: killed while writing the second batch's shard.
    killed = _run(pytester, monkeypatch, cache, out, kill="answers:2")
    assert killed.ret == -signal.SIGKILL
    (folder,) = (cache / "answers").iterdir()
    assert len(list(folder.glob("shard-*"))) == 1
    (torn_answers,) = _torn(cache / "answers")
    assert torn_answers.name.startswith(".shard-")

    # The rerun resumes the dense answers, then is killed while saving the weights.
    killed = _run(pytester, monkeypatch, cache, out, kill="weights")
    assert killed.ret == -signal.SIGKILL
    (torn_weights,) = _torn(cache / "compressed")
    assert ".safetensors." in torn_weights.name
    assert not list((cache / "compressed").glob("*.safetensors"))
    assert not out.exists()

    # An older entry another config left; the resumed run cuts the cache down to 1 byte
    # when it ends: the old entry goes, what this run used stays, no result changes.
    for name in ("old.safetensors", "old.json"):
        (cache / "compressed" / name).write_bytes(b"{}")
        os.utime(cache / "compressed" / name, (1e9, 1e9))
    resumed = _run(pytester, monkeypatch, cache, out, "", "--bias-gate-cache-max-size", "1")
    resumed.assert_outcomes(passed=2)
    assert not list((cache / "compressed").glob("old.*"))
    assert without_timing(json.loads(out.read_text())) == without_timing(
        json.loads(clean.read_text())
    )
    # The torn temporary files are still there (younger than an hour), never read back;
    # every file under its final name is whole.
    assert set(_torn(cache)) == {torn_answers, torn_weights}
    for path in (cache / "answers").rglob("*.jsonl"):
        assert all(json.loads(line) for line in path.read_text().splitlines())
    (weights,) = (cache / "compressed").glob("*.safetensors")
    from bias_gate.compress.weight_store import stored_forms

    assert set(stored_forms(weights).values()) == {"packed"}
