"""The release workflow and the versions the docs tell adopters to use: the tag it
accepts is pyproject's version, the major tag it moves is the one the docs' ``uses:``
lines name. Its steps run for real in bash, with ``git`` a recording stand-in."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ROOT

RELEASE = ROOT / ".github" / "workflows" / "release.yml"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
VERSION = PROJECT["version"]
DOCS = [ROOT / "README.md", ROOT / "docs" / "github-actions.md"]
#: A ``uses:`` of this repository's action or reusable workflow in the docs.
USES = re.compile(r"uses: <owner>/<repo>(?:/\.github/workflows/bias-gate\.yml)?@([\w.-]+|<full)")


def _workflow() -> dict[str, Any]:
    return yaml.safe_load(RELEASE.read_text(encoding="utf-8"))


def _step(name: str) -> dict[str, Any]:
    (job,) = _workflow()["jobs"].values()
    return next(s for s in job["steps"] if s.get("name") == name)


def _run(step: dict[str, Any], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    environment = {**os.environ, **env, "GITHUB_OUTPUT": str(cwd / "github-output.txt")}
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=60,
    )


def _outputs(folder: Path) -> dict[str, str]:
    lines = (folder / "github-output.txt").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


def test_release_runs_on_a_published_release_and_may_push_tags():
    data = _workflow()
    on = data.get("on", data.get(True))
    assert on == {"release": {"types": ["published"]}}
    assert data["permissions"] == {"contents": "write"}
    attach = _step("Attach them to the release")
    assert "dist/*.whl" in attach["run"] and "dist/*.tar.gz" in attach["run"]
    assert "hatchling build" in _step("Build the sdist and the wheel")["run"]


def test_the_tag_must_be_the_pyproject_version(tmp_path):
    step = _step("Check the tag against the version")
    (tmp_path / "pyproject.toml").write_bytes((ROOT / "pyproject.toml").read_bytes())
    (tmp_path / "CHANGELOG.md").write_bytes((ROOT / "CHANGELOG.md").read_bytes())
    done = _run(step, tmp_path, {"TAG": f"v{VERSION}"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert _outputs(tmp_path) == {"version": VERSION, "major": f"v{VERSION.split('.')[0]}"}
    for wrong in (f"v{VERSION}.1", VERSION, "v99.0.0", f"v{VERSION}-rc1"):
        done = _run(step, tmp_path, {"TAG": wrong})
        assert done.returncode == 1, wrong
        assert f"::error title=release::tag '{wrong}' is not v{VERSION}" in done.stdout


def test_a_version_without_a_changelog_section_is_refused(tmp_path):
    step = _step("Check the tag against the version")
    (tmp_path / "pyproject.toml").write_bytes((ROOT / "pyproject.toml").read_bytes())
    (tmp_path / "CHANGELOG.md").write_text("# Changelog\n\n## 0.9.0\n")
    done = _run(step, tmp_path, {"TAG": f"v{VERSION}"})
    assert done.returncode == 1 and "CHANGELOG.md has no" in done.stdout


def test_the_major_tag_moved_is_the_one_the_docs_name(tmp_path):
    major = f"v{VERSION.split('.')[0]}"
    step = _step("Move the major tag")
    assert step["env"]["MAJOR"] == "${{ steps.version.outputs.major }}"
    assert "prerelease" in step["if"], "a pre-release must not move the major tag"
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "git").write_text('#!/bin/sh\necho "$*" >> "$CALLS"\n')
    (fake / "git").chmod(0o755)
    env = {"MAJOR": major, "GITHUB_SHA": "a" * 40, "CALLS": str(tmp_path / "calls.txt")}
    env["PATH"] = f"{fake}{os.pathsep}{os.environ['PATH']}"
    done = _run(step, tmp_path, env)
    assert done.returncode == 0, done.stderr
    calls = (tmp_path / "calls.txt").read_text().splitlines()
    assert calls == [f"tag -f {major} {'a' * 40}", f"push -f origin refs/tags/{major}"]

    refs = [ref for doc in DOCS for ref in USES.findall(doc.read_text(encoding="utf-8"))]
    assert refs, "the docs show no uses: line"
    pinned = [ref for ref in refs if re.fullmatch(r"[0-9a-f]{40}|<full", ref)]
    assert pinned, "no pinned-SHA variant in the docs"
    tags = {ref for ref in refs if ref not in pinned}
    assert major in tags and tags <= {major, f"v{VERSION}"}, tags
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for requirement in re.findall(r"git\+https://github\.com/<owner>/<repo>@(\S+?)\"", text):
            assert requirement in (major, f"v{VERSION}"), f"{doc.name}: @{requirement}"


def test_the_action_installs_its_own_checkout():
    """The version that runs is the version of the ref in the caller's ``uses:`` line."""
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    install = next(s for s in action["runs"]["steps"] if s.get("name") == "Install bias-gate")
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert 'pip install "$ACTION_PATH"' in install["run"]
