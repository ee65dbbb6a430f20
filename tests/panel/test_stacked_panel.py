"""Stacked panels: round trip through panel.json v2, missing-block scoring, CLI (issue 26)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from biomarkers.exceptions import PanelFormatError, SchemaError
from biomarkers.models import stacked_panel
from biomarkers.panel import BiomarkerPanel

CYT = ["cytokine:IL6@D0", "cytokine:IL10@D0", "cytokine:TNF@D0"]
FLOW = ["flow:Treg@D0", "flow:CD4@D0"]
CLIN = ["clinical:meld@D0"]
BLOCKS = ("cytokine", "flow", "clinical")


def _trial(n: int = 80, seed: int = 26) -> tuple[pd.DataFrame, np.ndarray]:
    """Signal in the cytokines and MELD; 25% without flow, 10% without cytokines."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        rng.normal(size=(n, 6)), columns=CYT + FLOW + CLIN, index=[f"P{i:03d}" for i in range(n)]
    )
    lp = 1.5 * X[CYT[0]] - 1.0 * X[CYT[2]] + 0.8 * X[CLIN[0]]
    y = (lp + rng.normal(size=n) > 0).astype(int).to_numpy()
    X.loc[X.index[rng.random(n) < 0.25], FLOW] = np.nan
    X.loc[X.index[rng.random(n) < 0.10], CYT] = np.nan
    X.loc[X.index[[3, 11]], CYT[1]] = -np.inf  # below the limit of detection
    X.index.name = "subject_id"
    return X, y


@pytest.fixture(scope="module")
def fitted():
    """A StackedModel on the trial and its panel (fitted once: ~10 s on a loaded machine)."""
    from biomarkers.models import StackedModel

    X, y = _trial()
    model = StackedModel(inner_cv=3, n_inner=2, random_state=0).fit(X, y)
    panel = stacked_panel(model, X, y, name="stacked test panel", n_splits=3, random_state=1)
    return model, panel, X, y


def _new() -> pd.DataFrame:
    X, _ = _trial(n=12, seed=99)
    X.loc[X.index[:3], FLOW] = np.nan  # no flow panel
    X.loc[X.index[3], CYT] = np.nan  # failed cytokine plate
    X.loc[X.index[4], CYT[0]] = np.nan  # one cytokine missing: imputed inside its block
    X.loc[X.index[5:], FLOW] = X.loc[X.index[5:], FLOW].fillna(0.0)
    X.loc[X.index[5:], CYT] = X.loc[X.index[5:], CYT].fillna(0.0)
    return X


def test_stacked_panel_is_format_2_with_blocks_weights_patterns(fitted):
    model, panel, _, _ = fitted
    doc = panel.to_dict()
    assert doc["format_version"] == 2
    st = doc["model"]["stacked"]
    assert doc["model"]["type"] == "stacked"
    assert list(st["blocks"]) == list(BLOCKS)
    assert st["weights"] == {b: pytest.approx(float(model.weights_[b])) for b in BLOCKS}
    assert set(st["patterns"][0]["available"]) == set(BLOCKS)
    assert len(st["patterns"]) == 7  # every non-empty pattern of 3 blocks
    assert panel.features == CYT + FLOW + CLIN
    assert panel.to_frame()["block"].tolist() == ["cytokine"] * 3 + ["flow"] * 2 + ["clinical"]


def test_pattern_without_the_planted_blocks_is_worse(fitted):
    _, panel, _, _ = fitted
    metrics = {
        frozenset(p["available"]): p["metrics"]
        for p in panel.to_dict()["model"]["stacked"]["patterns"]
    }
    full, flow_only = metrics[frozenset(BLOCKS)], metrics[frozenset({"flow"})]
    assert full["auroc"]["estimate"] > flow_only["auroc"]["estimate"] + 0.15
    assert full["brier"]["estimate"] < flow_only["brier"]["estimate"]
    assert full["auroc"]["ci_low"] < full["auroc"]["estimate"] < full["auroc"]["ci_high"]


