"""Format version 2 and the migration of version-1 panels (issue 26)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import PanelFormatError
from biomarkers.panel import BiomarkerPanel
from biomarkers.panel._format import FORMAT_VERSION, checksum, load_document
from biomarkers.panel._migrate import as_written, migrate
from biomarkers.panel._panel import upgrade_panel as upgrade_file

V1 = Path(__file__).parents[1] / "data" / "panel_v1"


def _input() -> pd.DataFrame:
    return pd.read_csv(V1 / "input.csv", index_col="subject_id")


def test_v1_fixture_is_a_version_1_file():
    raw = json.loads((V1 / "panel.json").read_text("utf-8"))
    assert raw["format_version"] == 1
    assert "migrated_from" not in raw


def test_v1_panel_reads_migrated_and_scores_as_before():
    panel = BiomarkerPanel.read(V1)
    doc = panel.to_dict()
    assert doc["format_version"] == FORMAT_VERSION == 2
    assert doc["migrated_from"] == {"format_version": 1}
    expected = pd.read_csv(V1 / "expected_scores.csv", index_col="subject_id")
    got = panel.score(_input(), allow_missing="impute_training_median")
    np.testing.assert_allclose(got["score"], expected["score"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(got["probability"], expected["probability"], rtol=0, atol=1e-12)
    assert got["predicted"].astype(int).tolist() == expected["predicted"].tolist()
    assert got["n_imputed"].tolist() == expected["n_imputed"].tolist()


def test_migration_keeps_the_checksum_of_the_v1_bytes():
    raw = json.loads((V1 / "panel.json").read_text("utf-8"))
    panel = BiomarkerPanel.read(V1)
    assert panel.to_dict()["checksum"] == raw["checksum"] == checksum(raw)
    assert checksum(panel.to_dict()) == raw["checksum"]
    assert as_written(panel.to_dict())["format_version"] == 1


def test_tampered_v1_refused(tmp_path):
    raw = json.loads((V1 / "panel.json").read_text("utf-8"))
    raw["model"]["intercept"] += 0.5
    (tmp_path / "panel.json").write_text(json.dumps(raw), "utf-8")
    with pytest.raises(PanelFormatError, match="checksum mismatch"):
        BiomarkerPanel.read(tmp_path)


def test_v1_signature_verified_as_written(tmp_path, monkeypatch):
    from biomarkers._signing import sign_document

    raw = json.loads((V1 / "panel.json").read_text("utf-8"))
    signed = sign_document(raw, key=b"trial-key")
    (tmp_path / "panel.json").write_text(json.dumps(signed), "utf-8")
    monkeypatch.setenv("BIOMARKERS_PANEL_KEY", "trial-key")
    assert BiomarkerPanel.read(tmp_path).to_dict()["format_version"] == 2
    monkeypatch.setenv("BIOMARKERS_PANEL_KEY", "another-key")
    with pytest.raises(PanelFormatError, match="signature"):
        BiomarkerPanel.read(tmp_path)


def test_upgrade_file_writes_v2_with_the_same_identity(tmp_path):
    out = upgrade_file(V1, tmp_path / "up")
    written = json.loads(out.read_text("utf-8"))
    assert written["format_version"] == 2
    assert written["migrated_from"] == {"format_version": 1}
    assert written["checksum"] == json.loads((V1 / "panel.json").read_text())["checksum"]
    again = BiomarkerPanel.read(out)
    expected = pd.read_csv(V1 / "expected_scores.csv", index_col="subject_id")
    got = again.score(_input(), allow_missing="impute_training_median")
    np.testing.assert_allclose(got["score"], expected["score"], rtol=0, atol=1e-12)


def test_upgraded_file_without_migration_record_refused(tmp_path):
    out = upgrade_file(V1, tmp_path / "up")
    written = json.loads(out.read_text("utf-8"))
    del written["migrated_from"]  # now claims to be a native v2 file: its checksum no longer fits
    out.write_text(json.dumps(written), "utf-8")
    with pytest.raises(PanelFormatError, match="checksum mismatch"):
        load_document(out)


def test_v1_with_v2_content_refused(tmp_path):
    raw = json.loads((V1 / "panel.json").read_text("utf-8"))
    raw["migrated_from"] = {"format_version": 1}
    raw["checksum"] = checksum({**raw, "migrated_from": None})
    (tmp_path / "panel.json").write_text(json.dumps(raw), "utf-8")
    with pytest.raises(PanelFormatError, match="version 1 file is not migrated"):
        load_document(tmp_path, verify_checksum=False)


@pytest.mark.parametrize("version", [3, 0, "2", True])
def test_unknown_version_refused(tmp_path, version):
    raw = json.loads((V1 / "panel.json").read_text("utf-8"))
    raw["format_version"] = version
    (tmp_path / "panel.json").write_text(json.dumps(raw), "utf-8")
    hint = "newer than this biomarkers" if version == 3 else "reads format_version 1, 2"
    with pytest.raises(PanelFormatError, match=hint):
        load_document(tmp_path)


def test_update_of_a_migrated_panel_is_native_v2(tmp_path):
    shutil.copy(V1 / "panel.json", tmp_path / "panel.json")
    parent = BiomarkerPanel.read(tmp_path)
    doc = parent.to_dict()
    child = parent._updated(
        step="intercept",
        intercept=doc["model"]["intercept"] + 0.1,
        coefficients=np.asarray(doc["model"]["coefficients"]),
        new_markers=None,
        evidence={},
        evaluation={"n_subjects": 10},
    )
    child_doc = child.to_dict()
    assert "migrated_from" not in child_doc
    assert child_doc["format_version"] == 2
    assert child_doc["lineage"]["parent_checksum"] == doc["checksum"]
    child.write(tmp_path / "child")
    BiomarkerPanel.read(tmp_path / "child")  # lineage verified against the parent copy


def test_migrate_is_identity_on_current_documents():
    panel = BiomarkerPanel.from_weights({"cytokine:IL6@D0": 1.0}, intercept=0.0)
    doc = panel.to_dict()
    assert doc["format_version"] == 2
    assert "migrated_from" not in doc
    assert migrate(doc) is doc


def test_cli_upgrade_panel_writes_version_2_and_refuses_its_own_folder(tmp_path):
    from typer.testing import CliRunner

    from pipelines.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["upgrade-panel", str(V1), "--out", str(tmp_path / "up")])
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "up" / "panel.json").read_text())
    assert written["format_version"] == 2
    assert written["migrated_from"] == {"format_version": 1}
    again = runner.invoke(app, ["upgrade-panel", str(V1), "--out", str(tmp_path / "up")])
    assert again.exit_code == 2
    assert len(again.output.strip().splitlines()) == 1
    copy = tmp_path / "v1"
    shutil.copytree(V1, copy)
    before = (copy / "panel.json").read_bytes()
    same = runner.invoke(app, ["upgrade-panel", str(copy / "panel.json"), "--out", str(copy)])
    assert same.exit_code == 2
    assert "never writes to a path it read" in same.output
    assert (copy / "panel.json").read_bytes() == before
