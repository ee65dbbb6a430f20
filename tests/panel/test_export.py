from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_selection import VarianceThreshold
from sklearn.impute import SimpleImputer
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, StandardScaler
from sklearn.svm import LinearSVC

from biomarkers.exceptions import PanelFormatError, SchemaError
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


def test_zero_coefficients_are_left_out(clean_trial, tmp_path):
    df, y = clean_trial
    pipe = make_pipeline(StandardScaler(), Lasso(alpha=0.15)).fit(df, y.astype(float))
    used = [n for n, c in zip(df.columns, pipe[-1].coef_, strict=True) if c != 0]
    assert 0 < len(used) < df.shape[1]
    panel = BiomarkerPanel.from_estimator(pipe, X=df, threshold=None)
    assert panel.features == used
    got = _roundtrip(panel, tmp_path).score(df[used])
    np.testing.assert_allclose(got["score"], pipe.predict(df), rtol=0, atol=1e-12)
    assert got["probability"].isna().all()
    assert got["predicted"].isna().all()


@pytest.mark.parametrize(
    "final",
    [ElasticNet(alpha=0.01), LinearRegression()],
    ids=["elasticnet", "linear_regression"],
)
def test_linear_regressors_roundtrip(clean_trial, tmp_path, final):
    df, y = clean_trial
    target = df.iloc[:, 0].to_numpy() * 2 + y
    pipe = make_pipeline(MinMaxScaler(), final).fit(df.to_numpy(), target)
    panel = BiomarkerPanel.from_estimator(pipe, features=list(df.columns), X=df, threshold=None)
    got = _roundtrip(panel, tmp_path).score(df)
    np.testing.assert_allclose(got["score"], pipe.predict(df.to_numpy()), rtol=0, atol=1e-12)


def test_log_transform_roundtrip(clean_trial, tmp_path):
    df, y = clean_trial
    pos = df.abs() + 0.5
    pipe = make_pipeline(FunctionTransformer(np.log2), StandardScaler(), LogisticRegression()).fit(
        pos, y
    )
    panel = BiomarkerPanel.from_estimator(pipe, features=list(pos.columns), X=pos, threshold=0.4)
    assert {f["transform"] for f in panel.to_dict()["features"]} == {"log2"}
    got = _roundtrip(panel, tmp_path).score(pos)
    np.testing.assert_allclose(
        got["probability"], pipe.predict_proba(pos)[:, 1], rtol=0, atol=1e-12
    )


def test_calibrated_linear_svm_roundtrip(clean_trial, tmp_path):
    df, y = clean_trial
    pipe = make_pipeline(
        StandardScaler(), CalibratedClassifierCV(LinearSVC(C=0.1), method="sigmoid", cv=3)
    ).fit(df.to_numpy(), y)
    panel = BiomarkerPanel.from_estimator(pipe, features=list(df.columns), X=df, threshold=0.5)
    assert len(panel.to_dict()["model"]["members"]) == 3
    got = _roundtrip(panel, tmp_path).score(df)
    np.testing.assert_allclose(
        got["probability"], pipe.predict_proba(df.to_numpy())[:, 1], rtol=0, atol=1e-12
    )


def test_calibrated_isotonic_refused(clean_trial):
    df, y = clean_trial
    pipe = make_pipeline(CalibratedClassifierCV(LinearSVC(), method="isotonic", cv=3)).fit(
        df.to_numpy(), y
    )
    with pytest.raises(PanelFormatError, match="method='isotonic'; only 'sigmoid'"):
        BiomarkerPanel.from_estimator(pipe, features=list(df.columns), threshold=None)


def test_unsupported_step_refused_naming_it(clean_trial):
    from sklearn.decomposition import PCA

    df, y = clean_trial
    pipe = make_pipeline(StandardScaler(), PCA(n_components=2), LogisticRegression()).fit(
        df.to_numpy(), y
    )
    with pytest.raises(PanelFormatError, match=r"step 'pca' \(PCA\).*no plain-data"):
        BiomarkerPanel.from_estimator(pipe, features=list(df.columns), threshold=None)


