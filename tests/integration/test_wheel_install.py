"""What an adopter installs: the sdist and the wheel built from it, installed into a new
virtual environment outside the checkout, run a real gate there.

The new environment gets its dependencies (torch and co.) from this one without
downloading anything: its site-packages holds a ``.pth`` line adding a folder of links to
this environment's site-packages, minus every bias-gate entry (the checkout's editable
install and its metadata), so ``bias_gate``, its entry points (the pytest plugin, the
command, the registries) and its data files (the threshold profiles) can only come from
the wheel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.support.gate import save_tiny_model, write_crafted_bbq

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
VERSION = PROJECT["version"]

TINY = """\
model:
  path: {model}
data:
  source: {data}
  categories: [Age]
  items_per_category: 24
compressions:
  - {{name: int8, method: rtn, bits: 8}}
scoring:
  mode: continuation
  batch_size: 16
perplexity:
  corpus: {corpus}
  window: 64
  windows: 2
thresholds:
  profile: default
  overrides:
    validity: {{max_disambig_pvalue: 1.0, max_letter_share: 1.0}}
"""


def _ours(name: str) -> bool:
    return "bias_gate" in name or "bias-gate" in name


def _build(out: Path) -> tuple[Path, Path]:
    """The sdist from the checkout, then the wheel from the sdist (as ``python -m build``
    does), both with the installed hatchling and no network."""
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (sdist,) = out.glob("pytest_bias_gate-*.tar.gz")
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*pip, "--no-index", "-w", str(out), str(sdist)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("pytest_bias_gate-*.whl")
    return sdist, wheel


def _new_venv(folder: Path) -> Path:
    """A venv whose dependencies are this environment's, bias-gate excluded; its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    deps = folder / "deps"
    deps.mkdir()
    ours = Path(sysconfig.get_path("purelib"))
    for entry in ours.iterdir():
        if not _ours(entry.name):
            (deps / entry.name).symlink_to(entry)
    (Path(site) / "_deps.pth").write_text(f"import site; site.addsitedir({str(deps)!r})\n")
    return python


def _run(args: list[str], cwd: Path, venv: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYTEST"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"
    env["OMP_NUM_THREADS"] = "1"
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_sdist_and_wheel_install_outside_the_checkout_and_run_a_gate(
    tmp_path, tiny_llama, wikitext_dir
):
    sdist, wheel = _build(tmp_path / "dist")
    assert wheel.name == f"pytest_bias_gate-{VERSION}-py3-none-any.whl"
    with tarfile.open(sdist) as archive:
        in_sdist = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"pyproject.toml", "thresholds/default.yaml", "bias_gate/plugin.py"} <= in_sdist
    names = zipfile.ZipFile(wheel).namelist()
    profiles = sorted(p.name for p in (ROOT / "thresholds").glob("*.yaml"))
    shipped = sorted(n.rsplit("/", 1)[1] for n in names if n.startswith("bias_gate/_thresholds/"))
    assert shipped == profiles
    assert "bias_gate/py.typed" in names  # type checkers read the annotations
    assert not [n for n in names if n.startswith(("tests/", "docs/", "thresholds/"))]

    venv = tmp_path / "venv"
    python = _new_venv(venv)
    work = tmp_path / "adopter"  # not the checkout: nothing there to import by accident
    work.mkdir()
    done = _run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], work, venv)
    assert done.returncode == 0, done.stderr
    where = (
        "import bias_gate, importlib.metadata as m; print(bias_gate.__file__); "
        "print(m.version('pytest-bias-gate')); "
        "print(*sorted(e.value for e in m.entry_points(group='pytest11')))"
    )
    done = _run([str(python), "-c", where], work, venv)
    assert done.returncode == 0, done.stderr
    location, version, plugins = done.stdout.splitlines()
    assert Path(location).is_relative_to(venv / "lib"), location
    assert version == VERSION and "bias_gate.plugin" in plugins.split()
    done = _run([str(venv / "bin" / "bias-gate"), "--version"], work, venv)
    assert done.stdout.strip() == f"bias-gate {VERSION}", done.stdout + done.stderr

    model = save_tiny_model(tiny_llama, work / "tiny-llama")
    data = work / "bbq"
    write_crafted_bbq(data, templates=12)
    config = work / "tiny.yaml"
    corpus = wikitext_dir / "test.txt"
    config.write_text(TINY.format(model=model, data=data, corpus=corpus), encoding="utf-8")
    args = [str(python), "-m", "pytest", "--bias-gate", "tiny.yaml", "-p", "no:cacheprovider"]
    args += ["--bias-gate-json", "results.json", "--bias-gate-cache-dir", "cache"]
    args += ["-W", "ignore::DeprecationWarning", "-rA"]
    done = _run(args, work, venv)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert f"bias-gate-{VERSION}" in done.stdout  # pytest's header: the plugin's distribution
    assert "tiny.yaml::int8::perplexity" in done.stdout and "tiny.yaml::int8::Age" in done.stdout
    results = json.loads((work / "results.json").read_text(encoding="utf-8"))
    run = results["run"]
    assert run["libraries"]["pytest-bias-gate"] == VERSION
    assert run["bias_gate_version"] == VERSION
    assert run["thresholds"]["profile"] == "default"  # read from bias_gate/_thresholds
    (config_result,) = results["configs"]
    assert [item["category"] for item in config_result["items"]] == ["Age"]


@pytest.mark.parametrize("name", ["llama", "quant", "test"])
def test_the_extras_the_docs_name_exist(name):
    assert name in PROJECT["optional-dependencies"]
    assert PROJECT["name"] == "pytest-bias-gate"
    assert f"pytest-bias-gate[{name}]" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_package_version_is_the_distribution_version():
    import bias_gate

    assert bias_gate.__version__ == VERSION
