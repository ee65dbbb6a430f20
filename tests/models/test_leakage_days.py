"""The leakage guard knows the day of changes and slopes (issue 16: guard bypass)."""

from __future__ import annotations

import numpy as np
import pytest

from biomarkers.exceptions import LeakageError
from biomarkers.features import build_feature_table
from biomarkers.models import discover
from tests.features.conftest import make_outcome, make_study
from tests.models.conftest import make_binary

pytestmark = pytest.mark.filterwarnings("ignore::biomarkers.exceptions.BelowDetectionLimitWarning")


@pytest.mark.parametrize(
    "name",
    [
        "cytokine:A3@D28",
        "cytokine:A3@D28-D0",
        "cytokine:A3@slope(D0..D28)",
        "cytokine:A3@auc(D0..D28)",
        "A3@D28-D0",
    ],
    ids=["value", "change", "slope", "auc", "change-without-modality"],
)
def test_dataframe_feature_ending_at_the_assessment_is_refused(name):
    df = make_binary(n=40, p=4).rename(columns={"cytokine:A3@D0": name})
    with pytest.raises(LeakageError, match=r"1 feature\(s\) are measured at or after day 28"):
        discover(df, outcome="response", assessed_day=28, cv=(3, 1))


def test_dataframe_change_ending_before_the_assessment_is_kept():
    df = make_binary(n=40, p=4).rename(
        columns={
            "cytokine:A1@D0": "cytokine:A1@D7-D0",
            "cytokine:A2@D0": "cytokine:A2@slope(D0..D14)",
        }
    )
    res = discover(
        df,
        outcome="response",
        assessed_day=28,
        models=["enet"],
        cv=(3, 1),
        n_permutations=0,
        n_bootstraps=10,
    )
    assert {"cytokine:A1@D7-D0", "cytokine:A2@slope(D0..D14)"} <= set(res.ranking["feature"])


def test_feature_table_changes_and_slopes_are_known_at_their_last_visit():
    study = make_study(with_cells=False)
    outcome = make_outcome(study.clinical.index, assessed_day=28)
    ft = build_feature_table(
        study,
        visits=["D0", "D7"],
        blocks={"cytokines": {}, "deltas": True, "slope": True, "auc": True},
        outcome=outcome,
    )
    later = [n for n in ft.var_names if not n.endswith("@D0")]
    assert {"cytokine:IL6@D7-D0", "cytokine:IL6@slope(D0..D7)", "cytokine:IL6@auc(D0..D7)"} <= set(
        later
    )
    assert (ft.var.loc[later, "day"] == 7).all()
    # an outcome assessed on day 7 must refuse every feature involving D7
    ft.uns["outcomes"]["response"]["assessed_day"] = 7
    with pytest.raises(
        LeakageError, match=rf"{len(later)} feature\(s\) are measured at or after day 7"
    ):
        discover(ft, outcome="response", cv=(3, 1))


def test_feature_table_without_day_falls_back_to_the_name():
    study = make_study(with_cells=False)
    outcome = make_outcome(study.clinical.index, assessed_day=28)
    ft = build_feature_table(
        study, visits=["D0", "D7"], blocks={"cytokines": {}, "deltas": True}, outcome=outcome
    )
    ft.var["day"] = np.nan  # e.g. a hand-made table: the names still carry the visits
    ft.uns["outcomes"]["response"]["assessed_day"] = 7
    with pytest.raises(LeakageError, match=r"IL6@D7-D0"):
        discover(ft, outcome="response", cv=(3, 1))
