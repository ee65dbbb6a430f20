from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import biomarkers.pl as pl
from biomarkers.exceptions import ConfigError


@pytest.fixture
def oof():
    rng = np.random.default_rng(0)
    rows = []
    for model, signal in (("enet", 1.5), ("xgboost", 0.5)):
        for repeat in range(3):
            y = rng.integers(0, 2, 80)
            score = 1 / (1 + np.exp(-(signal * (2 * y - 1) + rng.normal(0, 1, 80))))
            rows.append(
                pd.DataFrame({"model": model, "repeat": repeat, "y_true": y, "y_pred": score})
            )
    return pd.concat(rows, ignore_index=True)


def test_roc_curve_one_line_per_model_with_auc_in_legend(oof):
    fig = pl.roc_curve(oof)
    assert isinstance(fig, Figure)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[0].startswith("enet (AUROC 0.")
    assert len(labels) == 2
    # the stronger signal has the larger AUROC
    aucs = [float(lab.split("AUROC ")[1].rstrip(")")) for lab in labels]
    assert aucs[0] > aucs[1]


def test_pr_calibration_decision_curves_draw_into_given_axes(oof):
    from matplotlib.figure import Figure as F

    fig = F()
    axes = fig.subplots(1, 3)
    assert pl.pr_curve(oof, ax=axes[0]) is fig
    assert pl.calibration(oof, model="enet", ax=axes[1]) is fig
    assert pl.decision_curve(oof, ax=axes[2]) is fig
    assert axes[2].get_xlabel() == "threshold probability"
    assert len(axes[1].lines) == 2  # enet + ideal


def test_decision_curve_treat_all_matches_formula(oof):
    fig = pl.decision_curve(oof, model="enet", thresholds=[0.2])
    lines = {line.get_label(): line for line in fig.axes[0].lines}
    prevalence = oof[oof.model == "enet"].y_true.mean()
    assert lines["treat all"].get_ydata()[0] == pytest.approx(prevalence - (1 - prevalence) * 0.25)


def test_stability_marks_features_above_threshold():
    ranking = pd.DataFrame(
        {
            "feature": [f"f{i}" for i in range(10)],
            "stability": np.linspace(0, 1, 10),
            "importance": np.arange(10.0),
        }
    )
    fig = pl.stability(ranking, threshold=0.6)
    colors = fig.axes[0].collections[0].get_facecolors()
    assert len(colors) == 10
    assert not np.allclose(colors[0], colors[-1])


def test_coefficients_forest_qini():
    table = pd.DataFrame({"feature": ["a", "b", "c"], "coefficient": [0.5, -1.0, 0.1]})
    fig = pl.coefficients(table, top=2)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["a", "b"]
    forest_table = pd.DataFrame(
        {"marker": ["m1", "m2"], "effect": [0.8, 1.5], "ci_low": [0.5, 1.1], "ci_high": [1.2, 2.0]}
    )
    fig = pl.forest(forest_table, log_scale=True)
    assert fig.axes[0].get_xscale() == "log"
    curve = pd.DataFrame({"fraction": np.linspace(0, 1, 11), "qini": np.linspace(0, 5, 11) ** 0.5})
    assert isinstance(pl.qini(curve), Figure)


def test_shap_summary_orders_by_mean_abs_contribution():
    rng = np.random.default_rng(1)
    contrib = pd.DataFrame({"weak": rng.normal(0, 0.1, 30), "strong": rng.normal(0, 2, 30)})
    fig = pl.shap_summary(contrib, contrib, top=2)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["weak", "strong"]


def test_mechanism_plots():
    de = pd.DataFrame(
        {
            "cell_type": ["A"] * 3 + ["B"] * 3,
            "gene": list("xyzxyz"),
            "log2fc": [2, 0.1, -1, 0, 0, 0.2],
            "q_value": [0.01, 0.9, 0.05, 1, 1, 0.5],
        }
    )
    fig = pl.volcano(de)
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == ["A", "B"]
    rows = []
    for s in range(6):
        for v in ("D0", "D7"):
            rows.append(
                {
                    "subject_id": f"S{s}",
                    "arm": "SMT" if s < 3 else "ucMSC+SMT",
                    "visit": v,
                    "cell_type": "Treg",
                    "proportion": 0.05 + 0.01 * s,
                }
            )
    fig = pl.composition(pd.DataFrame(rows))
    assert fig.axes[0].get_title() == "Treg"
    means = pd.DataFrame(
        {
            "feature": "IL6",
            "arm": ["SMT", "SMT", "ucMSC+SMT", "ucMSC+SMT"],
            "visit": ["D0", "D7"] * 2,
            "mean": [1, 2, 1, 0],
            "ci_low": [0, 1, 0, -1],
            "ci_high": [2, 3, 2, 1],
        }
    )
    fig = pl.trajectories(means)
    assert {line.get_label() for line in fig.axes[0].lines} == {"SMT", "ucMSC+SMT"}


