"""BiomarkerPanel.evaluate: discrimination, calibration, classification and subgroups (issue 25)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.special import expit
from sklearn.metrics import roc_auc_score
from statsmodels.nonparametric.smoothers_lowess import lowess

from biomarkers._stats import net_benefit, wilson_interval
from biomarkers.exceptions import DataQualityWarning, SchemaError
from biomarkers.panel import BiomarkerPanel, PanelEvaluation, calibration_measures
from biomarkers.panel._measures import delong_auroc


@pytest.fixture
def fixed_example():
    """A fixed, miscalibrated example: predictions too extreme and too high."""
    rng = np.random.default_rng(20190000)
    lp = rng.normal(-0.3, 1.4, 300)
    y = (rng.random(300) < expit(-0.4 + 0.7 * lp)).astype(float)
    return y, expit(lp)


def test_calibration_measures_match_statsmodels(fixed_example):
    y, p = fixed_example
    lp = np.log(p / (1 - p))
    cal = calibration_measures(y, p, n_bootstraps=0).set_index("metric")
    citl = sm.GLM(y, np.ones((y.size, 1)), family=sm.families.Binomial(), offset=lp).fit(tol=1e-14)
    slope = sm.GLM(y, sm.add_constant(lp), family=sm.families.Binomial()).fit(tol=1e-14)
    z = 1.959963984540054
    for metric, est, se in (
        ("calibration_in_the_large", citl.params[0], citl.bse[0]),
        ("calibration_slope", slope.params[1], slope.bse[1]),
    ):
        row = cal.loc[metric]
        assert row["estimate"] == pytest.approx(est, abs=1e-8)
        assert row["ci_low"] == pytest.approx(est - z * se, abs=1e-8)
        assert row["ci_high"] == pytest.approx(est + z * se, abs=1e-8)
    oe = y.sum() / p.sum()
    se = np.sqrt((1 - y.mean()) / y.sum())
    assert cal.loc["oe_ratio", "estimate"] == pytest.approx(oe, abs=1e-12)
    assert cal.loc["oe_ratio", "ci_low"] == pytest.approx(oe * np.exp(-z * se), abs=1e-12)
    smooth = np.clip(lowess(y, p, frac=0.75, it=0, return_sorted=False), 0, 1)
    diff = np.abs(smooth - p)
    assert cal.loc["ici", "estimate"] == pytest.approx(diff.mean(), abs=1e-12)
    assert cal.loc["e50", "estimate"] == pytest.approx(np.median(diff), abs=1e-12)
    assert cal.loc["e90", "estimate"] == pytest.approx(np.quantile(diff, 0.9), abs=1e-12)
    assert cal.loc["brier", "estimate"] == pytest.approx(np.mean((p - y) ** 2), abs=1e-12)
    # the example is miscalibrated the way it was drawn: too extreme, so slope < 1
    assert cal.loc["calibration_slope", "ci_high"] < 1


def test_bootstrap_cis_bracket_the_estimates(fixed_example):
    y, p = fixed_example
    cal = calibration_measures(y, p, n_bootstraps=50, random_state=1).set_index("metric")
    for metric in ("brier", "ici", "e50", "e90"):
        assert cal.loc[metric, "ci_low"] <= cal.loc[metric, "ci_high"]
        assert "bootstrap (50)" in cal.loc[metric, "method"]


def test_delong_matches_sklearn_and_a_direct_computation(fixed_example):
    y, p = fixed_example
    p = np.round(p, 2)  # ties
    auc, se = delong_auroc(y, p)
    assert auc == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    pos, neg = p[y == 1], p[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    var = v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size
    assert se == pytest.approx(np.sqrt(var), abs=1e-12)


def test_evaluate_overall_rows(phase3_panel, cohort):
    df = cohort(600, seed=4)
    ev = phase3_panel.evaluate(df, "y", n_bootstraps=0)
    assert isinstance(ev, PanelEvaluation)
    perf = ev.performance.set_index("metric")
    y = df["y"].to_numpy()
    p = phase3_panel.score(df)["probability"].to_numpy()
    assert perf.loc["auroc", "estimate"] == pytest.approx(roc_auc_score(y, p))
    pred = p >= 0.5
    tp = int((pred & (y == 1)).sum())
    lo, hi = wilson_interval(tp, int(y.sum()))
    assert perf.loc["sensitivity", "estimate"] == pytest.approx(tp / y.sum())
    assert (perf.loc["sensitivity", "ci_low"], perf.loc["sensitivity", "ci_high"]) == (lo, hi)
    nb = net_benefit(y, p, [0.5])[0]
    assert perf.loc["net_benefit_at_threshold", "estimate"] == pytest.approx(nb)
    row = ev.decision_curve[ev.decision_curve["at_panel_threshold"]]
    assert row["panel"].item() == pytest.approx(nb)
    assert {"treat_all", "treat_none"} <= set(ev.decision_curve.columns)
    assert ev.n == 600
    assert ev.n_events == int(y.sum())


def test_subgroups_cover_every_level(phase3_panel, cohort):
    df = cohort(600, seed=5)
    ev = phase3_panel.evaluate(df, "y", subgroups=["arm", "assay_lot"], n_bootstraps=0)
    n = ev.subgroups[ev.subgroups["metric"] == "n_events"]
    assert set(n["level"]) == {"SMT", "ucMSC+SMT", "prednisolone+SMT", "L1", "L2"}
    for key in ("arm", "assay_lot"):
        assert n[n["subgroup"] == key]["n"].sum() == 600
    auroc = ev.subgroups.query("subgroup == 'assay_lot' and level == 'L1' and metric == 'auroc'")
    m = (df["assay_lot"] == "L1").to_numpy()
    p = phase3_panel.score(df)["probability"].to_numpy()
    assert auroc["estimate"].item() == pytest.approx(roc_auc_score(df["y"][m], p[m]))
    with pytest.raises(SchemaError, match=r"subgroup column.*'site'"):
        phase3_panel.evaluate(df, "y", subgroups=["site"], n_bootstraps=0)


def test_unknown_outcomes_are_left_out_with_a_warning(phase3_panel, cohort):
    df = cohort(300, seed=6)
    df.loc[df.index[:7], "y"] = np.nan
    with pytest.warns(DataQualityWarning, match="7 of 300 scored subject"):
        ev = phase3_panel.evaluate(df, "y", n_bootstraps=0)
    assert ev.n == 293
    assert sum(ev.excluded.values()) == 7


def test_bad_outcomes_are_refused(phase3_panel, cohort):
    df = cohort(100, seed=7)
    with pytest.raises(SchemaError, match="outcome column 'status' is not in"):
        phase3_panel.evaluate(df, "status")
    with pytest.raises(SchemaError, match="both classes"):
        phase3_panel.evaluate(df.assign(y=1.0), "y")
    survival = BiomarkerPanel.from_weights(
        {"cytokine:IL6@D0": 1.0}, intercept=0.0, kind="linear", outcome={"kind": "survival"}
    )
    with pytest.raises(SchemaError, match="binary outcome"):
        survival.evaluate(df, "y")


def test_outcome_series_and_string_labels(phase3_panel, cohort):
    df = cohort(200, seed=8)
    by_column = phase3_panel.evaluate(df, "y", n_bootstraps=0)
    by_series = phase3_panel.evaluate(df.drop(columns="y"), df["y"], n_bootstraps=0)
    pd.testing.assert_frame_equal(by_column.performance, by_series.performance)


def test_save_writes_report_with_drift_first(phase3_panel, cohort, tmp_path):
    ev = phase3_panel.evaluate(
        cohort(300, seed=9, offset=1.5), "y", subgroups=["arm"], n_bootstraps=10
    )
    paths = ev.save(tmp_path)
    names = [p.name for p in paths]
    assert names[-1] == "evaluation.html"
    assert {"evaluation.csv", "drift.csv", "case_mix.json", "update_tests.csv"} <= set(names)
    html = (tmp_path / "evaluation.html").read_text()
    assert html.index('id="drift"') < html.index('id="performance"') < html.index('id="update"')
    assert "cytokine:IL6@D0" in html.split('id="performance"')[0]
    table = pd.read_csv(tmp_path / "evaluation.csv")
    assert {"subgroup", "level", "metric", "estimate", "ci_low", "ci_high"} <= set(table.columns)
    assert "subject" not in " ".join(table.columns)


def test_evaluate_config_and_phase3_options(tmp_path):
    from biomarkers.datasets._phase3 import Phase3Shifts
    from biomarkers.exceptions import ConfigError
    from pipelines.config import EvaluateConfig, parse_config

    cfg = parse_config(
        {
            "pipeline": "evaluate",
            "name": "ev",
            "data": {"clinical": "clinical.csv"},
            "outcome": {"kind": "transplant_free_survival", "horizon_days": 90},
            "evaluate": {"subgroups": ["arm", "site"], "update": True},
        },
        base_dir=tmp_path,
    )
    assert isinstance(cfg, EvaluateConfig)
    assert cfg.evaluate.subgroups == ["arm", "site"]
    assert cfg.evaluate.update
    with pytest.raises(ConfigError, match=r"unknown key evaluate\.'subgroup'.*did you mean"):
        parse_config(
            {
                "pipeline": "evaluate",
                "name": "ev",
                "data": {"clinical": "c.csv"},
                "outcome": {},
                "evaluate": {"subgroup": ["arm"]},
            }
        )
    sim = parse_config(
        {"pipeline": "simulate", "name": "s", "simulate": {"cohort": "phase3", "phase3": {}}}
    )
    assert sim.simulate.cohort == "phase3"
    with pytest.raises(ConfigError, match="phase3 option 'lot_ofset' is not known"):
        Phase3Shifts.from_options({"lot_ofset": 2.0})
    from biomarkers.datasets import simulate_trial

    with pytest.raises(ConfigError, match="phase3= options need cohort='phase3'"):
        simulate_trial(tmp_path / "t", phase3={"lot_offset": 2.0})
    assert not (tmp_path / "t").exists()


def test_evaluate_command_refuses_a_missing_panel(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from pipelines.cli import app

    monkeypatch.chdir(tmp_path)
    (tmp_path / "clinical.csv").write_text("subject_id,arm\nP1,A\n")
    config = tmp_path / "evaluate.yaml"
    config.write_text(
        "pipeline: evaluate\nname: ev\noutput: runs\ndata: {clinical: clinical.csv}\n"
        "outcome: {kind: binary, column: y, positive: 1}\n"
    )
    res = CliRunner().invoke(app, ["evaluate", "nowhere", "--config", str(config)])
    assert res.exit_code == 2
    assert "panel 'nowhere' not found" in res.output
    assert not (tmp_path / "runs").exists()
