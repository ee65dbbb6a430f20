"""Run status in the report: final status in provenance, a banner and exit 2 when not complete."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from biomarkers.report import write_report
from pipelines.cli import app


def _set_status(run, status, **extra):
    manifest = json.loads((run / "manifest.json").read_text())
    manifest.update(status=status, **extra)
    (run / "manifest.json").write_text(json.dumps(manifest))


def _banner(html):
    return html.split("<!--status-banner-->")[1].split("<!--/status-banner-->")[0]


def test_complete_run_has_no_banner(fake_run):
    html = write_report(fake_run).read_text()
    assert _banner(html) == ""
    assert "status <!--status-footer--><b>complete</b>" in html


def test_failed_run_report_says_so_at_the_top(fake_run):
    _set_status(fake_run, "failed", error="SchemaError: clinical.csv: column 'arm' missing")
    html = write_report(fake_run).read_text()
    banner = _banner(html)
    assert "This run <b>failed</b>" in banner
    assert "column &#x27;arm&#x27; missing" in banner
    assert html.index("status-banner") < html.index('<section id="summary">')


@pytest.mark.parametrize("status", ["failed", "running"])
def test_report_command_exits_2_on_an_incomplete_run_unless_allowed(fake_run, status):
    _set_status(fake_run, status)
    refused = CliRunner().invoke(app, ["report", str(fake_run)])
    assert refused.exit_code == 2, refused.output
    assert f"status is '{status}'" in refused.stderr
    assert "--allow-incomplete" in refused.stderr
    assert "Traceback" not in refused.output
    assert "This run" in _banner((fake_run / "report.html").read_text())
    allowed = CliRunner().invoke(app, ["report", str(fake_run), "--allow-incomplete"])
    assert allowed.exit_code == 0, allowed.output
    assert allowed.stdout.strip().endswith("report.html")


def _job_folder(tmp_path, fake_run):
    """A real RunFolder whose job wrote its report while the run was still running."""
    import shutil

    from pipelines.run import RunFolder

    folder = RunFolder.create(tmp_path / "runs", name="demo", config={}, inputs={}, seed=0)
    for name in ("performance.csv", "oof_predictions.csv", "ranking.csv", "outcome.json"):
        shutil.copy(fake_run / name, folder.path / name)
    write_report(folder.path)
    assert "is <b>incomplete</b>" in _banner((folder.path / "report.html").read_text())
    return folder


def test_provenance_shows_the_final_status_not_running(tmp_path, fake_run):
    folder = _job_folder(tmp_path, fake_run)
    folder.complete({})
    html = (folder.path / "report.html").read_text()
    assert _banner(html) == ""
    footer = html.split('<section id="provenance">')[1]
    assert "<b>complete</b> (finished 20" in footer
    assert "running" not in footer


def test_a_run_failing_after_its_report_gets_the_failed_banner(tmp_path, fake_run):
    folder = _job_folder(tmp_path, fake_run)
    folder.fail(RuntimeError("disk full"))
    html = (folder.path / "report.html").read_text()
    assert "This run <b>failed</b>" in _banner(html)
    assert "RuntimeError: disk full" in _banner(html)
