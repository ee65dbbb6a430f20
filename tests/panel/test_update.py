"""The updating ladder (closed testing, Vergouwe et al. 2017) and the lineage of updates (issue 25)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.special import expit

from biomarkers.exceptions import PanelFormatError
from biomarkers.panel import BiomarkerPanel
from biomarkers.panel._format import checksum


def _chosen(panel, df) -> str:
    return panel.evaluate(df, "y", n_bootstraps=0).update.chosen


def test_development_distribution_needs_no_update(phase3_panel, cohort):
    seeds = range(40)
    chosen = [_chosen(phase3_panel, cohort(500, seed=1000 + s)) for s in seeds]
    assert chosen.count("none") / len(chosen) >= 0.9


@pytest.mark.parametrize(
    ("shift", "expected"),
    [
        pytest.param({"intercept": 0.9}, "intercept", id="intercept-shift"),
        pytest.param({"slope": 0.45}, "recalibration", id="slope-shift"),
    ],
)
def test_known_shift_gets_its_update(phase3_panel, cohort, shift, expected):
    chosen = [_chosen(phase3_panel, cohort(1500, seed=2000 + s, **shift)) for s in range(10)]
    assert chosen.count(expected) >= 9, chosen


def test_changed_coefficients_get_a_refit(phase3_panel, cohort):
    df = cohort(2000, seed=11)
    # a new cohort where only IL8 has lost its effect: not a recalibration of the whole LP
    x = df[["cytokine:IL6@D0", "clinical:meld@D0"]].to_numpy()
    rng = np.random.default_rng(11)
    df["y"] = (rng.random(len(df)) < expit(-0.5 + x @ np.array([0.8, 0.4]))).astype(float)
    assert _chosen(phase3_panel, df) == "refit"


def test_extension_adds_a_new_marker(phase3_panel, cohort):
    df = cohort(1500, seed=12)
    rng = np.random.default_rng(12)
    new = rng.normal(0.0, 1.0, len(df))
    lp = phase3_panel.score(df)["score"].to_numpy()
    df["y"] = (rng.random(len(df)) < expit(lp + 1.0 * new)).astype(float)
    df["olink:HGF@D0"] = 5.0 + 2.0 * new
    ev = phase3_panel.evaluate(df, "y", candidates=["olink:HGF@D0"], n_bootstraps=0)
    assert ev.update.chosen == "extension"
    child = ev.updated_panel
    assert child.features == [*phase3_panel.features, "olink:HGF@D0"]
    coef = dict(zip(child.features, child.to_frame()["coefficient"], strict=True))
    assert coef["olink:HGF@D0"] == pytest.approx(1.0, abs=0.25)  # per SD of the new marker
    fit = ev.update.fits["extension"]
    X = np.column_stack([np.ones(len(df)), df[child.features].to_numpy()])
    X[:, -1] = (X[:, -1] - df["olink:HGF@D0"].mean()) / df["olink:HGF@D0"].std()
    assert np.allclose(child.score(df)["score"], X @ fit.params, atol=1e-9)
    # no candidate given: the same data only allow a refit (or less)
    assert _chosen(phase3_panel, df) != "extension"


def test_recalibrated_panel_reproduces_the_fit(phase3_panel, cohort):
    df = cohort(1500, seed=13, slope=0.5)
    before = phase3_panel.to_dict()
    ev = phase3_panel.evaluate(df, "y", n_bootstraps=0)
    assert ev.update.chosen == "recalibration"
    child = ev.updated_panel
    a, b = ev.update.fits["recalibration"].params
    lp = phase3_panel.score(df)["score"].to_numpy()
    assert np.allclose(child.score(df)["probability"], expit(a + b * lp), atol=1e-12)
    assert phase3_panel.to_dict() == before  # the parent is never modified
    doc = child.to_dict()
    assert child.version == 2
    assert phase3_panel.version == 1
    assert doc["lineage"]["parent_checksum"] == before["checksum"]
    assert doc["lineage"]["ancestors"] == [before["checksum"]]
    assert doc["lineage"]["update"] == "recalibration"
    assert doc["evaluation"]["n_subjects"] == 1500
    assert doc["evaluation"]["update"]["chosen"] == "recalibration"
    assert doc["threshold"]["value"] == before["threshold"]["value"]
    card = child.card()
    assert "| 24 | Model updating results | logistic recalibration" in card
    assert "| 23a |" in card


@pytest.fixture
def lineage(phase3_panel, cohort, tmp_path):
    parent_dir, child_dir = tmp_path / "v1", tmp_path / "v2"
    phase3_panel.save(parent_dir)
    ev = phase3_panel.evaluate(cohort(1500, seed=14, intercept=1.0), "y", n_bootstraps=0)
    ev.updated_panel.save(child_dir)
    return parent_dir, child_dir, ev


def test_lineage_verifies_on_read(lineage):
    parent_dir, child_dir, _ = lineage
    child = BiomarkerPanel.read(child_dir)
    assert child.version == 2
    assert (child_dir / "parent_panel.json").is_file()
    assert BiomarkerPanel.read(child_dir, parent=parent_dir).version == 2


def _edit(path, change):
    doc = json.loads(path.read_text())
    change(doc)
    doc["checksum"] = checksum(doc)  # a deliberate, re-checksummed edit
    path.write_text(json.dumps(doc))


def test_editing_the_parent_breaks_the_lineage(lineage):
    parent_dir, child_dir, _ = lineage
    _edit(parent_dir / "panel.json", lambda d: d["model"].update(intercept=0.0))
    assert BiomarkerPanel.read(parent_dir).version == 1  # still a valid panel on its own
    with pytest.raises(PanelFormatError, match="lineage broken: the parent given has checksum"):
        BiomarkerPanel.read(child_dir, parent=parent_dir)
    copy = child_dir / "parent_panel.json"
    doc = json.loads(copy.read_text())
    doc["model"]["intercept"] = 0.0  # edited without a new checksum
    copy.write_text(json.dumps(doc))
    with pytest.raises(PanelFormatError, match="lineage broken: the parent panel"):
        BiomarkerPanel.read(child_dir)


def test_a_chain_of_two_updates_verifies(lineage, cohort, tmp_path):
    _, child_dir, _ = lineage
    child = BiomarkerPanel.read(child_dir)
    grandchild = child.evaluate(cohort(1500, seed=15, intercept=2.0), "y", n_bootstraps=0)
    g = grandchild.updated_panel
    assert g.version == 3
    ancestors = g.to_dict()["lineage"]["ancestors"]
    assert ancestors == [child.to_dict()["lineage"]["parent_checksum"], child.to_dict()["checksum"]]
    g.save(tmp_path / "v3")
    assert BiomarkerPanel.read(tmp_path / "v3", parent=child_dir).version == 3
    with pytest.raises(PanelFormatError, match="lineage broken"):
        BiomarkerPanel.read(tmp_path / "v3", parent=lineage[0])  # the grandparent is not its parent


def test_panels_without_versions_or_quantiles_still_load(tmp_path, cohort):
    old = BiomarkerPanel.from_weights({"cytokine:IL6@D0": 0.8}, intercept=-0.5, threshold=0.5)
    doc = old.to_dict()
    assert "version" not in doc
    assert "lineage" not in doc
    old.save(tmp_path)
    again = BiomarkerPanel.read(tmp_path)
    assert again.version == 1
    ev = again.evaluate(cohort(300, seed=16), "y", n_bootstraps=0)
    assert ev.drift.case_mix["membership_auroc"] is None
    assert "no training quantiles" in ev.drift.case_mix["method"]