def test_round_trip_identical(fitted, tmp_path):
    model, panel, _, _ = fitted
    path = panel.write(tmp_path / "p")
    again = BiomarkerPanel.read(path)
    assert again.to_dict() == panel.to_dict()
    new = _new()
    a = panel.score(new)
    b = again.score(new)
    pd.testing.assert_frame_equal(a, b)
    np.testing.assert_allclose(a["score"], model.decision_function(new), rtol=0, atol=1e-12)


def test_missing_blocks_scored_and_reported(fitted):
    _, panel, _, _ = fitted
    scores = panel.score(_new())
    st = panel.to_dict()["model"]["stacked"]
    metrics = {frozenset(p["available"]): p["metrics"] for p in st["patterns"]}
    no_flow = metrics[frozenset({"cytokine", "clinical"})]
    full = metrics[frozenset(BLOCKS)]
    first = scores.iloc[0]
    assert first["missing_blocks"] == ("flow",)
    assert first["flagged"]
    assert first["pattern_auroc"] == pytest.approx(no_flow["auroc"]["estimate"])
    assert first["pattern_auroc_low"] == pytest.approx(no_flow["auroc"]["ci_low"])
    assert first["auroc_loss"] == pytest.approx(
        full["auroc"]["estimate"] - no_flow["auroc"]["estimate"]
    )
    assert first["brier_increase"] == pytest.approx(
        no_flow["brier"]["estimate"] - full["brier"]["estimate"]
    )
    assert np.isnan(first["contribution_flow"])
    assert scores.iloc[3]["missing_blocks"] == ("cytokine",)
    complete = scores.iloc[6]
    assert complete["missing_blocks"] == ()
    assert complete["auroc_loss"] == 0.0
    assert not complete["flagged"]
    assert scores["n_imputed"].iloc[:4].tolist() == [0, 0, 0, 0]  # whole blocks are not imputed


def test_partially_missing_block_follows_imputation_rules(fitted):
    model, panel, _, _ = fitted
    new = _new()
    scores = panel.score(new)
    row = scores.iloc[4]
    assert row["imputed"] == (CYT[0],)
    assert row["n_imputed"] == 1
    assert row["missing_blocks"] == ()
    assert row["score"] == pytest.approx(model.decision_function(new.iloc[[4]])[0], abs=1e-12)
    # more than max_imputed_share of the markers missing inside present blocks: refused
    new.loc[new.index[6], CYT[:2] + FLOW[:1]] = np.nan  # 3 of 6 markers, blocks present
    panel.score(new)
    with pytest.raises(SchemaError, match="max_imputed_share"):
        panel.score(new, max_imputed_share=0.4)


def test_absent_block_columns_need_no_allow_missing(fitted):
    _, panel, _, _ = fitted
    new = _new().drop(columns=FLOW)  # no flow cytometry at this site at all
    scores = panel.score(new)
    assert set(scores["missing_blocks"]) == {("flow",), ("cytokine", "flow")}
    with pytest.raises(SchemaError, match="flow:CD4@D0"):  # part of a block: usual rules
        panel.score(_new().drop(columns=FLOW[1]))


def test_subject_without_any_block_refused(fitted):
    _, panel, _, _ = fitted
    new = _new()
    new.loc[new.index[7], :] = np.nan
    with pytest.raises(SchemaError, match="none of the stacked panel's assay blocks"):
        panel.score(new)