def test_arbitrary_function_refused(clean_trial):
    df, y = clean_trial
    pipe = make_pipeline(FunctionTransformer(lambda x: x * 2), LogisticRegression()).fit(
        df.to_numpy(), y
    )
    with pytest.raises(PanelFormatError, match="arbitrary code"):
        BiomarkerPanel.from_estimator(pipe, features=list(df.columns), threshold=None)


def test_multiclass_refused(clean_trial):
    df, _ = clean_trial
    y3 = np.arange(df.shape[0]) % 3
    model = LogisticRegression().fit(df.to_numpy(), y3)
    with pytest.raises(PanelFormatError, match=r"panels need one|panels are binary"):
        BiomarkerPanel.from_estimator(model, features=list(df.columns), threshold=None)


def test_unfitted_refused(clean_trial):
    df, _ = clean_trial
    with pytest.raises(PanelFormatError, match="not fitted"):
        BiomarkerPanel.from_estimator(
            LogisticRegression(), features=list(df.columns), threshold=None
        )


def test_feature_names_mismatch_refused(clean_trial):
    df, y = clean_trial
    model = LogisticRegression().fit(df, y)
    with pytest.raises(SchemaError, match="feature_names_in_"):
        BiomarkerPanel.from_estimator(model, features=list(reversed(df.columns)), threshold=None)


def test_threshold_rule_needs_predictions(clean_trial):
    df, y = clean_trial
    model = LogisticRegression().fit(df, y)
    with pytest.raises(SchemaError, match="needs y_true and y_score"):
        BiomarkerPanel.from_estimator(model, threshold={"sensitivity": 0.9})
    assert BiomarkerPanel.from_estimator(model).threshold is None


# --------------------------------------------------------------------------- xgboost


@pytest.fixture
def xgb():
    return pytest.importorskip("xgboost")


@needs_imputer
def test_xgboost_classifier_roundtrip(trial, tmp_path, xgb):
    df, y = trial
    pipe = make_pipeline(
        CensoredValueImputer("lod_half", limits=[1.0] * 6),
        xgb.XGBClassifier(
            n_estimators=25, max_depth=2, learning_rate=0.3, n_jobs=1, random_state=0
        ),
    ).fit(df.to_numpy(), y)
    panel = BiomarkerPanel.from_estimator(pipe, features=list(df.columns), X=df, threshold=0.5)
    again = _roundtrip(panel, tmp_path)
    got = again.score(df)
    np.testing.assert_allclose(
        got["probability"], pipe.predict_proba(df.to_numpy())[:, 1], rtol=1e-6, atol=1e-7
    )
    margin = pipe[-1].predict(pipe[0].transform(df.to_numpy()), output_margin=True)
    np.testing.assert_allclose(got["score"], margin, rtol=1e-6, atol=1e-6)
    # xgboost handles missing values itself: NaN is scored and flagged, not refused
    assert got["imputed"].map(len).sum() == int(
        df.isna().to_numpy()[:, [df.columns.get_loc(f) for f in again.features]].sum()
    )


def test_xgboost_unused_features_not_required(clean_trial, tmp_path, xgb):
    df, y = clean_trial
    model = xgb.XGBClassifier(n_estimators=3, max_depth=1, n_jobs=1, random_state=0).fit(df, y)
    panel = BiomarkerPanel.from_estimator(model, X=df, threshold=0.5)
    booster_used = set(model.get_booster().get_score(importance_type="weight"))
    assert set(panel.features) == booster_used
    assert len(panel.features) < df.shape[1]
    got = _roundtrip(panel, tmp_path).score(df[panel.features])
    np.testing.assert_allclose(
        got["probability"], model.predict_proba(df)[:, 1], rtol=1e-6, atol=1e-7
    )


