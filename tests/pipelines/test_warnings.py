"""The CLI shows what the library warns: ``log.txt``, the manifest and a console summary."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from biomarkers.exceptions import DataQualityWarning, SmallSampleWarning
from pipelines.run import RunFolder, capture_warnings, summarise_warnings, warning_summary


def test_a_library_warning_reaches_log_txt_and_the_console_summary(design_config, cli):
    # 0.9 given for a 1:1 trial: the Study's allocation check warns (DataQualityWarning)
    config = design_config(
        "warn", clinical="trial/clinical.csv", extra="study: {allocation: 0.9}\n"
    )
    proc = cli("run", str(config), "--quiet", "--set", "predictive.enabled=false")
    assert proc.returncode == 0, proc.stderr
    run_dir = Path(proc.stdout.strip().splitlines()[-1])  # stdout's last line: the run folder
    log = (run_dir / "log.txt").read_text()
    logged = [
        line for line in log.splitlines() if "DataQualityWarning: study: allocation 0.9" in line
    ]
    assert len(logged) == 1
    assert " WARNING " in logged[0]
    summary = proc.stderr[proc.stderr.index("during the run (all in log.txt):") :]
    assert "DataQualityWarning ×1: study: allocation 0.9 given for 'ucMSC+SMT'" in summary
    entries = json.loads((run_dir / "manifest.json").read_text())["warnings"]
    quality = next(e for e in entries if e["category"] == "DataQualityWarning")
    assert quality["count"] == 1
    assert quality["first"].startswith("study: allocation 0.9 given")


def test_each_distinct_warning_is_recorded_once_per_location(tmp_path):
    run = RunFolder.create(tmp_path, name="w", config={}, inputs={}, seed=0)

    def warn(text: str) -> None:
        warnings.warn(text, DataQualityWarning, stacklevel=1)

    with capture_warnings(run.log_warning) as caught:
        for _ in range(3):
            warn("same place, same text")
        warn("another text")
        warnings.warn("few subjects", SmallSampleWarning, stacklevel=1)
    entries = run.record_warnings(caught)
    run.complete()
    assert entries == [
        {"category": "DataQualityWarning", "count": 2, "first": "same place, same text"},
        {"category": "SmallSampleWarning", "count": 1, "first": "few subjects"},
    ]
    log = (run.path / "log.txt").read_text()
    assert log.count("DataQualityWarning: same place, same text") == 1
    assert "SmallSampleWarning: few subjects" in log
    assert json.loads((run.path / "manifest.json").read_text())["warnings"] == entries


def test_other_packages_deprecations_stay_ignored():
    with capture_warnings() as caught:
        warnings.warn_explicit("old API", DeprecationWarning, "x.py", 1, module="somepkg.mod")
        warnings.warn_explicit("our old API", DeprecationWarning, "y.py", 1, module="biomarkers.io")
    assert [str(w.message) for w in caught] == ["our old API"]


def test_warning_summary_counts_by_kind_with_the_first_message():
    entries = summarise_warnings([])
    assert warning_summary(entries) == []
    lines = warning_summary(
        [{"category": "DataQualityWarning", "count": 2, "first": "a"},
         {"category": "SmallSampleWarning", "count": 1, "first": "b"}]
    )  # fmt: skip
    assert lines == [
        "3 warnings during the run (all in log.txt):",
        "  DataQualityWarning ×2: a",
        "  SmallSampleWarning ×1: b",
    ]
