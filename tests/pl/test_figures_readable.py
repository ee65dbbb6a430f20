"""Figures that do not mislead: one scale per forest panel, one volcano per contrast, labels that
do not overlap, units on the axes, and did-you-mean for a typo'd column or model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import biomarkers.pl as pl
from biomarkers.exceptions import ConfigError
from biomarkers.pl._labels import axis_units, text_overlaps


@pytest.fixture
def subgroups():
    markers = [f"cytokine:IL{i}@D0" for i in range(6)]
    rows = []
    for m in markers:
        for sub in ("low", "high"):
            rows.append({"marker": m, "subgroup": sub, "measure": "risk difference",
                         "effect": -0.1, "ci_low": -0.3, "ci_high": 0.1})  # fmt: skip
            rows.append({"marker": m, "subgroup": sub, "measure": "odds ratio",
                         "effect": 0.7, "ci_low": 0.3, "ci_high": 1.6})  # fmt: skip
    return pd.DataFrame(rows)


def test_forest_puts_each_effect_scale_in_its_own_panel(subgroups):
    fig = pl.forest(subgroups, label=["marker", "subgroup"])
    diff, ratio = fig.axes
    assert (diff.get_title(), diff.get_xscale()) == ("risk difference", "linear")
    assert (ratio.get_title(), ratio.get_xscale()) == ("odds ratio", "log")
    null = {ax.get_title(): ax.lines[-1].get_xdata()[0] for ax in fig.axes}
    assert null == {"risk difference": 0.0, "odds ratio": 1.0}
    # every row label once: on the left panel, 12 distinct rows; none on the right
    labels = [t.get_text() for t in diff.get_yticklabels()]
    assert len(labels) == len(set(labels)) == 12
    assert not any(t.get_visible() for t in ratio.get_yticklabels() if t.get_text())
    assert not ratio.yaxis.get_tick_params()["labelleft"]


def test_forest_log_ratio_is_a_difference_and_refuses_mixed_scales_in_one_axes(subgroups):
    table = subgroups[subgroups.measure == "odds ratio"].assign(measure="log odds ratio per SD")
    (ax,) = pl.forest(table, label=["marker", "subgroup"]).axes
    assert ax.get_xscale() == "linear"
    from matplotlib.figure import Figure

    with pytest.raises(ConfigError, match="2 effect measures"):
        pl.forest(subgroups, label=["marker", "subgroup"], ax=Figure().subplots())


@pytest.fixture
def de():
    rng = np.random.default_rng(0)
    rows = []
    for ct in ("Treg", "CD14_mono"):
        for contrast in ("visit: D7 vs D0", "arm: A vs B [visit=D7]"):
            genes = [f"G{i}" for i in range(40)]
            q = np.r_[np.full(8, 1e-4) * rng.uniform(0.9, 1.1, 8), rng.uniform(0.2, 1, 32)]
            rows.append(pd.DataFrame({"cell_type": ct, "contrast": contrast, "gene": genes,
                                      "log2fc": np.r_[np.full(8, 0.8), rng.normal(0, 0.2, 32)],
                                      "q_value": q}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def test_volcano_one_panel_per_cell_type_and_contrast_each_gene_once(de):
    fig = pl.volcano(de, n_labels=8)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 4
    assert {ax.get_title() for ax in panels} == {
        f"{ct}\n{c}"
        for ct in ("Treg", "CD14_mono")
        for c in ("visit: D7 vs D0", "arm: A vs B [visit=D7]")
    }
    for ax in panels:
        assert len(ax.collections[0].get_offsets()) == 40  # one contrast's genes, not two
        labels = [t.get_text() for t in ax.texts if t.get_visible()]
        assert len(labels) == len(set(labels)) == 8


def _crowded_ranking():
    return pd.DataFrame(
        {"feature": [f"cytokine:IL-{i}@D7-D0" for i in range(12)],
         "stability": np.r_[np.full(12, 0.95)], "importance": np.linspace(0.10, 0.11, 12)}
    )  # fmt: skip


def _means():
    rows = [
        {"feature": f, "group": arm, "comparison": "arm", "visit": v, "mean": m, "ci_low": m - 1,
         "ci_high": m + 1}
        for f in ("IL-6", "TNF-α") for arm in ("A", "B")
        for v, m in (("D0", 3.0), ("D7", 2.5), ("D28", 2.0))
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_no_two_texts_overlap_in_any_figure(subgroups, de):
    """Each figure is rendered and no two text boxes (labels, ticks, titles) intersect."""
    figures = {
        "stability": pl.stability(_crowded_ranking(), threshold=0.6, n_labels=12),
        "volcano": pl.volcano(de, n_labels=8),
        "forest": pl.forest(subgroups, label=["marker", "subgroup"]),
        "trajectories": pl.trajectories(_means(), units="log2 pg/mL"),
    }
    assert {name: text_overlaps(fig) for name, fig in figures.items()} == {
        name: [] for name in figures
    }
    # the crowded labels were placed, not hidden
    assert all(t.get_visible() for t in figures["stability"].axes[0].texts)


def test_overlap_check_sees_overlapping_labels():
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    ax.annotate("label one", (0.5, 0.5))
    ax.annotate("label two", (0.5, 0.5))
    assert ("label one", "label two") in text_overlaps(ax.figure)


def test_trajectory_axes_carry_units_from_the_feature_metadata():
    var = pd.DataFrame({"unit": ["pg/mL", "pg/mL", ""]}, index=["IL-6", "TNF-α", "X"])
    units = axis_units(var, "log2")
    assert units == {"IL-6": "log2 pg/mL", "TNF-α": "log2 pg/mL"}
    fig = pl.trajectories(_means(), units=units)
    assert [ax.get_ylabel() for ax in fig.axes if ax.get_visible()] == ["log2 pg/mL"] * 2
    assert all(ax.get_xlabel() == "visit" for ax in fig.axes if ax.get_visible())
    with_column = pl.trajectories(_means().assign(unit="NPX"))
    assert with_column.axes[0].get_ylabel() == "NPX"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t: pl.forest(t, estimate="efect"), "estimate='efect' is not supported; did you mean 'effect'"),
        (lambda t: pl.forest(t, label="markr"), "label='markr' is not supported; did you mean 'marker'"),
        (lambda t: pl.stability(_crowded_ranking(), frequency="stabilty"), "did you mean 'stability'"),
        (lambda t: pl.trajectories(_means(), features=["IL6"]), "features='IL6' is not supported; did you mean 'IL-6'"),
    ],
)  # fmt: skip
def test_plot_arguments_naming_a_missing_column_get_did_you_mean(subgroups, call, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")) as err:
        call(subgroups)
    assert err.value.args[0].startswith("bm.pl.")


def test_unknown_model_is_refused_not_drawn_empty():
    oof = pd.DataFrame(
        {"model": ["enet"] * 4, "y_true": [0, 1, 0, 1], "y_pred": [0.1, 0.9, 0.4, 0.6]}
    )
    for fn in (pl.roc_curve, pl.pr_curve, pl.calibration, pl.decision_curve):
        with pytest.raises(
            ConfigError, match="model='enett' is not supported; did you mean 'enet'"
        ):
            fn(oof, model="enett")


def test_forced_log_scale_does_not_put_differences_on_a_log_axis(subgroups):
    fig = pl.forest(subgroups, label=["marker", "subgroup"], null=1.0, log_scale=True)
    assert [ax.get_xscale() for ax in fig.axes] == ["linear", "log"]
    single = subgroups[subgroups.measure == "odds ratio"].assign(measure="hazard ratio x")
    (ax,) = pl.forest(single, label=["marker", "subgroup"], log_scale=False, null=1.0).axes
    assert ax.get_xscale() == "linear"