def test_xgboost_regressor_early_stopping_roundtrip(clean_trial, tmp_path, xgb):
    df, y = clean_trial
    target = df.iloc[:, 0].to_numpy() + y
    model = xgb.XGBRegressor(
        n_estimators=60, max_depth=2, n_jobs=1, random_state=0, early_stopping_rounds=3
    )
    model.fit(
        df.to_numpy()[:60], target[:60], eval_set=[(df.to_numpy()[60:], target[60:])], verbose=False
    )
    assert model.best_iteration < 59
    panel = BiomarkerPanel.from_estimator(model, features=list(df.columns), X=df, threshold=None)
    got = _roundtrip(panel, tmp_path).score(df)
    np.testing.assert_allclose(got["score"], model.predict(df.to_numpy()), rtol=1e-6, atol=1e-6)


def test_discovery_style_pipeline_roundtrip(trial, tmp_path):
    """The preprocessing of biomarkers.models' registry with its own elastic-net logistic."""
    features = pytest.importorskip("biomarkers.features")
    models = pytest.importorskip("biomarkers.models")
    df, y = trial
    pos = df.where(~np.isfinite(df) | (df > 0), 0.1)
    pipe = Pipeline(
        [
            (
                "censor",
                features.CensoredValueImputer(
                    "lod_sqrt2", limits=[1.0, 1.0, 1.0, np.nan, np.nan, np.nan]
                ),
            ),
            ("log", features.Log2Transformer(offset=1.0)),
            ("screen", models.UnivariateScreen(4, task="binary")),
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("variance", VarianceThreshold(0.0)),
            ("scale", StandardScaler()),
            ("model", models.ElasticNetLogistic(C=1.0, l1_ratio=0.5)),
        ]
    ).fit(pos.to_numpy(), y)
    panel = BiomarkerPanel.from_estimator(pipe, features=list(pos.columns), X=pos, threshold=0.5)
    assert len(panel.features) <= 4
    got = _roundtrip(panel, tmp_path).score(pos)
    np.testing.assert_allclose(
        got["probability"], pipe.predict_proba(pos.to_numpy())[:, 1], rtol=0, atol=1e-12
    )


def test_log2_transformer_keeps_censored_until_imputer(trial, tmp_path):
    features = pytest.importorskip("biomarkers.features")
    df, y = trial
    pos = df.where(~np.isfinite(df) | (df > 0), 0.1)
    pipe = make_pipeline(
        features.Log2Transformer(offset=0.5),
        features.CensoredValueImputer("min"),
        SimpleImputer(),
        LogisticRegression(),
    ).fit(pos.to_numpy(), y)
    panel = BiomarkerPanel.from_estimator(pipe, features=list(pos.columns), X=pos, threshold=None)
    ops = [op["op"] for op in panel.to_dict()["model"]["inputs"][0]["ops"]]
    assert ops[:3] == ["add", "log_finite", "fill_below"]
    got = _roundtrip(panel, tmp_path).score(pos)
    np.testing.assert_allclose(
        got["probability"], pipe.predict_proba(pos.to_numpy())[:, 1], rtol=0, atol=1e-12
    )


def test_generic_linear_estimator_checked_by_probe(clean_trial):
    """An estimator with coef_ whose predictions are not X @ coef_ + intercept_ is refused."""
    from sklearn.base import BaseEstimator, RegressorMixin

    class Shifted(RegressorMixin, BaseEstimator):
        def fit(self, X, y):
            self.coef_ = np.ones(X.shape[1])
            self.intercept_ = 0.0
            self.n_features_in_ = X.shape[1]
            return self

        def predict(self, X):
            return np.asarray(X) @ self.coef_ + 1.0

    df, y = clean_trial
    with pytest.raises(PanelFormatError, match="not the linear function of its coef_"):
        BiomarkerPanel.from_estimator(
            Shifted().fit(df.to_numpy(), y), features=list(df.columns), threshold=None
        )


