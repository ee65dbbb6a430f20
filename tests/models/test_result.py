from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import ConfigError, InputFileError
from biomarkers.models import DiscoveryResult, discover
from tests.models.conftest import make_binary


@pytest.fixture(scope="module")
def frame():
    return make_binary(n=80, p=20, k=3, seed=2)


@pytest.fixture(scope="module")
def result(frame):
    return discover(
        frame,
        outcome="response",
        models=["enet", "xgboost"],
        cv=(3, 1),
        n_permutations=3,
        n_bootstraps=30,
    )


def test_save_load_round_trip(result, frame, tmp_path):
    out = tmp_path / "run"
    written = result.save(out)
    on_disk = sorted(p for p in out.rglob("*") if p.is_file())
    assert sorted(written) == on_disk
    assert out / "models" / "enet.json" in written
    names = {p.name for p in out.iterdir()}
    assert {
        "performance.csv",
        "ranking.csv",
        "oof_predictions.csv",
        "permutation.json",
        "comparison.csv",
        "settings.json",
        "models",
    } <= names
    assert not list(out.rglob("*.pkl"))
    assert not list(out.glob(".*"))
    back = DiscoveryResult.load(out)
    pd.testing.assert_frame_equal(back.performance, result.performance)
    pd.testing.assert_frame_equal(
        back.ranking.reset_index(drop=True),
        result.ranking.reset_index(drop=True),
        check_dtype=False,
    )
    pd.testing.assert_frame_equal(back.oof_predictions, result.oof_predictions, check_dtype=False)
    assert back.permutation == result.permutation  # JSON floats round-trip exactly
    assert back.final_model == {}
    assert set(back.final_model_data) == {"enet", "xgboost"}
    assert back.best_model == result.best_model
    with pytest.raises(ConfigError, match=r"loaded from disk"):
        back.refit(["cytokine:A0@D0"])


def test_saved_linear_model_reproduces_predictions(result, frame, tmp_path):
    result.save(tmp_path / "r")
    data = DiscoveryResult.load(tmp_path / "r").final_model_data["enet"]
    assert data["model_kind"] == "linear"
    X = frame[data["features"]].to_numpy()
    pre = data["preprocessing"]
    Z = (X - np.asarray(pre["center"])) / np.asarray(pre["scale"])
    eta = Z @ np.asarray(data["coefficients"]) + data["intercept"]
    full = frame.drop(columns="response").to_numpy()
    ref = result.final_model["enet"].predict_proba(full)[:, 1]
    np.testing.assert_allclose(1 / (1 + np.exp(-eta)), ref, rtol=1e-10)


def test_saved_xgboost_is_xgboost_json(result, frame, tmp_path):
    import xgboost as xgb

    result.save(tmp_path / "x")
    data = DiscoveryResult.load(tmp_path / "x").final_model_data["xgboost"]
    booster = xgb.Booster()
    booster.load_model(bytearray(json.dumps(data["xgboost_json"]).encode()))
    pre = data["preprocessing"]
    X = frame[data["features"]].to_numpy()
    Z = (X - np.asarray(pre["center"])) / np.asarray(pre["scale"])
    got = booster.predict(xgb.DMatrix(Z))
    ref = result.final_model["xgboost"].predict_proba(frame.drop(columns="response").to_numpy())
    np.testing.assert_allclose(got, ref[:, 1], rtol=1e-5)


def test_load_refuses_other_folders(tmp_path):
    with pytest.raises(InputFileError, match=r"no settings.json"):
        DiscoveryResult.load(tmp_path)
    (tmp_path / "settings.json").write_text('{"format": "other"}')
    with pytest.raises(InputFileError, match=r"expected 'biomarkers.discovery'"):
        DiscoveryResult.load(tmp_path)


def test_select_markers_and_refit(result):
    markers = result.select_markers(k=3, min_stability=0.5, model="enet")
    assert set(markers) == {f"cytokine:A{i}@D0" for i in range(3)}
    assert result.select_markers(k=2, min_stability=0.5, model="enet") == markers[:2]
    pipe, perf = result.refit(markers, "enet")
    assert list(perf.columns) == [
        "model", "metric", "estimate", "ci_low", "ci_high", "n", "interval", "verdict",
    ]  # fmt: skip
    assert perf.set_index("metric").loc["auroc", "interval"] == result.settings["interval"]
    auroc = perf.set_index("metric").loc["auroc", "estimate"]
    assert auroc > 0.8
    assert pipe.n_features_in_ == 3
    with pytest.raises(ConfigError, match=r"model='rf' was not run"):
        result.select_markers(model="rf")


def test_summaries(result):
    html = result._repr_html_()
    assert "DiscoveryResult" in html
    assert "auroc" in html
    assert "cytokine:A" in html
    frame = result.to_frame()
    hit = frame.query("model == 'enet' and metric == 'auroc'")["p_value"].item()
    assert hit == result.permutation["p_value"]
    assert "DiscoveryResult(outcome='response'" in repr(result)


def test_panel_hand_over(result):
    pytest.importorskip("biomarkers.panel")
    panel = result.panel(k=3, min_stability=0.5, model="enet", name="test panel")
    assert type(panel).__name__ == "BiomarkerPanel"
