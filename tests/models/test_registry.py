from __future__ import annotations

import numpy as np
import pytest

from biomarkers.exceptions import ConfigError
from biomarkers.models import available_models
from biomarkers.models._registry import REGISTRY, get_spec, make_preprocessing


def test_available_models_lists_the_closed_registry():
    table = available_models()
    assert list(table.columns) == ["name", "task", "description", "search_space"]
    pairs = set(zip(table["name"], table["task"], strict=True))
    assert pairs == {
        ("enet", "binary"),
        ("lasso", "binary"),
        ("rf", "binary"),
        ("xgboost", "binary"),
        ("svm", "binary"),
        ("coxnet", "survival"),
        ("xgboost_cox", "survival"),
        ("enet", "continuous"),
        ("xgboost", "continuous"),
    }
    assert all(isinstance(s, dict) and s for s in table["search_space"])
    assert set(available_models("survival")["name"]) == {"coxnet", "xgboost_cox"}


def test_unknown_task_and_model():
    with pytest.raises(ConfigError, match=r"task='binaryy'.*did you mean 'binary'"):
        available_models("binaryy")
    with pytest.raises(ConfigError, match=r"'xgbost' is not available for binary.*'xgboost'"):
        get_spec("xgbost", "binary")


@pytest.mark.parametrize("key", sorted(REGISTRY), ids=lambda k: f"{k[0]}-{k[1]}")
def test_every_entry_builds_an_estimator(key):
    spec = REGISTRY[key]
    est = spec.build(spec.grid[0], 0)
    assert hasattr(est, "fit")
    assert hasattr(est, "predict")
    pre = make_preprocessing(task=spec.task, screen_k=10)
    assert [n for n, _ in pre.steps] == ["censor", "screen", "impute", "variance", "scale"]


def test_preprocessing_without_censored_step_is_identical_on_finite_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 30))
    X[::5, 3] = np.nan
    y = (X[:, 0] > 0).astype(int)
    kw = {"task": "binary", "screen_k": 10, "limits": np.full(30, -5.0)}
    full = make_preprocessing(**kw).fit_transform(X, y)
    fast = make_preprocessing(**kw, censored=False)
    np.testing.assert_array_equal(fast.fit_transform(X, y), full)
    assert fast.named_steps["censor"] == "passthrough"
