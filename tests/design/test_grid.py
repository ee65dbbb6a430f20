"""The grid of a power study: combinations, defaults, effects and per-replicate seeds."""

from __future__ import annotations

import pytest

import biomarkers as bm
from biomarkers.design._grid import expand_grid, replicate_seed
from biomarkers.exceptions import ConfigError


def test_every_combination_in_grid_order_with_defaults():
    points = expand_grid({"n_subjects": [60, 100], "predictive_effect": [0, 0.5, 1.0]})
    assert [(p.params["n_subjects"], p.params["predictive_effect"]) for p in points] == [
        (60, 0.0), (60, 0.5), (60, 1.0), (100, 0.0), (100, 0.5), (100, 1.0),
    ]  # fmt: skip
    assert points[0].params["assays"] == ["cytokines", "flow"]
    assert points[0].params["visits"] == ["D0", "D7", "D28"]
    assert len({p.id for p in points}) == 6


def test_list_valued_keys_take_one_set_or_several():
    one = expand_grid({"assays": ["cytokines", "flow", "singlecell"]})
    assert len(one) == 1
    assert one[0].params["assays"] == ["cytokines", "flow", "singlecell"]
    two = expand_grid({"visits": [["D0", "D28"], ["D0", "D7", "D28"]]})
    assert [p.params["visits"] for p in two] == [["D0", "D28"], ["D0", "D7", "D28"]]


def test_effects_map_onto_the_simulator():
    (p,) = expand_grid({"predictive_effect": 0.5, "prognostic_effect": 1.0, "allocation": 2 / 3,
                        "pd_effect": 0.2, "mechanism_effect": 1.5, "treatment_effect": -0.3})  # fmt: skip
    assert p.effects() == {
        "allocation": pytest.approx(2 / 3), "log_hr": -0.3, "pred_treg": 0.5,
        "pred_inflammation": 0.0, "prog_inflammation": 1.0, "prog_paralysis": 0.8,
        "mech_cytokine": 0.2, "mech_flow": 0.2, "mech_gene_log2fc": 1.5,
    }  # fmt: skip


def test_seed_depends_on_point_and_index_only():
    a = expand_grid({"n_subjects": [60, 100]})
    b = expand_grid({"n_subjects": [100]})
    assert replicate_seed(0, a[1], 3) == replicate_seed(
        0, b[0], 3
    )  # adding a point changes nothing
    assert replicate_seed(0, a[0], 3) != replicate_seed(0, a[1], 3)
    assert replicate_seed(0, a[0], 3) != replicate_seed(0, a[0], 4)
    assert replicate_seed(0, a[0], 3) != replicate_seed(1, a[0], 3)


@pytest.mark.parametrize(
    ("grid", "match"),
    [
        ({"n_subject": [60]}, r"unknown key 'n_subject'; did you mean 'n_subjects'"),
        ({"n_subjects": [5]}, r"n_subjects=5; give integers >= 10"),
        ({"allocation": [1.0]}, r"allocation=1.0; give probabilities strictly between 0 and 1"),
        ({"assays": ["cytokine"]}, r"assays contains 'cytokine'; did you mean 'cytokines'"),
        ({"visits": ["D7", "D28"]}, r"must include the baseline D0"),
    ],
)
def test_bad_grid_is_one_line_naming_key_and_value(grid, match):
    with pytest.raises(ConfigError, match=match):
        expand_grid(grid)


def test_allocation_changes_the_simulated_randomisation(tmp_path):
    trial = bm.datasets.simulate_trial(tmp_path / "a", n_subjects=60, cells_per_sample=0,
                                       effects={"allocation": 2 / 3})  # fmt: skip
    import pandas as pd

    arms = pd.read_csv(trial.paths["clinical"])["arm"].value_counts()
    # permuted blocks of 6 and 9 with 2/3 treated: exact but for the last, cut block
    assert abs(arms["ucMSC+SMT"] - 40) <= 2
    assert arms.sum() == 60
    with pytest.raises(ConfigError, match=r"effects: 'pred_tre' is not an effect"):
        bm.datasets.simulate_trial(tmp_path / "b", n_subjects=10, effects={"pred_tre": 1.0})