def test_kaplan_meier_and_cohort_overview():
    rng = np.random.default_rng(2)
    data = pd.DataFrame(
        {
            "arm": ["SMT"] * 20 + ["ucMSC+SMT"] * 20,
            "time_days": rng.integers(1, 90, 40),
            "event": rng.integers(0, 2, 40),
        }
    )
    fig = pl.kaplan_meier(data, horizon=90)
    assert fig.axes[0].get_xlim() == (0, 90)
    assert len(fig.axes[0].get_legend().get_texts()) == 2
    counts = pd.DataFrame(
        {
            "arm": ["ucMSC+SMT", "SMT"],
            "randomised": [50, 50],
            "treated": [48, 50],
            "analysed": [47, 49],
        }
    )
    fig = pl.cohort_overview(counts)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "treated\nn = 48" in texts


def test_save_figure_writes_png_and_reproducible_svg(tmp_path, oof):
    paths = pl.save_figure(pl.roc_curve(oof), tmp_path / "roc")
    assert [p.suffix for p in paths] == [".png", ".svg"]
    first = paths[1].read_bytes()
    pl.save_figure(pl.roc_curve(oof), tmp_path / "roc")  # a fresh figure, as in a second run
    assert paths[1].read_bytes() == first
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow  # numba compiles UMAP on first use (~20 s)
def test_umap_colours_by_available_keys():
    import anndata as ad
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    X = sp.csr_matrix(rng.poisson(1.0, (120, 40)).astype(np.float32))
    obs = pd.DataFrame(
        {"cell_type": rng.choice(["T", "B"], 120), "arm": rng.choice(["SMT", "ucMSC+SMT"], 120)},
        index=[f"c{i}" for i in range(120)],
    )
    adata = ad.AnnData(X, obs=obs)
    fig = pl.umap(adata, color=("cell_type", "arm", "visit"))
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == ["cell_type", "arm"]
    assert "X_umap" not in adata.obsm  # input untouched


def test_decision_curve_draws_a_stored_table_as_is():
    table = pd.DataFrame(
        {
            "threshold": [0.1, 0.3],
            "treat_all": [0.3, 0.1],
            "treat_none": [0.0, 0.0],
            "baseline": [0.25, 0.05],
            "baseline+markers": [0.31, 0.12],
        }
    )
    fig = pl.decision_curve(table)
    lines = {line.get_label(): line for line in fig.axes[0].lines}
    assert list(lines["baseline+markers"].get_xdata()) == [0.1, 0.3]
    assert list(lines["baseline+markers"].get_ydata()) == [0.31, 0.12]
    assert list(lines["treat all"].get_ydata()) == [0.3, 0.1]
    fig = pl.decision_curve(table, model="baseline")
    assert "baseline+markers" not in {line.get_label() for line in fig.axes[0].lines}
    with pytest.raises(ConfigError, match="thresholds="):
        pl.decision_curve(table, thresholds=[0.2])


def test_decision_curve_from_predictions_uses_the_stored_grid_and_one_function(oof):
    from biomarkers._stats import DECISION_THRESHOLDS, net_benefit

    fig = pl.decision_curve(oof, model="enet")
    line = next(ln for ln in fig.axes[0].lines if ln.get_label() == "enet")
    np.testing.assert_allclose(line.get_xdata(), DECISION_THRESHOLDS)
    enet = oof[oof.model == "enet"]
    np.testing.assert_allclose(line.get_ydata(), net_benefit(enet.y_true, enet.y_pred))


def test_kaplan_meier_axis_says_what_it_is_told():
    data = pd.DataFrame({"arm": ["a", "b"] * 5, "time_days": range(1, 11), "event": [1, 0] * 5})
    assert pl.kaplan_meier(data).axes[0].get_ylabel() == "event-free probability"
    fig = pl.kaplan_meier(data, ylabel="recurrence-free survival")
    assert fig.axes[0].get_ylabel() == "recurrence-free survival"
