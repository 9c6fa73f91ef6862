"""Hostile inputs and failing storage through real pytest runs (issue 26, findings 2, 3,
4, 6, 9): each is one line, found before anything loads where it can be, and a run
writes nothing outside its cache and output paths."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.test_gate_run import gate_material, write_config  # noqa: F401
from tests.support.hostile import laughs

pytest_plugins = ["pytester"]

#: A method whose output file cannot be written, as a full disk fails a GGUF artifact.
FULL_DISK_CONFTEST = """
import errno

from bias_gate.compress import methods
from bias_gate.compress.base import CompressorOptions


class FullDisk:
    Options = CompressorOptions

    def compress(self, model, options, context):
        raise OSError(errno.ENOSPC, "No space left on device", "/cache/artifacts/m.gguf")


methods.register("full_disk", FullDisk)
"""

#: One config: each run here checks where things are written, not what is judged.
DENSE = "  - {name: dense, method: dense}\n"
OUTSIDE = ("HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def gate(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        *args, "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning", timeout=300
    )


def one_usage_line(result: pytest.RunResult, start: str) -> str:
    """The run stopped at configure with exit code 4 and one ``bias-gate:`` line."""
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stderr.str()
    lines = [line for line in result.stderr.lines if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"ERROR: bias-gate: {start}"), lines[0]
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    return lines[0]


def test_a_gate_run_writes_only_its_cache_and_outputs(pytester, gate_material, monkeypatch):  # noqa: F811
    config = write_config(pytester, gate_material, DENSE, items=40)
    outside = pytester.path.parent / f"{pytester.path.name}-outside"
    for name in OUTSIDE:
        folder = outside / name.lower()
        folder.mkdir(parents=True)
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR)  # read-only (root writes anyway: listed)
        monkeypatch.setenv(name, str(folder))
    monkeypatch.delenv("MPLCONFIGDIR", raising=False)
    # Only bias-gate is judged here: other pytest plugins installed beside it (CI's
    # Python has pytest-benchmark, which makes ``.benchmarks``) are not loaded.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    before = set(files_under(pytester.path))
    cache, out = pytester.path / "cache", pytester.path / "out"
    result = gate(
        pytester,
        "-p",
        "bias_gate.plugin",
        "--bias-gate",
        str(config),
        "--bias-gate-cache-dir",
        str(cache),
        "--bias-gate-json",
        str(out / "r.json"),
        "--bias-gate-html",
        str(out / "r.html"),
        "--bias-gate-plots",
        str(out / "plots"),
    )
    result.assert_outcomes(passed=2)
    assert files_under(outside) == [name.lower() for name in sorted(OUTSIDE)]
    new = set(files_under(pytester.path)) - before
    pytesters_own = ("runpytest-", "stdout", "stderr", "__pycache__")
    strays = sorted(p for p in new if not p.startswith(("cache", "out", *pytesters_own)))
    assert strays == [], strays
    assert (cache / "matplotlib").is_dir()  # matplotlib's config dir, inside the cache
    assert json.loads((out / "r.json").read_text())["configs"]


def test_an_unwritable_cache_and_a_file_size_limit_are_warnings_and_the_run_goes_on(
    pytester,
    gate_material,  # noqa: F811
):
    """A cache under a file (a temporary stand-in, removed at the end) and, on top,
    ``ulimit -f`` (8 KiB): the compressed weights cannot be cached (safetensors' own
    error; the tiny model's int8 codes, a byte a weight, exceed it, where a pruned
    model's bitmask would not)."""
    compressions = (
        "  - {name: int8, method: rtn, bits: 8}\n  - {name: full-disk, method: full_disk}\n"
    )
    config = write_config(pytester, gate_material, compressions, items=40)
    pytester.makeconftest(FULL_DISK_CONFTEST)
    afile, tmp = pytester.path / "afile", pytester.path / "tmp"
    afile.write_text("a file, not a folder")
    tmp.mkdir()
    command = (
        "ulimit -f 16 && exec "
        f"{sys.executable} -m pytest --bias-gate {config} --bias-gate-cache-dir {afile}/c "
        "-p no:cacheprovider -W ignore::DeprecationWarning"
    )
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=pytester.path,
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp)},
        timeout=600,
    )
    text = done.stdout + done.stderr
    warned = [line for line in done.stdout.splitlines() if "cannot be written" in line]
    assert warned and warned[0].startswith(
        f"bias-gate: warning: cache folder {afile}/c cannot be written (Not a directory); "
        f"this run caches nothing there and uses the temporary folder {tmp}/bias-gate-cache-"
    )
    assert "could not cache compressed weights" in text and "File too large" in text
    # A file the run needs cannot be written: its items fail, each in one line.
    failures = [line for line in done.stdout.splitlines() if "file system error" in line]
    assert failures and failures[0] == (
        "bias-gate: file system error (No space left on device) at /cache/artifacts/m.gguf; "
        "free space, raise the file-size limit or give a writable --bias-gate-cache-dir"
    )
    assert "2 failed, 2 passed" in done.stdout.splitlines()[-1]
    for error in ("Traceback", "NotADirectoryError", "SafetensorError"):
        assert error not in text, text[-3000:]
    assert list(tmp.iterdir()) == []  # the stand-in is gone


def test_a_billion_laughs_model_yaml_is_refused_at_once(pytester):
    path = pytester.path / "laughs.yaml"
    # 4.8 million strings: unbounded, the loader took seconds and a GB (the billion, 9
    # levels, is refused as fast: tests/unit/config/test_bounded_input.py).
    path.write_text(laughs(7))
    result = gate(pytester, "--bias-gate", str(path), "--collect-only")
    one_usage_line(result, f"{path}:6: more than 100000 values with aliases expanded")


def test_a_model_yaml_that_is_not_utf8_is_a_usage_line_not_an_internal_error(pytester):
    path = pytester.path / "model.yaml"
    path.write_bytes(b"model:\n  name: \xff\ncompressions: []\n")
    result = gate(pytester, "--bias-gate", str(path), "--collect-only")
    one_usage_line(result, f"{path}:2: not UTF-8 text: byte 0xff")


def test_a_missing_checkpoint_is_found_before_anything_loads(pytester, gate_material):  # noqa: F811
    compressions = "  - {name: shipped, method: checkpoint, path: no/such/dir}\n"
    config = write_config(pytester, gate_material, compressions)
    result = gate(pytester, "--bias-gate", str(config), "--collect-only")
    one_usage_line(
        result, f"{config}:8: compressions[0].path: checkpoint directory '{pytester.path}/no"
    )
