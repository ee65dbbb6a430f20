"""One cross-validation plan, one parallel map and one seed scheme for discover/panel/predictive."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import biomarkers.models as bm_models
from biomarkers.models import discover, predictive
from tests.models.conftest import make_binary

MODELS_DIR = Path(bm_models.__file__).parent


@pytest.fixture(scope="module")
def result():
    frame = make_binary(n=80, p=12, k=3, seed=5)
    return discover(
        frame, outcome="response", models=["enet"], cv=(3, 2), n_permutations=0, n_bootstraps=20
    )


def _panel_doc(panel) -> dict:
    doc = panel.to_dict()
    doc.pop("created", None)
    doc.pop("checksum", None)
    return doc


def test_result_stores_the_discovery_folds(result):
    plan = result.cv_plan
    assert (plan.n_splits, plan.n_repeats) == (3, 2)
    oof = result.oof_predictions
    pos = {s: i for i, s in enumerate(result._data.subjects)}
    for r in range(plan.n_repeats):
        rows = oof[(oof["repeat"] == r) & (oof["model"] == "enet")]
        want = np.full(len(pos), -1)
        want[[pos[s] for s in rows["subject_id"]]] = rows["fold"].to_numpy()
        assert np.array_equal(plan.fold_ids(r), want)


def test_panel_cross_validates_on_the_discovery_folds(result, monkeypatch):
    import biomarkers.models._result as result_module

    seen = []
    real = result_module.parallel_map

    def spy(fn, tasks, **kwargs):
        seen.extend(tasks)
        return real(fn, tasks, **kwargs)

    monkeypatch.setattr(result_module, "parallel_map", spy)
    result.panel(k=2, min_stability=0, model="enet")
    tests = [t[4] for t in seen]
    plan_tests = [te for _, _, _, te in result.cv_plan.folds()]
    assert len(tests) == len(plan_tests) == 6
    for got, want in zip(tests, plan_tests, strict=True):
        assert np.array_equal(got, want)


def test_panel_n_jobs_gives_the_same_panel_bit_for_bit(result):
    one = result.panel(k=2, min_stability=0, model="enet", n_jobs=1)
    two = result.panel(k=2, min_stability=0, model="enet", n_jobs=2)
    assert _panel_doc(one) == _panel_doc(two)


def _trial(n=120, seed=0):
    rng = np.random.default_rng(seed)
    arm = rng.random(n) < 0.5
    X = rng.normal(size=(n, 3))
    lin = -0.2 + 1.2 * arm * X[:, 0] + 0.8 * X[:, 1]
    df = pd.DataFrame(X, columns=["pred", "prog", "noise"], index=[f"S{i:03d}" for i in range(n)])
    df["arm"] = np.where(arm, "MSC", "SMT")
    df["response"] = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    return df


def test_predictive_accepts_two_string_labels():
    df = _trial()
    coded = predictive(df, outcome="response", arm="arm", treated="MSC", n_bootstraps=10,
                       n_permutations=0)  # fmt: skip
    words = df.assign(response=df["response"].map({0: "alive", 1: "dead"}))
    named = predictive(words, outcome="response", arm="arm", treated="MSC", n_bootstraps=10,
                       n_permutations=0)  # fmt: skip
    pd.testing.assert_frame_equal(named.markers, coded.markers)
    assert named.params["positive_class"] == "dead"
    assert coded.params["positive_class"] == "1"


def test_predictive_folds_come_from_the_named_seed_streams():
    from biomarkers.models._cv import seed_for
    from biomarkers.models._pred_cate import make_folds, outcome_strata

    df = _trial()
    res = predictive(df, outcome="response", arm="arm", treated="MSC", n_bootstraps=10,
                     n_permutations=0, random_state=7)  # fmt: skip
    arm = (df["arm"] == "MSC").to_numpy().astype(int)
    y = df["response"].to_numpy(dtype=float)
    want = make_folds(arm, outcome_strata("binary", y, None), 5, seed_for(7, "pred_folds"))
    assert np.array_equal(res.cate["fold"].to_numpy(), want)


def test_predictive_same_seed_same_result_whatever_n_jobs():
    df = _trial(n=100, seed=3)
    kw = {"outcome": "response", "arm": "arm", "treated": "MSC", "n_bootstraps": 10,
          "n_permutations": 3, "method": ("dr_learner",), "n_folds": 3}  # fmt: skip
    one = predictive(df, n_jobs=1, **kw)
    two = predictive(df, n_jobs=2, **kw)
    pd.testing.assert_frame_equal(one.cate, two.cate)
    for attr in ("rate", "toc", "benefit_calibration", "heterogeneity_test"):
        pd.testing.assert_frame_equal(getattr(one, attr), getattr(two, attr))
    assert np.array_equal(one.uplift["null"], two.uplift["null"])
    assert one.uplift["ci"] == two.uplift["ci"]


def _module_imports(path: Path) -> set[str]:
    """Every biomarkers.models._x module imported anywhere in ``path`` (function level too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n.split(".")[2] for n in names if n.startswith("biomarkers.models._")}
    return found - {path.stem}


def test_models_modules_import_each_other_without_circles():
    graph = {p.stem: _module_imports(p) for p in MODELS_DIR.glob("_*.py")}

    def reach(start):
        seen, todo = set(), list(graph.get(start, ()))
        while todo:
            m = todo.pop()
            if m not in seen:
                seen.add(m)
                todo.extend(graph.get(m, ()))
        return seen

    circles = sorted(m for m in graph if m in reach(m))
    assert circles == []


def _thread(_: int) -> str:
    import threading

    return threading.current_thread().name


def test_parallel_map_keeps_task_order_and_follows_the_active_backend():
    import threading

    import joblib

    from biomarkers.models._cv import parallel_map

    main = threading.current_thread().name
    got = parallel_map(abs, [(-i,) for i in range(6)], n_jobs=2, description="t")
    assert got == list(range(6))
    tasks = [(i,) for i in range(6)]
    assert set(parallel_map(_thread, tasks, n_jobs=None, description="t")) == {main}
    with joblib.parallel_backend("threading", n_jobs=2):
        # n_jobs=None inside a backend block runs on that block's workers
        assert main not in set(parallel_map(_thread, tasks, n_jobs=None, description="t"))
