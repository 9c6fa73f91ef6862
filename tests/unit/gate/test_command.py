"""The gate's command line, built by one helper, is what the plugin's own options read."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bias_gate.gate.command import gate_args, gate_command


def test_the_plugin_reads_back_every_argument(pytester: pytest.Pytester, tmp_path: Path):
    args = gate_args(
        tmp_path / "model.yaml",
        data_dir=tmp_path / "data",
        cache_dir=tmp_path / "cache",
        json_out=tmp_path / "results.json",
        limit=40,
        extra=["--bias-gate-looks", "1"],
    )
    config = pytester.parseconfig(*args)
    assert config.getoption("--bias-gate") == [str(tmp_path / "model.yaml")]
    assert config.getoption("--bias-gate-data-dir") == str(tmp_path / "data")
    assert config.getoption("--bias-gate-cache-dir") == str(tmp_path / "cache")
    assert config.getoption("--bias-gate-json") == str(tmp_path / "results.json")
    assert config.getoption("--bias-gate-limit") == 40
    assert config.getoption("--bias-gate-looks") == 1
    assert config.pluginmanager.is_blocked("cacheprovider")


def test_no_limit_means_no_limit_option(tmp_path: Path):
    args = gate_args(
        tmp_path / "m.yaml", data_dir=tmp_path, cache_dir=tmp_path, json_out=tmp_path / "r.json"
    )
    assert "--bias-gate-limit" not in args
    command = gate_command(
        tmp_path / "m.yaml", data_dir=tmp_path, cache_dir=tmp_path, json_out=tmp_path / "r.json"
    )
    assert command == [sys.executable, "-m", "pytest", *args]
