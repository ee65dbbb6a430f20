"""Scoring safety (issue 21): refusals, imputed counts, CLI spelling and analyte synonyms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from biomarkers.exceptions import DataQualityWarning, SchemaError
from biomarkers.panel import BiomarkerPanel, match_markers
from biomarkers.panel._data import spelled_as

MARKERS = ["cytokine:IL6@D0", "cytokine:TNFa@D0", "cytokine:IFNg@D0", "clinical:meld@D0"]
TRAINING = {"min": 0.0, "max": 40.0, "median": 5.0, "n": 50}


@pytest.fixture
def panel() -> BiomarkerPanel:
    return BiomarkerPanel.from_weights(
        dict(zip(MARKERS, [0.5, 0.3, -0.2, 0.1], strict=True)),
        intercept=-2.0,
        features_meta={m: {"training": TRAINING} for m in MARKERS},
        threshold=0.5,
    )


def _table(columns=MARKERS) -> pd.DataFrame:
    values = np.array([[1.0, 2.0, 3.0, 20.0], [4.0, 1.0, 0.5, 30.0], [2.0, 2.0, 2.0, 25.0]])
    index = pd.Index(["S1", "S2", "S3"], name="subject_id")
    return pd.DataFrame(values, columns=list(columns), index=index)


def test_a_table_with_none_of_the_markers_is_refused_even_with_the_fallback(panel):
    clinical = pd.DataFrame({"age": [50.0, 60.0]}, index=pd.Index(["S1", "S2"], name="subject_id"))
    with pytest.raises(SchemaError, match=r"none of the panel's 4 markers .* is in the input"):
        panel.score(clinical, allow_missing="impute_training_median", max_imputed_share=1.0)


def test_a_patient_missing_more_than_the_share_is_refused_naming_them(panel):
    table = _table()
    table.loc["S2", MARKERS[:3]] = np.nan  # 3 of 4 missing
    with pytest.raises(SchemaError, match=r"1 of 3 subject\(s\) \('S2'\) miss more than 50%"):
        panel.score(table, allow_missing="impute_training_median")
    scores = panel.score(table, allow_missing="impute_training_median", max_imputed_share=0.75)
    assert scores.loc["S2", "n_imputed"] == 3


def test_n_imputed_counts_each_patients_imputed_markers(panel):
    table = _table()
    table.loc["S1", "cytokine:IL6@D0"] = np.nan
    table.loc["S3", ["cytokine:IL6@D0", "cytokine:IFNg@D0"]] = np.nan
    scores = panel.score(table, allow_missing="impute_training_median")
    assert scores["n_imputed"].tolist() == [1, 0, 2]
    assert scores["n_imputed"].tolist() == scores["imputed"].map(len).tolist()


def test_max_imputed_share_must_be_a_share(panel):
    with pytest.raises(SchemaError, match=r"max_imputed_share=2 is not a share"):
        panel.score(_table(), max_imputed_share=2)


def test_errors_spell_the_option_for_the_caller(panel):
    partial = _table().drop(columns="cytokine:IFNg@D0")
    with pytest.raises(SchemaError, match=r"pass allow_missing='impute_training_median'"):
        panel.score(partial)
    with spelled_as("cli"), pytest.raises(SchemaError) as err:
        panel.score(partial)
    assert "--allow-missing impute_training_median" in str(err.value)
    assert "allow_missing=" not in str(err.value)


def test_cli_score_error_names_the_cli_flag(panel, tmp_path):
    from pipelines.cli import app

    panel.write(tmp_path / "panel")
    _table().drop(columns="cytokine:IFNg@D0").to_csv(tmp_path / "new.csv")
    result = CliRunner().invoke(
        app, ["score", str(tmp_path / "panel" / "panel.json"), str(tmp_path / "new.csv")]
    )
    assert result.exit_code == 2
    assert "--allow-missing impute_training_median" in result.output
    assert "allow_missing=" not in result.output


def test_cli_score_writes_n_imputed_and_honours_max_imputed_share(panel, tmp_path):
    from pipelines.cli import app

    panel.write(tmp_path / "panel")
    table = _table()
    table.loc["S2", MARKERS[:3]] = np.nan
    table.to_csv(tmp_path / "new.csv")
    args = ["score", str(tmp_path / "panel" / "panel.json"), str(tmp_path / "new.csv")]
    args += ["--allow-missing", "impute_training_median", "--out", str(tmp_path / "s.csv")]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2
    assert "--max-imputed-share 0.8" in refused.output
    done = CliRunner().invoke(app, [*args, "--max-imputed-share", "0.8"])
    assert done.exit_code == 0, done.output
    scores = pd.read_csv(tmp_path / "s.csv", dtype={"subject_id": str}).set_index("subject_id")
    assert scores["n_imputed"].tolist() == [0, 3, 0]


# --------------------------------------------------------------------------- synonyms


@pytest.mark.parametrize(
    ("panel_name", "vendor_name"),
    [
        ("cytokine:IL6@D0", "cytokine:IL-6@D0"),
        ("cytokine:IL6@D0", "cytokine:IL 6@D0"),
        ("cytokine:IL6@D0", "cytokine:Interleukin-6@D0"),
        ("cytokine:TNFa@D0", "cytokine:TNF-α@D0"),
        ("cytokine:TNFa@D0", "cytokine:TNF-alpha@D0"),
        ("cytokine:TNFa@D0", "cytokine:TNF@D0"),
        ("cytokine:IFNg@D0", "cytokine:IFN-γ@D0"),
        ("cytokine:IL8@D0", "cytokine:CXCL8@D0"),
        ("cytokine:IL-8@D7-D0", "cytokine:IL8@D7-D0"),
        ("cytokine:IL1b@D0", "cytokine:ＩＬ-1β@D0"),  # full-width letters: NFKC
        ("cytokine:il6@D0", "cytokine:IL-6@D0"),
    ],
)
def test_match_markers_knows_vendor_spellings(panel_name, vendor_name):
    assert match_markers([panel_name], [vendor_name, "cytokine:HGF@D0"]) == {
        panel_name: vendor_name
    }


@pytest.mark.parametrize(
    "other",
    ["olink:IL-6@D0", "cytokine:IL-6@D7", "cytokine:IL-6@D7-D0", "cytokine:IL-10@D0"],
    ids=["modality", "visit", "kind", "analyte"],
)
def test_match_markers_keeps_modality_visit_and_analyte(other):
    assert match_markers(["cytokine:IL6@D0"], [other]) == {}


def test_match_markers_refuses_two_spellings_of_one_marker():
    with pytest.raises(SchemaError, match=r"matches several columns"):
        match_markers(["cytokine:IL6@D0"], ["cytokine:IL-6@D0", "cytokine:Interleukin 6@D0"])


def test_shipped_synonym_table_gives_each_spelling_one_symbol():
    from biomarkers.panel._synonyms import _symbols

    symbols = _symbols()
    assert symbols["il6"] == "IL6"
    assert symbols["tnfalpha"] == symbols["tnfa"] == "TNF"
    assert symbols["il8"] == symbols["cxcl8"] == "CXCL8"


def test_synonyms_are_reported_in_a_warning_and_a_column(panel):
    vendor = _table(["cytokine:IL-6@D0", "cytokine:TNF-α@D0", "cytokine:IFN-γ@D0", MARKERS[3]])
    with pytest.warns(DataQualityWarning, match=r"3 marker\(s\) matched through analyte synonyms"):
        got = panel.score(vendor)
    assert "cytokine:IL6@D0=cytokine:IL-6@D0" in got["synonyms"].iloc[0]
    same = panel.score(_table())
    pd.testing.assert_frame_equal(got.drop(columns="synonyms"), same)
    assert "synonyms" not in same.columns


@pytest.mark.filterwarnings("ignore::biomarkers.exceptions.BelowDetectionLimitWarning")
@pytest.mark.filterwarnings("ignore::biomarkers.exceptions.DataQualityWarning")
def test_a_panel_locked_on_one_export_scores_the_vendor_exports_the_same(tmp_path):
    import biomarkers as bm
    from biomarkers.study import Study

    trial = bm.datasets.simulate_trial(tmp_path, n_subjects=24, seed=1, cells_per_sample=0)
    p = trial.paths
    tables = {}
    for source in ("cytokines_long", "luminex_xponent", "msd_export"):
        study = Study.from_files(
            clinical=p["clinical"], samples=p["samples"], cytokines={"cytokines": p[source]}
        )
        blocks = {"cytokines": {}, "flow": False, "deltas": False}
        tables[source] = bm.features.build_feature_table(study, visits=["D0"], blocks=blocks)
    locked = ["cytokine:IL6@D0", "cytokine:TNFa@D0", "cytokine:MCP1@D0", "cytokine:IL8@D0"]
    assert not set(locked) & set(tables["luminex_xponent"].var_names)  # other spellings
    panel = BiomarkerPanel.from_weights(
        dict.fromkeys(locked, 0.4),
        intercept=-2.0,
        features_meta={m: {"training": TRAINING} for m in locked},
    )
    long = panel.score(tables["cytokines_long"], allow_missing="impute_training_median")
    for vendor in ("luminex_xponent", "msd_export"):
        got = panel.score(tables[vendor], allow_missing="impute_training_median")
        assert got["synonyms"].iloc[0].count("=") == 4
        # the MSD file rounds concentrations differently: equal to reading precision
        np.testing.assert_allclose(got["probability"], long["probability"], rtol=1e-3)
        assert got["n_imputed"].tolist() == long["n_imputed"].tolist()
