"""Late fusion (StackedModel), cooperative learning and discover(fusion=...)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from biomarkers.exceptions import ConfigError, SchemaError
from biomarkers.models import StackedModel, assay_blocks
from biomarkers.models._metrics import _auroc


def _auc(y, s) -> float:
    y = np.asarray(y, dtype=float)
    return float(_auroc(y, np.asarray(s, dtype=float), np.ones((1, len(y))))[0])


def make_blocks(n=90, seed=0, missing_flow=25):
    """Three blocks: cytokine and flow carry signal, olink is noise; flow missing for some."""
    rng = np.random.default_rng(seed)
    cols = (
        [f"cytokine:A{i}@D0" for i in range(4)]
        + [f"flow:F{i}@D0" for i in range(4)]
        + [f"olink:N{i}@D0" for i in range(4)]
    )
    X = pd.DataFrame(rng.normal(size=(n, len(cols))), columns=cols,
                     index=[f"S{i:03d}" for i in range(n)])  # fmt: skip
    lin = 1.5 * X["cytokine:A0@D0"] + 1.0 * X["flow:F0@D0"]
    y = (lin + rng.logistic(size=n) > 0).astype(int).to_numpy()
    flow = [c for c in cols if c.startswith("flow")]
    X.loc[X.index[:missing_flow], flow] = np.nan
    return X, y


@pytest.fixture(scope="module")
def fitted():
    X, y = make_blocks()
    return X, y, StackedModel(inner_cv=3, random_state=1).fit(X, y)


def test_assay_blocks_follow_the_name_grammar():
    names = ["pseudobulk:CD14_mono:S100A8@D0", "cytokine:IL6@D0", "age", "cytokine:IL6@D7-D0"]
    assert assay_blocks(names) == {
        "pseudobulk": ["pseudobulk:CD14_mono:S100A8@D0"],
        "cytokine": ["cytokine:IL6@D0", "cytokine:IL6@D7-D0"],
        "other": ["age"],
    }


def test_subject_missing_a_block_is_predicted_from_the_other_blocks(fitted):
    X, _, model = fitted
    miss = model.missing_blocks(X)
    assert miss["flow"].sum() == 25
    assert not miss[["cytokine", "olink"]].any().any()
    contrib = model.contributions(X)
    assert contrib.loc[miss["flow"], "flow"].isna().all()
    assert contrib.loc[~miss["flow"], "flow"].notna().all()
    # the missing-flow pattern has its own meta model over the other two blocks (not imputed):
    # changing the flow columns' fill does not matter, only the other blocks do
    icpt, w = model.meta_[frozenset({"cytokine", "olink"})]
    rows = X.index[miss["flow"]]
    eta = icpt + contrib.loc[rows, ["cytokine", "olink"]].sum(axis=1).to_numpy()
    assert np.allclose(model.decision_function(X.loc[rows]), eta)
    w_pat = dict(zip(["cytokine", "olink"], w, strict=True))
    lp = model.block_models_["cytokine"].linear_predictor(X.loc[rows])
    assert np.allclose(contrib.loc[rows, "cytokine"], w_pat["cytokine"] * lp)
    assert np.isfinite(model.predict_proba(X)[:, 1]).all()
    # a subject with no block at all gets the intercept-only model
    empty = X.iloc[:1].copy()
    empty.loc[:, :] = np.nan
    p0 = model.predict_proba(empty)[0, 1]
    assert np.isclose(np.log(p0 / (1 - p0)), model.meta_[frozenset()][0])


def test_meta_weights_are_non_negative_and_planted_blocks_lead(fitted):
    _, _, model = fitted
    assert all((np.asarray(w) >= 0).all() for _, w in model.meta_.values())
    w = model.weights_
    assert list(w.index) == ["cytokine", "flow", "olink"]
    assert w["cytokine"] > w["olink"]
    assert w["flow"] > w["olink"]


def test_to_dict_from_dict_round_trip_predicts_identically(fitted):
    X, _, model = fitted
    text = json.dumps(model.to_dict(), allow_nan=False)
    back = StackedModel.from_dict(json.loads(text))
    assert np.array_equal(back.predict_proba(X), model.predict_proba(X))
    pd.testing.assert_frame_equal(back.contributions(X), model.contributions(X))
    pd.testing.assert_series_equal(back.weights_, model.weights_)
    with pytest.raises(SchemaError, match="format"):
        StackedModel.from_dict({"format": "other"})


def test_linear_block_reproduces_the_registry_pipeline():
    from biomarkers.models._engine import FitConfig, nested_fit
    from biomarkers.models._fusion import linear_block
    from biomarkers.models._registry import get_spec

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 30))
    X[rng.random(X.shape) < 0.1] = np.nan
    X[:, 3][X[:, 3] < -1] = -np.inf  # censored values take the fold's fills
    X[:, 4][X[:, 4] > 1] = np.inf
    y = (np.nan_to_num(X[:, 0], posinf=2, neginf=-2) + rng.normal(size=60) > 0).astype(float)
    cols = [f"cytokine:A{i}@D0" for i in range(30)]
    cfg = FitConfig(task="binary", screen_k=10)
    pipe, _, _ = nested_fit(X, y, np.arange(60), get_spec("enet", "binary"), cfg, 0)
    block = linear_block(pipe, cols)
    assert 0 < len(block.features) <= 10
    lp = block.linear_predictor(pd.DataFrame(X, columns=cols))
    assert np.allclose(lp, pipe.decision_function(X), rtol=0, atol=1e-12)


def test_meta_learner_inputs_are_out_of_fold():
    X, y = make_blocks(n=60, seed=3, missing_flow=10)
    fits: dict[int, set] = {}
    scored = []

    class Spy(StackedModel):
        def _block_fit(self, spec, cfg, Xb, yb, seed):
            model = super()._block_fit(spec, cfg, Xb, yb, seed)
            fits[id(model)] = {row.tobytes() for row in np.asarray(Xb)}
            return model

        def _block_score(self, model, Xb):
            if id(model) in fits:  # a pipeline scored during fit: must not have seen the rows
                scored.append(sum(row.tobytes() in fits[id(model)] for row in np.asarray(Xb)))
            return super()._block_score(model, Xb)

    Spy(inner_cv=3).fit(X, y)
    assert len(scored) == 3 * 3  # three blocks, three inner folds each
    assert sum(scored) == 0


def test_deterministic_for_a_seed_and_clonable():
    X, y = make_blocks(n=60, seed=4)
    a = StackedModel(inner_cv=3, random_state=7).fit(X, y).to_dict()
    b = clone(StackedModel(inner_cv=3, random_state=7)).fit(X, y).to_dict()
    assert json.dumps(a) == json.dumps(b)
    c = StackedModel(inner_cv=3, random_state=8).fit(X, y).to_dict()
    assert json.dumps(a) != json.dumps(c)


def test_bad_input_errors_name_the_problem():
    X, y = make_blocks(n=40)
    with pytest.raises(SchemaError, match="DataFrame"):
        StackedModel().fit(X.to_numpy(), y)
    with pytest.raises(ConfigError, match="survival"):
        StackedModel(task="survival").fit(X, y)
    model = StackedModel(inner_cv=2).fit(X, y)
    with pytest.raises(SchemaError, match="cytokine:A0@D0"):
        model.predict_proba(X.drop(columns="cytokine:A0@D0"))
    model.block_models_["cytokine"] = object()  # what a tree base model leaves (a pipeline)
    with pytest.raises(ConfigError, match="linear"):
        model.to_dict()


def test_regression_task_stacks_with_non_negative_least_squares():
    X, _ = make_blocks(n=80, seed=5)
    rng = np.random.default_rng(5)
    y = 2 * X["cytokine:A0@D0"].to_numpy() + rng.normal(size=80)
    model = StackedModel(task="regression", inner_cv=3).fit(X, y)
    assert (model.weights_ >= 0).all()
    assert model.weights_["cytokine"] == model.weights_.max()
    pred = model.predict(X)
    assert np.corrcoef(pred, y)[0, 1] > 0.7


# ---------------------------------------------------------------- cooperative learning


def test_cooperative_rho_zero_is_early_fusion():
    from sklearn.linear_model import ElasticNet

    from biomarkers.models import CooperativeModel

    X, y = make_blocks(n=80, seed=6, missing_flow=0)
    early = CooperativeModel(rhos=(0.0,), inner_cv=3).fit(X, y)
    Z = early.pre_.transform(X[early.features_].to_numpy())
    ref = ElasticNet(alpha=early.alpha_, l1_ratio=0.5, fit_intercept=False, tol=1e-10,
                     max_iter=100_000).fit(Z, y - y.mean())  # fmt: skip
    assert np.abs(ref.coef_).max() > 0.05
    assert np.allclose(early.coef_, ref.coef_, atol=1e-6)
    # agreement changes the fit: the views' predictions move towards each other
    coop = CooperativeModel(rhos=(5.0,), inner_cv=3).fit(X, y)
    assert not np.allclose(coop.coef_, early.coef_, atol=1e-3)
    parts = coop.contributions(X)
    assert np.isclose(parts["cytokine"].corr(parts["flow"]), parts.corr().iloc[0, 1])
    assert np.allclose(parts.sum(axis=1) + coop.intercept_, coop.decision_function(X))
    gap = np.mean((parts["cytokine"] - parts["flow"]) ** 2)
    gap0 = np.mean(np.subtract(*early.contributions(X)[["cytokine", "flow"]].to_numpy().T) ** 2)
    assert gap < gap0


def test_cooperative_trains_on_complete_cases_and_needs_two_blocks():
    from biomarkers.models import CooperativeModel

    X, y = make_blocks(n=80, seed=7, missing_flow=20)
    model = CooperativeModel(inner_cv=3, rhos=(0.0, 1.0)).fit(X, y)
    assert model.n_complete_ == 60
    contrib = model.contributions(X)
    assert contrib["flow"].isna().sum() == 20
    assert np.isfinite(model.predict_proba(X)).all()
    with pytest.raises(ConfigError, match="two or more assay blocks"):
        CooperativeModel().fit(X[[c for c in X if c.startswith("cytokine")]], y)


# ---------------------------------------------------------------- discover(fusion=...)


@pytest.mark.parametrize("fusion", ["stacking", "cooperative"])
def test_discover_fusion_keeps_every_subject_and_reports_blocks(fusion, tmp_path):
    from biomarkers.models import DiscoveryResult, discover

    X, y = make_blocks(n=80, seed=8, missing_flow=15)
    X["response"] = y
    res = discover(X, outcome="response", models=["enet"], cv=(3, 1), n_permutations=0,
                   n_bootstraps=20, fusion=fusion)  # fmt: skip
    oof = res.oof_predictions
    assert oof["subject_id"].nunique() == 80
    assert oof["y_pred"].notna().all()
    w = res.fusion_weights
    assert set(w["block"]) == {"cytokine", "flow", "olink"}
    assert len(w) == 3 * 3  # three blocks in each of three outer fits
    assert (w["weight"] >= 0).all()
    c = res.fusion_contributions
    assert len(c) == 80
    assert c.set_index("subject_id").loc[X.index[:15], "flow"].isna().all()
    assert res.settings["fusion"] == fusion
    assert type(res.final_model["enet"]).__name__.lower().startswith(fusion[:4])
    res.save(tmp_path / "run")
    back = DiscoveryResult.load(tmp_path / "run")
    pd.testing.assert_frame_equal(back.fusion_weights, w, check_dtype=False)
    pd.testing.assert_frame_equal(back.fusion_contributions, c, check_dtype=False)
    auroc = res.performance.set_index("metric").loc["auroc", "estimate"]
    assert auroc > 0.65


def test_discover_fusion_is_fitted_inside_outer_training_folds(monkeypatch):
    from biomarkers.models import _fusion, discover

    X, y = make_blocks(n=60, seed=9, missing_flow=10)
    X["response"] = y
    seen = []
    fit = StackedModel.fit

    def spy(self, Xf, yf):
        seen.append(set(Xf.index))
        return fit(self, Xf, yf)

    monkeypatch.setattr(_fusion.StackedModel, "fit", spy)
    res = discover(X, outcome="response", models=["enet"], cv=(3, 1), n_permutations=0,
                   n_bootstraps=10, fusion="stacking")  # fmt: skip
    plan = res.cv_plan
    assert len(seen) == 3 + 1  # three outer folds and the final refit
    for (_, _, tr, _), rows in zip(plan.folds(), seen, strict=False):
        assert rows == set(range(len(tr))) or len(rows) == len(tr)
        assert len(rows) == len(tr)


def test_discover_fusion_rejects_survival_and_bad_names(feature_table):
    from biomarkers.models import discover

    with pytest.raises(ConfigError, match="fusion"):
        discover(feature_table, outcome="response", fusion="late")


def test_committee_block_is_the_mean_of_its_members():
    """One LinearBlock reproduces the mean linear predictor of inner-fold pipelines."""
    from biomarkers.models._engine import FitConfig, nested_fit
    from biomarkers.models._fusion import committee_block, linear_block
    from biomarkers.models._registry import get_spec

    rng = np.random.default_rng(1)
    X = rng.normal(size=(90, 20))
    X[rng.random(X.shape) < 0.1] = np.nan
    X[:, 3][X[:, 3] < -1] = -np.inf
    X[:, 4][X[:, 4] > 1] = np.inf
    signal = np.nan_to_num(X[:, [0, 3, 4]], posinf=2, neginf=-2, nan=0).sum(axis=1)
    y = (signal + rng.normal(size=90) > 0).astype(float)
    cols = [f"cytokine:A{i}@D0" for i in range(20)]
    cfg = FitConfig(task="binary", screen_k=8)
    pipes = [
        nested_fit(X[rows], y[rows], np.arange(rows.size), get_spec("enet", "binary"), cfg, k)[0]
        for k, rows in enumerate(np.array_split(rng.permutation(90), 3))
    ]
    block = committee_block([linear_block(p, cols) for p in pipes])
    assert np.allclose(block.center, 0)
    assert np.allclose(block.scale, 1)
    mean = np.mean([p.decision_function(X) for p in pipes], axis=0)
    lp = block.linear_predictor(pd.DataFrame(X, columns=cols))
    assert np.allclose(lp, mean, rtol=0, atol=1e-10)


def test_weights_are_per_sd_of_the_block_score(fitted):
    _, _, model = fitted
    raw = model._meta_for(frozenset(model.blocks_))[1]
    for b in model.blocks_:
        assert model.weights_[b] == pytest.approx(raw.get(b, 0.0) * model.score_scale_[b])
