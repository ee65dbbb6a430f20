"""The run's Riley budget, instability files, the panel card line and the config keys (issue 19)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import biomarkers as bm
from biomarkers.exceptions import ConfigError
from biomarkers.panel._card import budget_text


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.normal(size=(80, 15)), columns=[f"f{j}" for j in range(15)])
    y = pd.Series((X["f0"] + rng.normal(size=80) > 0.5).astype(int))
    return X, y


def test_result_budget_is_riley_for_the_run_events(small):
    X, y = small
    res = bm.models.discover(X, outcome=y, models=["enet"], cv=(3, 1), n_permutations=0,
                             n_bootstraps=20, n_jobs=1)  # fmt: skip
    budget = res.sample_size_budget()
    events = int(y.sum())
    phi = events / 80
    max_r2 = 1 - np.exp(2 * (phi * np.log(phi) + (1 - phi) * np.log(1 - phi)))
    expected = bm.models.sample_size_budget(80, events, "binary", r2_cs=0.15 * max_r2)
    assert budget == expected
    assert budget.events == events


def test_result_budget_refuses_no_events():
    from biomarkers.models._result import run_budget

    with pytest.raises(ConfigError, match="0 events among 10"):
        run_budget("binary", np.zeros(10))


def test_instability_save_writes_tables(small, tmp_path):
    X, y = small
    res = bm.models.prediction_instability(X, outcome=y, n_bootstraps=3, n_jobs=1)
    written = res.save(tmp_path)
    assert [p.name for p in written] == [
        "instability.csv", "instability_predictions.csv", "instability.json"]  # fmt: skip
    per = pd.read_csv(tmp_path / "instability.csv")
    assert per["mape"].mean() == pytest.approx(res.mape)
    assert json.loads((tmp_path / "instability.json").read_text())["n_bootstraps"] == 3


def _doc(k: int, m: int | None) -> dict:
    return {"population": {"supported_parameters": m}, "features": [{}] * k}


def test_card_budget_line_warns_only_when_panel_is_larger():
    within = budget_text(_doc(3, 5))
    assert within.startswith("panel of 3 markers; the data support about 5 candidate parameters")
    assert "WARNING" not in within
    assert "WARNING: 6 markers > 5" in budget_text(_doc(6, 5))
    assert budget_text(_doc(6, None)) == ""


def test_config_interval_stability_and_instability_keys():
    from pipelines.config import ModelsConfig

    cfg = ModelsConfig(interval="nested_cv", stability="decoy", instability_bootstraps=0)
    assert (cfg.interval, cfg.stability, cfg.instability_bootstraps) == ("nested_cv", "decoy", 0)
    assert ModelsConfig().interval == "bbc"
    assert ModelsConfig().stability == "stabl"
    with pytest.raises(ValueError, match="interval"):
        ModelsConfig(interval="jackknife")


def test_report_budget_section_reads_the_run_files(small, tmp_path):
    from biomarkers.report import _report
    from biomarkers.report._budget import budget_section

    budget = bm.models.sample_size_budget(100, 30, "binary", r2_cs=0.1)
    budget.to_frame().assign(n=budget.n, events=budget.events, r2_cs=budget.r2_cs,
                             parameters=budget.parameters).to_csv(
        tmp_path / "sample_size_budget.csv", index=False)  # fmt: skip
    (tmp_path / "panel").mkdir()
    k = budget.parameters + 1
    (tmp_path / "panel" / "panel.json").write_text(json.dumps({"features": [{}] * k}))
    X, y = small
    bm.models.prediction_instability(X, outcome=y, n_bootstraps=2, n_jobs=1).save(tmp_path)
    s = budget_section(tmp_path, _report._Figures(tmp_path), read_csv=_report._read_csv,
                       read_json=_report._read_json, table=_report._table,
                       section_type=_report._Section)  # fmt: skip
    assert f"support about <b>{budget.parameters} candidate parameters</b>" in s.text
    assert f"The exported panel has {k} markers, <b>larger than</b> that budget" in s.text
    assert "refitted on 2 bootstrap samples" in s.text
    assert len(s.figures) == 1
    assert (tmp_path / "figures" / "instability.png").is_file()
    assert budget_section(tmp_path / "panel", None, read_csv=_report._read_csv,
                          read_json=_report._read_json, table=_report._table,
                          section_type=_report._Section) is None  # fmt: skip