def test_cli_scores_equal_in_process(fitted, tmp_path):
    from pipelines.cli import app

    _, panel, _, _ = fitted
    path = panel.write(tmp_path / "p")
    import anndata as ad

    new = _new()  # with censored values (-inf): an .h5ad FeatureTable keeps them
    ad.AnnData(
        X=new.to_numpy(), obs=pd.DataFrame(index=new.index), var=pd.DataFrame(index=new.columns)
    ).write_h5ad(tmp_path / "new.h5ad")
    out = tmp_path / "scores.csv"
    result = CliRunner().invoke(
        app, ["score", str(path), str(tmp_path / "new.h5ad"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    cli = pd.read_csv(out, dtype={"subject_id": str}).set_index("subject_id")
    here = panel.score(new)
    np.testing.assert_allclose(cli["score"], here["score"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(cli["probability"], here["probability"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(cli["pattern_auroc"], here["pattern_auroc"], rtol=0, atol=1e-12)
    assert cli["missing_blocks"].fillna("").tolist()[:4] == ["flow", "flow", "flow", "cytokine"]


def test_tampered_stacked_panel_refused(fitted, tmp_path):
    _, panel, _, _ = fitted
    path = panel.write(tmp_path / "p")
    doc = json.loads(path.read_text("utf-8"))
    doc["model"]["stacked"]["state"]["meta"][0]["intercept"] += 1.0
    path.write_text(json.dumps(doc), "utf-8")
    with pytest.raises(PanelFormatError, match="checksum mismatch"):
        BiomarkerPanel.read(path)


def test_stacked_model_in_a_version_1_file_refused(fitted):
    _, panel, _, _ = fitted
    doc = panel.to_dict()
    doc["format_version"] = 1
    doc.pop("checksum")
    with pytest.raises(PanelFormatError, match="stacked model needs format_version 2"):
        BiomarkerPanel(doc)


def test_blocks_must_partition_the_features(fitted):
    _, panel, _, _ = fitted
    doc = panel.to_dict()
    doc["model"]["stacked"]["blocks"]["flow"].append(CYT[0])
    doc.pop("checksum")
    with pytest.raises(PanelFormatError, match="exactly once"):
        BiomarkerPanel(doc)


def test_card_lists_blocks_weights_and_needed_assays(fitted):
    _, panel, _, _ = fitted
    card = panel.card()
    st = panel.to_dict()["model"]["stacked"]
    assert "## Assay blocks" in card
    assert "A new patient needs cytokine (3 markers), flow (2 markers), clinical (1 marker)" in card
    for b in BLOCKS:
        assert f"| {b} | {len(st['blocks'][b])} | {st['weights'][b]:.3g} |" in card
    assert "| cytokine + flow + clinical |" in card
    assert "<h2>Assay blocks</h2>" in panel.card(html=True)


def test_card_of_a_migrated_panel_says_so():
    from .test_migrate import V1

    assert "version 2 (read from a version-1 file)" in BiomarkerPanel.read(V1).card()
    assert "Assay blocks" not in BiomarkerPanel.read(V1).card()


@pytest.mark.slow
def test_discovery_stacked_panel_keeps_patients_without_a_block(tmp_path):
    from biomarkers.models import discover
    from biomarkers.models._stacked_panel import discovery_stacked_panel

    X, y = _trial()
    result = discover(
        X, outcome=pd.Series(y, index=X.index, name="response"), models=("enet",), cv=(3, 1),
        inner_cv=3, n_permutations=0,
        n_bootstraps=0, random_state=0,
    )  # fmt: skip
    panel = discovery_stacked_panel(result, candidates=CYT + FLOW + CLIN, purpose="prognosis")
    doc = panel.to_dict()
    assert doc["population"]["n_subjects"] == len(y)  # nobody dropped for a missing block
    assert doc["performance"]["metrics"]["auroc"]["n"] == len(y)
    assert doc["model"]["stacked"]["validation"].startswith("3-fold cross-fitting")
    again = BiomarkerPanel.read(panel.write(tmp_path / "p"))
    pd.testing.assert_frame_equal(again.score(_new()), panel.score(_new()))


def test_export_self_check_catches_a_panel_that_does_not_reproduce_the_model(fitted):
    from biomarkers.models._stacked_panel import _self_check
    from biomarkers.panel._data import feature_matrix

    model, panel, X, _ = fitted

    class Shifted:  # the model, off by 1e-6 on the linear predictor
        def decision_function(self, X):
            return model.decision_function(X) + 1e-6

        def missing_blocks(self, X):
            return model.missing_blocks(X)

    raw = feature_matrix(X, panel.features)[0]
    _self_check(panel, model, X, raw, panel.features)  # the real model: reproduced
    with pytest.raises(RuntimeError, match="does not reproduce the StackedModel"):
        _self_check(panel, Shifted(), X, raw, panel.features)


def test_score_command_counts_patients_without_some_blocks(fitted):
    from pipelines.score import _log_missing_blocks

    _, panel, _, _ = fitted
    assert (
        _log_missing_blocks(panel.score(_new())) == 4
    )  # three without flow, one without cytokines
    assert _log_missing_blocks(panel.score(_new().iloc[5:])) == 0
