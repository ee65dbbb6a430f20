from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.io import CENSOR_CODES, average_replicates, parse_censored, read_cytokines


def tidy_from(rows):
    df = pd.DataFrame(rows, columns=["sample_id", "analyte", "raw"])
    v, c = parse_censored(df["raw"].tolist())
    df["value"] = v
    df["censor"] = pd.Categorical.from_codes(c, list(CENSOR_CODES))
    return df


@pytest.mark.parametrize(
    ("raws", "value", "censor", "cv"),
    [
        (["10", "14"], 12.0, "ok", 100 * np.std([10, 14], ddof=1) / 12),
        (["10", "<2"], 10.0, "ok", np.nan),
        (["10", "*14"], 12.0, "extrapolated", 100 * np.std([10, 14], ddof=1) / 12),
        (["<2", "<4"], 3.0, "below", 100 * np.std([2, 4], ddof=1) / 3),
        (["OOR <", "<4"], 4.0, "below", np.nan),
        (["OOR <", "OOR >"], np.nan, "missing", np.nan),
        (["***", "8"], 8.0, "ok", np.nan),
        (["***", "---"], np.nan, "missing", np.nan),
        ([">100"], 100.0, "above", np.nan),
    ],
)
def test_rules(raws, value, censor, cv):
    out = average_replicates(tidy_from([("a", "IL6", r) for r in raws]))
    assert len(out) == 1
    r = out.iloc[0]
    assert r["censor"] == censor
    assert r["n_replicates"] == len(raws)
    np.testing.assert_allclose(r["value"], value, equal_nan=True)
    np.testing.assert_allclose(r["replicate_cv"], cv, equal_nan=True)


def test_matches_pandas_groupby_oracle():
    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame(
        {
            "sample_id": rng.choice(list("abcdefgh"), n),
            "analyte": rng.choice(["IL6", "IL10", "TNF"], n),
            "value": rng.lognormal(2, 1, n),
        }
    )
    df["censor"] = pd.Categorical(["ok"] * n, categories=list(CENSOR_CODES))
    out = average_replicates(df).set_index(["sample_id", "analyte"])
    grp = df.groupby(["sample_id", "analyte"])["value"]
    expected_cv = 100 * grp.std(ddof=1) / grp.mean()
    np.testing.assert_allclose(out["value"].sort_index(), grp.mean().sort_index())
    np.testing.assert_allclose(
        out["replicate_cv"].sort_index(), expected_cv.sort_index(), rtol=1e-9
    )
    assert (out["n_replicates"].sort_index() == grp.size().sort_index()).all()


def test_on_reader_output_keeps_controls(data_dir):
    tidy = read_cytokines(data_dir / "luminex_xponent.csv")
    out = average_replicates(tidy)
    r = out[(out["sample_id"] == "P01_D0_PL") & (out["analyte"] == "IL-6")].iloc[0]
    assert r["value"] == pytest.approx((152.3 + 148.9) / 2)
    assert r["n_replicates"] == 2
    assert "replicate" not in out.columns
    assert len(out.attrs["controls"]) == len(tidy.attrs["controls"])
    assert tidy["replicate"].max() == 2  # input untouched
