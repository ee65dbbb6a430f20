"""``labs: all`` and the generic block of subject tables (``data.tables``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import ConfigError
from biomarkers.features import build_feature_table
from biomarkers.io import numeric_columns, read_subject_table
from biomarkers.study import Study


def _clinical(n=6):
    ids = [f"S{i}" for i in range(n)]
    return ids, pd.DataFrame({"subject_id": ids, "age": np.arange(n) + 40})


def _labs(ids):
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "subject_id": ids,
            "visit": "D0",
            "day": 0,
            "albumin": rng.normal(3, 0.5, len(ids)),
            "crp": rng.normal(10, 2, len(ids)),
            "ascites": ["none", "mild"] * (len(ids) // 2),
        }
    )


def test_labs_all_takes_every_numeric_labs_column():
    ids, clinical = _clinical()
    labs = _labs(ids)
    study = Study(clinical, labs=labs, visits={"D0": 0})
    table = build_feature_table(
        study, visits=["D0"], blocks={"clinical": {"labs": "all", "scores": []}}
    )
    assert list(table.var_names) == ["clinical:albumin@D0", "clinical:crp@D0"]
    assert numeric_columns(labs) == ["albumin", "crp"]
    np.testing.assert_allclose(table[:, "clinical:crp@D0"].X.ravel(), labs["crp"].to_numpy())


def test_labs_option_refuses_other_words():
    ids, clinical = _clinical()
    study = Study(clinical, labs=_labs(ids), visits={"D0": 0})
    with pytest.raises(ConfigError, match="labs: all"):
        build_feature_table(study, visits=["D0"], blocks={"clinical": {"labs": "every"}})


@pytest.mark.parametrize("name", ["expression", "cytokines"])
def test_subject_table_gets_the_generic_block_in_its_own_unit(tmp_path, name):
    ids, clinical = _clinical()
    rng = np.random.default_rng(1)
    expr = pd.DataFrame({"subject_id": ids, "ESR1": rng.normal(8, 1, 6), "ERBB2": -rng.random(6)})
    path = tmp_path / "expression.csv"
    expr.to_csv(path, index=False)  # no visit column: baseline values
    tidy = read_subject_table(path, visits={"D0": 0, "D7": 7}, unit="log2 intensity")
    assert tidy["visit"].unique().tolist() == ["D0"]
    spec = {"path": path, "columns": "all", "unit": "log2 intensity"}  # as data.tables
    study = Study(clinical, tables={name: spec}, visits={"D0": 0, "D7": 7})
    assert study.assays[name].uns["source"] == "table"
    table = build_feature_table(study, visits=["D0"], blocks=None)
    names = [n for n in table.var_names if n.startswith(f"{name}:")]
    assert names == [f"{name}:ESR1@D0", f"{name}:ERBB2@D0"]
    # values as in the file (no log2, even under the registered name "cytokines")
    np.testing.assert_allclose(table[:, f"{name}:ERBB2@D0"].X.ravel(), expr["ERBB2"].to_numpy())
    var = table.var.loc[f"{name}:ESR1@D0"]
    assert var["modality"] == name
    assert var["unit"] == "log2 intensity"
    assert np.isnan(var["log2_offset"])
