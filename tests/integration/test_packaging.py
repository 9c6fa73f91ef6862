"""The wheel ships the threshold profiles (the installed package finds them) and the
``py.typed`` marker (type checkers read its annotations)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_wheel_ships_threshold_profiles(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
    )
    (wheel,) = tmp_path.glob("bias_gate-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "bias_gate/py.typed" in names
    shipped = sorted(p.name for p in (ROOT / "thresholds").glob("*.yaml"))
    assert sorted(n.rsplit("/", 1)[1] for n in names if n.startswith("bias_gate/_thresholds/")) == (
        shipped
    )
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    code = (
        "import bias_gate.judge.thresholds as t; "
        "print(t.profiles_dir()); print(','.join(t.available_profiles()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,  # not the checkout: "" on sys.path would import it instead
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert Path(out[0]).is_relative_to(target)
    assert out[1] == "default,paper,strict"
