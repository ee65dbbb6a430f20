"""Cost-aware panels: assay costs, the monotone frontier and the panel a budget buys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import ConfigError
from biomarkers.models import assay_cost, cost_frontier, recommend_panel
from biomarkers.models._cost import check_costs, pareto_frontier

from ._value_data import make_assays

COSTS = {"clinical": 0.0, "cytokine": 100.0, "flow": 60.0, "olink": 250.0}


@pytest.fixture(scope="module")
def frontier() -> pd.DataFrame:
    df = make_assays(n=120)
    return cost_frontier(df, outcome="response", costs=COSTS, sizes=(1, None), cv=3,
                         n_bootstraps=50, inner_cv=2, landmark=None)  # fmt: skip


def test_cost_counts_every_visit_a_feature_needs() -> None:
    costs = assay_cost(
        ["cytokine:IL6@D7-D0", "cytokine:IL10@D0", "flow:Treg@slope(D0..D14)", "clinical:meld@D0"],
        {"cytokine": 100, "flow": 10},
    ).set_index("assay")
    assert costs.loc["cytokine", "n_visits"] == 2
    assert costs.loc["cytokine", "cost"] == 200
    # a slope from D0 to D14 needs D0, D7 and D14 of the standard schedule
    assert costs.loc["flow", "visits"] == "D0;D7;D14"
    assert costs.loc["flow", "cost"] == 30
    assert costs.loc["clinical", "cost"] == 0
    assert not costs.loc["clinical", "priced"]


def test_unknown_assay_in_costs_is_one_clear_error() -> None:
    with pytest.raises(
        ConfigError,
        match=r"'olnk' is not an assay.*did you mean 'olink'.*valid assays: clinical, cytokine",
    ):
        check_costs({"olnk": 5}, ["clinical", "cytokine", "olink"])
    with pytest.raises(ConfigError, match="finite number >= 0"):
        check_costs({"olink": -1}, ["olink"])


def test_pareto_frontier_keeps_only_undominated_points() -> None:
    rng = np.random.default_rng(0)
    pts = pd.DataFrame(
        {"cost": rng.integers(0, 10, 200).astype(float), "estimate": rng.random(200)}
    )
    keep = pareto_frontier(pts)
    front = pts[keep].sort_values("cost")
    assert np.all(np.diff(front["cost"]) > 0)
    assert np.all(np.diff(front["estimate"]) > 0)
    for _, p in pts[~keep].iterrows():  # every other point is dominated by a frontier point
        assert ((front["cost"] <= p["cost"]) & (front["estimate"] >= p["estimate"])).any()


def test_frontier_is_monotone_and_the_budget_changes_the_panel(frontier) -> None:
    assert len(frontier) == 15 * 2  # 15 block combinations × (k=1, all)
    front = frontier[frontier["on_frontier"]]
    assert np.all(np.diff(front["cost"]) > 0)
    assert np.all(np.diff(front["estimate"]) > 0)
    assert frontier.loc[frontier["blocks"] == "cytokine+flow", "cost"].iloc[0] == 100 * 2 + 60
    cheap = recommend_panel(frontier, 0)
    rich = recommend_panel(frontier, 1000)
    assert cheap["blocks"] == "clinical"
    assert cheap["cost"] == 0
    assert {"cytokine", "flow"} <= set(rich["blocks"].split("+"))
    assert rich["estimate"] > cheap["estimate"]
    mid = recommend_panel(frontier, 100)  # one planted assay is affordable, not both
    assert mid["cost"] <= 100
    assert mid["blocks"] != cheap["blocks"]
    assert rich["on_frontier"]
    assert mid["on_frontier"]
    assert cheap["on_frontier"]


def test_budget_below_every_candidate_names_the_cheapest(frontier) -> None:
    with pytest.raises(ConfigError, match="cheapest costs 0"):
        recommend_panel(frontier, -1)
