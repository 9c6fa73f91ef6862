"""Reports all or none (bias_gate.report.staging): staged under their own names, renamed
together, nothing renamed when one target cannot take its file, stale stages removed."""

from __future__ import annotations

import os

import pytest

from bias_gate.errors import BiasGateError
from bias_gate.report.staging import STALE_STAGE_S, Staging, check_output


def test_commit_renames_all_and_a_folder_in_the_way_renames_none(tmp_path):
    with Staging() as staging:
        staging.path(tmp_path / "a.json", "json").write_text("a")
        staged = staging.path(tmp_path / "b.md", "markdown")
        staged.write_text("b")
        assert staging.final(staged) == tmp_path / "b.md"
        staging.commit()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.md"]
    (tmp_path / "c.html").mkdir()
    with pytest.raises(IsADirectoryError), Staging() as staging:
        staging.path(tmp_path / "a.json", "json").write_text("new")
        staging.path(tmp_path / "c.html", "html").write_text("c")
        staging.commit()
    assert (tmp_path / "a.json").read_text() == "a"  # not replaced: nothing was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.md", "c.html"]


def test_a_stale_stage_is_removed_a_fresh_one_kept(tmp_path):
    old, fresh = tmp_path / ".r.json.x1.stage", tmp_path / ".r.json.x2.stage"
    for folder in (old, fresh):
        folder.mkdir()
        (folder / "r.json").write_text("{}")
    past = os.stat(old).st_mtime - STALE_STAGE_S - 10
    os.utime(old, (past, past))
    with Staging() as staging:
        staging.path(tmp_path / "r.json", "json")
    assert not old.exists() and fresh.exists()


def test_check_output_names_the_problem(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(BiasGateError, match="afile is a file, not a folder"):
        check_output(tmp_path / "afile" / "deeper" / "r.json", "--json", "json")
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(BiasGateError, match="is a folder; give a file"):
        check_output(tmp_path / "dir.json", "--json", "json")
    with pytest.raises(BiasGateError, match="is a file; give a folder"):
        check_output(tmp_path / "afile", "--plots", "plots")
    check_output(tmp_path / "new" / "plots", "--plots", "plots")
    check_output(tmp_path / "dir.json", "--report", "custom")  # a plugin writer: either
