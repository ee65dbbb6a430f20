"""Power studies: records, resumability, local vs Dask, the reduced configs/power.yaml grid."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import biomarkers as bm
from biomarkers.exceptions import ConfigError

TINY = {"n_subjects": [40], "predictive_effect": [0.0, 1.0]}
CHEAP = ["predictive", "treatment_effect"]


def _run(tmp_path, name, **kwargs):
    return bm.design.power(TINY, replicates=2, analyses=CHEAP, out_dir=tmp_path / name, **kwargs)


def test_records_table_and_files(tmp_path):
    res = _run(tmp_path, "s")
    assert res.complete
    assert len(res.records) == 4
    assert set(res.records["predictive_effect"]) == {0.0, 1.0}
    files = sorted(p.name for p in (tmp_path / "s" / "replicates").rglob("*.json"))
    assert files == ["r00000.json", "r00000.json", "r00001.json", "r00001.json"]
    stored = json.loads(next((tmp_path / "s" / "replicates").rglob("r00000.json")).read_text())
    assert {"point_id", "replicate", "params", "record"} <= set(stored)
    t = res.table
    assert {"predictive_false_call_rate", "treatment_power"} <= set(t["metric"])
    # the predictive call probability is defined only where a predictive marker is planted
    called = t[t["metric"] == "p_predictive_call"]
    assert list(called["predictive_effect"]) == [1.0]
    row = t[(t["metric"] == "treatment_power")].iloc[0]
    lo, hi = bm._stats.wilson_interval(int(row["k"]), int(row["n"]))
    assert (row["mc_low"], row["mc_high"]) == pytest.approx((lo, hi))
    paths = res.save(tmp_path / "out")
    assert sorted(p.name for p in paths) == ["power.csv", "power.json", "replicates.csv"]
    back = bm.design.PowerResult.load(tmp_path / "out")
    pd.testing.assert_frame_equal(back.table, pd.read_csv(tmp_path / "out" / "power.csv"))


def test_killed_study_resumes_to_the_uninterrupted_result(tmp_path):
    full = _run(tmp_path, "full")
    part = _run(tmp_path, "killed", stop_after=2)
    assert len(part.records) == 2
    assert part.records["point_id"].nunique() == 2  # replicate-major: one at each point
    assert not part.complete
    resumed = _run(tmp_path, "killed")
    assert resumed.complete
    pd.testing.assert_frame_equal(resumed.records, full.records)
    pd.testing.assert_frame_equal(resumed.table, full.table)
    # nothing is re-run: the replicate stored before the kill is untouched
    again = _run(tmp_path, "killed", stop_after=0)
    pd.testing.assert_frame_equal(again.records, full.records)


def test_parallel_processes_give_the_same_records(tmp_path):
    one = _run(tmp_path, "one", n_jobs=1)
    two = _run(tmp_path, "two", n_jobs=2)
    pd.testing.assert_frame_equal(one.records, two.records)


def test_dask_localcluster_and_local_give_identical_tables(tmp_path):
    local = _run(tmp_path, "local")
    dask = _run(tmp_path, "dask", backend="dask", n_jobs=2)
    pd.testing.assert_frame_equal(dask.records, local.records)
    pd.testing.assert_frame_equal(dask.table, local.table)


def test_a_folder_run_with_other_settings_is_refused(tmp_path):
    _run(tmp_path, "s", stop_after=1)
    with pytest.raises(
        ConfigError,
        match=r"study.json: this study folder was run with other settings \(fdr differ\)",
    ):
        bm.design.power(TINY, replicates=2, analyses=CHEAP, fdr=0.2, out_dir=tmp_path / "s")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"analyses": ["discovery"]},
            r"power.analyses='discovery' is not supported; did you mean 'discover'",
        ),
        ({"replicates": 0}, r"replicates=0; give an integer >= 1"),
        ({"analyses": ["mechanism"]}, r"lack singlecell; add it or drop mechanism"),
        ({"backend": "slurm"}, r"backend='slurm' is not supported"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        bm.design.power(TINY, out_dir=tmp_path / "x", **kwargs)


def test_report_and_curves(tmp_path):
    res = _run(tmp_path, "s")
    from biomarkers.design._companions import companions

    res.sample_sizes = companions(res)
    assert {"events", "interaction_power_analytic", "riley_min_n"} <= set(res.sample_sizes)
    html = res.report(tmp_path / "rep").read_text()
    assert "Power curves" in html
    assert "data:image/png;base64," in html
    assert "treatment_power" in html
    assert "Analytic companions" in html
    assert (tmp_path / "rep" / "figures" / "power_curves.png").is_file()
    fig = res.plot(["treatment_power"])
    assert fig.axes[0].get_title() == "treatment_power"


@pytest.mark.slow
def test_reduced_power_grid_is_monotone_and_nominal_at_zero_effect(tmp_path):
    # configs/power.yaml reduced: n in {60, 200}, predictive effect in {0, 1.0}, 12 replicates
    res = bm.design.power(
        {"n_subjects": [60, 200], "predictive_effect": [0.0, 1.0]}, replicates=12,
        analyses=["discover", "predictive", "treatment_effect"], out_dir=tmp_path / "s", n_jobs=2,
    )  # fmt: skip
    t = res.table.set_index(["metric", "n_subjects", "predictive_effect"])

    def at(metric, n, e):
        return t.loc[(metric, n, e)]

    for metric in ("p_predictive_call", "treatment_power", "p_auroc_ci_above_0.5"):
        for e in (0.0, 1.0):
            if (metric, 60, e) not in t.index:
                continue
            lo, hi = at(metric, 60, e), at(metric, 200, e)
            # larger trials do at least as well, within Monte-Carlo error
            assert hi["mc_high"] >= lo["estimate"], metric
            assert hi["estimate"] >= lo["mc_low"], metric
    big = at("p_predictive_call", 200, 1.0)
    assert big["estimate"] >= at("p_predictive_call", 60, 1.0)["mc_low"]
    # no predictive marker planted: false calls at the nominal FDR (BH under the global null)
    for n in (60, 200):
        zero = at("predictive_false_call_rate", n, 0.0)
        assert zero["mc_low"] <= 0.1, zero
