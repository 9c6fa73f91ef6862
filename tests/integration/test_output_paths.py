"""Finding 5 of issue 26: an output path that cannot be written stops a gate run before
it starts, in one line; a report that fails while being written leaves no partial set."""

from __future__ import annotations

import os
import resource
import subprocess
import sys

import pytest

from bias_gate.cli import main
from bias_gate.results import GateResults
from tests.conftest import ROOT
from tests.support.reports import add_flips, make_results
from tests.unit.config.test_config import VALID

pytest_plugins = ["pytester"]


def test_a_json_path_under_a_file_stops_the_run_before_it_starts(
    pytester: pytest.Pytester, bbq_dir, wikitext_dir
):
    path = pytester.path / "model.yaml"
    path.write_text(VALID.format(bbq=bbq_dir, wikitext=wikitext_dir))
    (pytester.path / "afile").write_text("I am a file\n")
    result = pytester.runpytest(
        "--bias-gate",
        str(path),
        "--bias-gate-json",
        "afile/r.json",
        "--bias-gate-html",
        "out/r.html",
        "--collect-only",
        "-p",
        "no:cacheprovider",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "--bias-gate-json: cannot write" in err and "afile is a file" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (pytester.path / "out").exists()


def test_report_refuses_unwritable_targets_before_writing_anything(tmp_path, capsys):
    results = tmp_path / "r.json"
    make_results().write(results)
    (tmp_path / "afile").write_text("x")
    out = tmp_path / "out"
    code = main(
        [
            "report",
            str(results),
            "--html",
            str(out / "r.html"),
            "--json",
            f"{tmp_path}/afile/r.json",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "--json: cannot write" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def _limit_file_size() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, hard))


def test_a_report_failing_mid_write_leaves_no_partial_set(tmp_path):
    """A real write failure: a file-size limit (``ulimit -f 64``) the JSON and markdown fit
    in and the HTML (plots inline) does not."""
    results = tmp_path / "r.json"
    make_results().write(results)
    out = tmp_path / "out"
    out.mkdir()
    command = [sys.executable, "-m", "bias_gate", "report", str(results)]
    command += ["--json", str(out / "a.json"), "--markdown", str(out / "s.md")]
    command += ["--html", str(out / "r.html")]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=os.environ | {"OMP_NUM_THREADS": "1"},
        preexec_fn=_limit_file_size,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    assert "cannot write the html report" in done.stderr and "no report was written" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in out.iterdir()) == []  # no report, no temporary left


def test_a_gate_runs_reports_land_together_and_leave_no_temporary(tmp_path):
    """What the plugin calls at the end of a run (``write_outputs``), on real writers."""
    from bias_gate.gate.options import GateOptions
    from bias_gate.report.outputs import write_outputs

    out = tmp_path / "out"
    options = GateOptions(
        config_paths=(),
        json_path=out / "r.json",
        markdown=out / "md" / "s.md",
        junit=out / "j.xml",
        plots=out / "plots",
    )
    written = write_outputs(add_flips(make_results()), options, None, 1)
    expected = {out / "r.json", out / "md" / "s.md", out / "j.xml"}
    assert expected <= set(written) and all(path.is_file() for path in written)
    assert (out / "r.flips.jsonl").is_file()
    assert len(list((out / "plots").glob("*.png"))) == 3
    assert not list(out.rglob(".*.tmp")) and not list(out.rglob(".*.stage"))
    assert GateResults.read(out / "r.json").flips_file == out / "r.flips.jsonl"
