from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_selection import SelectKBest, VarianceThreshold, f_classif
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from biomarkers.exceptions import ConfigError, SchemaError
from biomarkers.panel import BiomarkerPanel

try:
    from biomarkers.features import CensoredValueImputer
except ImportError:  # the features subpackage is written in parallel
    CensoredValueImputer = None

needs_imputer = pytest.mark.skipif(
    CensoredValueImputer is None, reason="biomarkers.features.CensoredValueImputer not available"
)


def _roundtrip(panel: BiomarkerPanel, tmp_path) -> BiomarkerPanel:
    panel.write(tmp_path / "panel")
    return BiomarkerPanel.read(tmp_path / "panel")


@needs_imputer
def test_logistic_pipeline_roundtrip_equals_predict_proba(trial, tmp_path):
    df, y = trial
    pipe = make_pipeline(
        CensoredValueImputer("lod_sqrt2", limits=[1.0, 1.0, 1.0, np.nan, np.nan, np.nan]),
        SimpleImputer(strategy="median", add_indicator=True),
        StandardScaler(),
        SelectKBest(f_classif, k=6),
        LogisticRegression(C=0.5),
    ).fit(df.to_numpy(), y)
    panel = BiomarkerPanel.from_estimator(
        pipe,
        features=list(df.columns),
        X=df,
        y_true=y,
        y_score=pipe.predict_proba(df.to_numpy())[:, 1],
    )
    again = _roundtrip(panel, tmp_path)
    got = again.score(df)
    np.testing.assert_allclose(
        got["probability"], pipe.predict_proba(df.to_numpy())[:, 1], rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(
        got["score"], pipe.decision_function(df.to_numpy()), rtol=0, atol=1e-12
    )
    assert again.to_dict() == panel.to_dict()
    # censored values are substituted and reported per subject
    n_inf = int(np.isinf(df[again.features].to_numpy()).sum())
    assert n_inf > 0
    assert got["censored"].map(len).sum() == n_inf
    assert got.loc[got["censored"].map(len) > 0, "flagged"].all()


def test_selector_drops_features_from_panel(clean_trial, tmp_path):
    df, y = clean_trial
    X = df.to_numpy().copy()
    X[:, 4] = 1.0  # constant: VarianceThreshold drops it
    frame = pd.DataFrame(X, index=df.index, columns=df.columns)
    pipe = make_pipeline(
        SimpleImputer(), VarianceThreshold(), StandardScaler(), LogisticRegression()
    ).fit(frame, y)
    panel = BiomarkerPanel.from_estimator(pipe, X=frame, threshold=0.5)
    assert "flow:Treg@D0" not in panel.features
    assert len(panel.features) == 5
    scored = _roundtrip(panel, tmp_path).score(frame.drop(columns="flow:Treg@D0"))
    np.testing.assert_allclose(
        scored["probability"], pipe.predict_proba(frame)[:, 1], rtol=0, atol=1e-12
    )
    expected_class = (pipe.predict_proba(frame)[:, 1] >= 0.5).astype(int)
    assert scored["predicted"].tolist() == expected_class.tolist()


# --------------------------------------------------------------------------- scoring


@pytest.fixture
def lr_panel(clean_trial, to_feature_table):
    df, y = clean_trial
    ft = to_feature_table(df)
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(df.to_numpy(), y)
    panel = BiomarkerPanel.from_estimator(pipe, features=list(df.columns), X=ft, threshold=0.5)
    return panel, pipe, df, ft


def test_score_anndata_and_tidy_match_wide(lr_panel):
    panel, _, df, ft = lr_panel
    wide = panel.score(df)
    np.testing.assert_allclose(panel.score(ft)["score"], wide["score"], rtol=0, atol=0)
    tidy = df.reset_index().melt(id_vars="subject_id", var_name="feature", value_name="value")
    pd.testing.assert_frame_equal(panel.score(tidy).loc[wide.index], wide)
    assert wide.index.name == "subject_id"
    assert list(wide.columns) == [
        "score",
        "probability",
        "predicted",
        "out_of_training_range",
        "imputed",
        "n_imputed",
        "censored",
        "flagged",
    ]


def test_score_missing_marker_refused_naming_it(lr_panel):
    panel, _, df, _ = lr_panel
    with pytest.raises(SchemaError, match=r"missing from the input: 'cytokine:TNF@D0'"):
        panel.score(df.drop(columns="cytokine:TNF@D0"))


def test_score_missing_marker_training_median_fallback(lr_panel):
    panel, pipe, df, _ = lr_panel
    got = panel.score(df.drop(columns="cytokine:TNF@D0"), allow_missing="impute_training_median")
    filled = df.copy()
    filled["cytokine:TNF@D0"] = df["cytokine:TNF@D0"].median()
    np.testing.assert_allclose(
        got["probability"], pipe.predict_proba(filled.to_numpy())[:, 1], atol=1e-12
    )
    assert got["flagged"].all()
    assert all("cytokine:TNF@D0" in v for v in got["imputed"])


def test_score_missing_value_without_imputer_refused(lr_panel):
    panel, _, df, _ = lr_panel
    bad = df.copy()
    bad.iloc[3, 1] = np.nan
    with pytest.raises(
        SchemaError, match=r"'cytokine:IL10@D0' is missing \(NaN\) for subject\(s\) 'P003'"
    ):
        panel.score(bad)
    got = panel.score(bad, allow_missing="impute_training_median")
    assert got.loc["P003", "imputed"] == ("cytokine:IL10@D0",)
    assert not got.drop(index="P003")["flagged"].any()


def test_score_censored_without_rule_refused(lr_panel):
    panel, _, df, _ = lr_panel
    bad = df.copy()
    bad.iloc[2, 0] = -np.inf
    with pytest.raises(SchemaError, match=r"censored values.*'P002'.*no censoring rule"):
        panel.score(bad)


def test_score_out_of_range_flagged(lr_panel):
    panel, _, df, _ = lr_panel
    new = df.iloc[:3].copy()
    new.iloc[0, 0] = df.iloc[:, 0].max() + 1.0
    new.iloc[1, 5] = df.iloc[:, 5].min() - 0.01
    got = panel.score(new)
    assert got["out_of_training_range"].tolist() == [
        ("cytokine:IL6@D0",),
        ("clinical:meld@D0",),
        (),
    ]
    assert got["flagged"].tolist() == [True, True, False]


def test_score_wrong_unit_refused(lr_panel):
    panel, _, df, ft = lr_panel
    ft = ft.copy()
    ft.var.loc["cytokine:IL6@D0", "unit"] = "ng/mL"
    with pytest.raises(SchemaError, match=r"'cytokine:IL6@D0' in 'ng/mL' \(panel: 'pg/mL'\)"):
        panel.score(ft)
    wide = df.copy()
    wide.attrs["units"] = {"flow:Treg@D0": "fraction"}
    with pytest.raises(SchemaError, match=r"wrong unit.*flow:Treg@D0"):
        panel.score(wide)
    wide.attrs["units"] = {"cytokine:IL6@D0": "PG / ml"}  # same unit, other spelling
    panel.score(wide)


def test_score_bad_tables_refused(lr_panel):
    panel, _, df, _ = lr_panel
    dup = pd.concat([df.iloc[:2], df.iloc[:1]])
    with pytest.raises(SchemaError, match="duplicate subject IDs 'P000'"):
        panel.score(dup)
    text = df.astype(object)
    text.iloc[4, 0] = "<3.2"
    with pytest.raises(
        SchemaError, match=r"column 'cytokine:IL6@D0' holds non-numeric values such as '<3.2'"
    ):
        panel.score(text)
    with pytest.raises(SchemaError, match="cannot score a ndarray"):
        panel.score(df.to_numpy())
    with pytest.raises(
        ConfigError,
        match="allow_missing='zero' is not supported; use one of: None, 'impute_training_median'",
    ):
        panel.score(df, allow_missing="zero")


def test_outcome_from_feature_table_uns(clean_trial, to_feature_table):
    df, y = clean_trial
    ft = to_feature_table(df)
    ft.uns["outcomes"] = {
        "tfs_d90": {
            "kind": "binary",
            "columns": ["tfs_d90"],
            "assessed_day": 90,
            "definition": "alive, no LT",
        }
    }
    model = LogisticRegression().fit(df.to_numpy(), y)
    panel = BiomarkerPanel.from_estimator(model, features=list(df.columns), X=ft, outcome="tfs_d90")
    assert panel.to_dict()["outcome"] == {
        "name": "tfs_d90",
        "kind": "binary",
        "assessed_day": 90,
        "definition": "alive, no LT",
        "positive_class": 1,
    }
    assert panel.to_dict()["population"]["n_subjects"] == len(df)


def test_feature_metadata_from_feature_table(lr_panel):
    panel, _, _, _ = lr_panel
    first = panel.to_dict()["features"][0]
    assert first["unit"] == "pg/mL"
    assert first["modality"] == "cytokine"
    assert first["visit"] == "D0"
    assert first["training"]["n"] == 90
    frame = panel.to_frame()
    assert frame.index.tolist() == panel.features
    assert frame.loc["cytokine:IL6@D0", "coefficient"] == pytest.approx(
        panel.to_dict()["model"]["coefficients"][0]
    )
    assert "Biomarker panel" in panel.summary()
    assert "<table" in panel._repr_html_()


def test_written_files_hold_no_subject_ids(lr_panel, tmp_path):
    panel, _, df, _ = lr_panel
    panel.write(tmp_path / "p")
    files = sorted(p.name for p in (tmp_path / "p").iterdir())
    assert files == ["panel.csv", "panel.json", "panel_card.html", "panel_card.md"]
    for path in (tmp_path / "p").iterdir():
        text = path.read_text()
        assert not any(sid in text for sid in df.index), path.name
    with pytest.raises(FileExistsError, match="overwrite=True"):
        panel.write(tmp_path / "p")
    panel.write(tmp_path / "p", overwrite=True)


def test_save_returns_the_paths_written_and_load_reads_them(lr_panel, tmp_path):
    panel, *_ = lr_panel
    written = panel.save(tmp_path / "p")
    assert sorted(written) == sorted((tmp_path / "p").iterdir())
    assert written[-1].name == "panel.json"  # written last: a folder with it is complete
    back = BiomarkerPanel.load(tmp_path / "p")
    assert back.to_dict() == panel.to_dict()


def test_both_constructors_build_the_same_document_shape(lr_panel):
    fitted, *_ = lr_panel
    published = BiomarkerPanel.from_weights({"cytokine:IL6@D0": 0.5}, intercept=-1.0)
    a, b = fitted.to_dict(), published.to_dict()
    assert list(a) == list(b)
    assert list(a["features"][0]) == list(b["features"][0])


# --------------------------------------------------------------------------- from_weights


def test_from_weights_scores_by_hand(tmp_path):
    panel = BiomarkerPanel.from_weights(
        {"cytokine:IL6@D0": 0.8, "clinical:meld@D0": 0.1},
        intercept=-3.0,
        features_meta={"cytokine:IL6@D0": {"transform": "log10", "unit": "pg/mL"}},
        threshold=0.5,
    )
    data = pd.DataFrame(
        {"cytokine:IL6@D0": [10.0, 1000.0], "clinical:meld@D0": [20.0, 35.0]},
        index=pd.Index(["a", "b"], name="subject_id"),
    )
    got = _roundtrip(panel, tmp_path).score(data)
    lp = -3.0 + 0.8 * np.log10(data.iloc[:, 0]) + 0.1 * data.iloc[:, 1]
    np.testing.assert_allclose(got["score"], lp, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got["probability"], 1 / (1 + np.exp(-lp)), rtol=1e-12)
    assert got["predicted"].tolist() == [int(p >= 0.5) for p in 1 / (1 + np.exp(-lp))]
    assert not got["flagged"].any()  # no training range stored: nothing to flag


def test_from_weights_bad_transform_refused():
    with pytest.raises(SchemaError, match="transform 'sqrt' is not one of"):
        BiomarkerPanel.from_weights(
            {"a:b@D0": 1.0}, intercept=0.0, features_meta={"a:b@D0": {"transform": "sqrt"}}
        )