def test_random_forest_refused(clean_trial):
    from sklearn.ensemble import RandomForestClassifier

    df, y = clean_trial
    rf = RandomForestClassifier(n_estimators=3, random_state=0).fit(df.to_numpy(), y)
    with pytest.raises(
        PanelFormatError,
        match=r"'RandomForestClassifier'.*not a supported final estimator; supported:",
    ):
        BiomarkerPanel.from_estimator(rf, features=list(df.columns), threshold=None)


def test_performance_table_from_discovery(clean_trial):
    df, y = clean_trial
    model = LogisticRegression().fit(df, y)
    perf = pd.DataFrame(
        {
            "model": ["enet", "enet"],
            "metric": ["auroc", "brier"],
            "estimate": [0.81, 0.18],
            "ci_low": [0.7, 0.15],
            "ci_high": [0.9, 0.21],
            "n": [90, 90],
        }
    )
    panel = BiomarkerPanel.from_estimator(
        model, performance={"validation": "5×5 nested CV", "metrics": perf}, outcome="tfs_d90"
    )
    doc = panel.to_dict()
    assert doc["performance"]["metrics"]["auroc"] == {
        "estimate": 0.81,
        "ci_low": 0.7,
        "ci_high": 0.9,
        "n": 90,
    }
    assert doc["outcome"] == {"name": "tfs_d90", "kind": "binary", "positive_class": 1}
    assert doc["threshold"] is None  # youden without predictions: no threshold
    with pytest.raises(SchemaError, match=r"several rows per metric \('auroc'"):
        BiomarkerPanel.from_estimator(model, performance=pd.concat([perf, perf]))


@pytest.mark.parametrize("kind", ["RatioCoxnet", "XGBCox"])
def test_survival_models_roundtrip(clean_trial, tmp_path, kind):
    """The registry's survival models (biomarkers.models) export their risk score."""
    survival = pytest.importorskip("biomarkers.models._survival")
    from sksurv.util import Surv

    df, _ = clean_trial
    rng = np.random.default_rng(0)
    time = rng.exponential(10, len(df)) * np.exp(-(df.iloc[:, 0].to_numpy() - 5))
    y = Surv.from_arrays(rng.random(len(df)) < 0.7, time)
    est = getattr(survival, kind)().fit(df.to_numpy(), y)
    panel = BiomarkerPanel.from_estimator(est, features=list(df.columns), X=df, threshold=None)
    assert panel.to_dict()["outcome"]["kind"] == "survival"
    got = _roundtrip(panel, tmp_path).score(df[panel.features])
    np.testing.assert_allclose(got["score"], est.predict(df.to_numpy()), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    ("strategy", "indicator", "scaler"),
    [
        ("mean", False, "standard"),
        ("median", True, "robust"),
        ("most_frequent", False, "minmax"),
        ("constant", True, "maxabs"),
        ("constant", False, "standard"),
        ("mean", True, "minmax"),
    ],
)
def test_preprocessing_combinations_reproduce_pipeline(trial, strategy, indicator, scaler):
    from sklearn.preprocessing import MaxAbsScaler, RobustScaler

    df, y = trial
    finite = df.where(~np.isinf(df))  # ±inf → NaN: SimpleImputer alone cannot take inf
    scalers = {
        "standard": StandardScaler(),
        "robust": RobustScaler(),
        "minmax": MinMaxScaler(),
        "maxabs": MaxAbsScaler(),
    }
    pipe = make_pipeline(
        SimpleImputer(strategy=strategy, add_indicator=indicator, fill_value=0.5),
        scalers[scaler],
        LogisticRegression(C=0.3),
    ).fit(finite.to_numpy(), y)
    panel = BiomarkerPanel.from_estimator(
        pipe, features=list(df.columns), X=finite.to_numpy(), threshold=None
    )
    got = panel.score(finite[panel.features])
    np.testing.assert_allclose(
        got["probability"], pipe.predict_proba(finite.to_numpy())[:, 1], rtol=0, atol=1e-12
    )
