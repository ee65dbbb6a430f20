"""Speed of the discovery engine against the straightforward scikit-learn implementation.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_discover.py cv --p 5000 --folds 2
    .venv/bin/python benchmarks/bench_discover.py cv --p 20000 --folds 1 --skip-enet-baseline
    .venv/bin/python benchmarks/bench_discover.py full --p 20000 --n-jobs 2
    .venv/bin/python benchmarks/bench_discover.py null --seeds 20

``cv`` times one outer fold at a time on the same folds: the baseline is GridSearchCV inside the
outer fold (saga elastic net over 5 C x 3 l1_ratio; XGBClassifier over depth x learning rate,
3-fold inner CV) and ours is one outer fit of ``discover`` (same 3-fold inner CV). ``full`` runs
a complete default ``discover`` (enet + xgboost, 5x10 outer x 3 inner, 1,000 bootstraps,
200 permutations of the whole pipeline). ``null`` shows the naive-selection trap.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import pandas as pd


def simulate(n: int, p: int, *, k: int = 10, effect: float = 1.0, seed: int = 0):
    """Binary outcome driven by ``k`` of ``p`` correlated-free Gaussian features."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = (effect * X[:, :k].sum(1) + rng.logistic(size=n) > 0).astype(int)
    return X, y


def baseline_enet():
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(
        SimpleImputer(strategy="median"),
        StandardScaler(),
        LogisticRegression(solver="saga", l1_ratio=0.5, max_iter=1000),
    )
    grid = {
        "logisticregression__C": [0.01, 0.03, 0.1, 0.3, 1.0],
        "logisticregression__l1_ratio": [0.2, 0.5, 0.8],
    }
    return GridSearchCV(
        pipe, grid, cv=StratifiedKFold(3, shuffle=True, random_state=0), scoring="roc_auc"
    )


def baseline_xgb():
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from xgboost import XGBClassifier

    est = XGBClassifier(n_estimators=200, tree_method="hist", verbosity=0)
    grid = {"max_depth": [2, 3, 4], "learning_rate": [0.05, 0.1, 0.3]}
    return GridSearchCV(
        est, grid, cv=StratifiedKFold(3, shuffle=True, random_state=0), scoring="roc_auc"
    )


def ours(model: str, X, y, tr, te, seed: int = 0):
    from biomarkers.models._engine import FitConfig, outer_fit
    from biomarkers.models._registry import get_spec

    p = X.shape[1]
    rng = np.random.default_rng(seed)
    src = np.sort(rng.choice(p, min(p, 5000), replace=False))
    decoys = X[rng.permutation(len(y))][:, src]
    cfg = FitConfig(task="binary", decoy_src=src, decoys=decoys)
    return outer_fit(
        X, y.astype(float), np.arange(len(y)), tr, te, get_spec(model, "binary"), cfg, seed
    )["pred"]


def cmd_cv(args):
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    X, y = simulate(100, args.p)
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))[: args.folds]
    ours("enet", X[:, :50], y, *folds[0])  # warm-up: numba compile / cache load, imports
    rows = []
    for f, (tr, te) in enumerate(folds):
        for name, make, mine in (
            ("enet", baseline_enet, "enet"),
            ("xgboost", baseline_xgb, "xgboost"),
        ):
            if (name == "enet" and args.skip_enet_baseline) or (
                name == "xgboost" and args.skip_xgb_baseline
            ):
                t_base, auc_base = float("nan"), float("nan")
            else:
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # saga ConvergenceWarning floods
                    gs = make().fit(X[tr], y[tr])
                t_base = time.perf_counter() - t0
                auc_base = roc_auc_score(y[te], gs.predict_proba(X[te])[:, 1])
            t0 = time.perf_counter()
            pred = ours(mine, X, y, tr, te)
            t_ours = time.perf_counter() - t0
            rows.append(
                {
                    "p": args.p,
                    "fold": f,
                    "model": name,
                    "baseline_s": round(t_base, 2),
                    "ours_s": round(t_ours, 2),
                    "speedup": round(t_base / t_ours, 1),
                    "baseline_auroc": round(auc_base, 3),
                    "ours_auroc": round(roc_auc_score(y[te], pred), 3),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    print(pd.DataFrame(rows).to_string(index=False))


def cmd_full(args):
    import logging

    from biomarkers.models import discover

    # timestamps of each stage (outer CV, ranking, permutations, final refit) on stderr
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    X, y = simulate(100, args.p)
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(args.p)])
    df["y"] = y
    t0 = time.perf_counter()
    res = discover(df, outcome="y", n_jobs=args.n_jobs)
    elapsed = time.perf_counter() - t0
    print(f"complete default discover, n=100, p={args.p}, n_jobs={args.n_jobs}: {elapsed:.0f} s")
    print(res.to_frame().query("metric == 'auroc'").to_string(index=False))
    print("permutation p =", res.permutation["p_value"])


def cmd_null(args):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from biomarkers.models import discover

    rows = []
    for seed in range(args.seeds):
        rng = np.random.default_rng(1000 + seed)
        X = rng.normal(size=(100, 2000))
        y = rng.integers(0, 2, 100)
        # the trap: choose the 20 most associated features on all subjects, then cross-validate
        t = np.abs(X[y == 1].mean(0) - X[y == 0].mean(0))
        top = np.argsort(-t)[:20]
        pred = cross_val_predict(
            LogisticRegression(),
            X[:, top],
            y,
            cv=StratifiedKFold(5, shuffle=True, random_state=seed),
            method="predict_proba",
        )[:, 1]
        res = discover(
            pd.DataFrame(X),
            outcome=pd.Series(y),
            models=["enet"],
            cv=(5, 1),  # the settings of tests/models/test_null_calibration.py
            n_permutations=39,
            n_bootstraps=200,
            n_decoys=0,
            screen_k=200,
            random_state=seed,
            n_jobs=args.n_jobs,
        )
        row = res.performance.query("metric == 'auroc'").iloc[0]
        rows.append(
            {
                "seed": seed,
                "naive_auroc": roc_auc_score(y, pred),
                "discover_auroc": row["estimate"],
                "ci_covers_0.5": row["ci_low"] <= 0.5 <= row["ci_high"],
                "perm_p": res.permutation["p_value"],
            }
        )
        print(json.dumps(rows[-1], default=float), flush=True)
    df = pd.DataFrame(rows)
    print(df.describe().to_string())
    print(
        "CI covers 0.5 in",
        df["ci_covers_0.5"].mean(),
        "; perm p < 0.05 in",
        (df["perm_p"] < 0.05).mean(),
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("cv")
    a.add_argument("--p", type=int, default=5000)
    a.add_argument("--folds", type=int, default=1)
    a.add_argument("--skip-enet-baseline", action="store_true")
    a.add_argument("--skip-xgb-baseline", action="store_true")
    b = sub.add_parser("full")
    b.add_argument("--p", type=int, default=20000)
    b.add_argument("--n-jobs", type=int, default=2)
    c = sub.add_parser("null")
    c.add_argument("--seeds", type=int, default=20)
    c.add_argument("--n-jobs", type=int, default=1)
    args = ap.parse_args()
    {"cv": cmd_cv, "full": cmd_full, "null": cmd_null}[args.cmd](args)


if __name__ == "__main__":
    main()
