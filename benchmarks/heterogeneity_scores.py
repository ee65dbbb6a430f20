"""Ablation behind predictive()'s RATE test: which DR score, which standard error.

For each null trial of ``benchmarks/heterogeneity.py`` (same generator, same folds as
``predictive()``), the sequential cross-fitted T- and DR-learner CATEs are judged on two DR
scores and with three p-values:

* DR score ``shared``: the AIPW score on the T-learner's own arm models (the design before
  December 2026); ``add``: on one ``outcome ~ arm + markers`` model of the earlier folds
  (what ``predictive()`` uses now, ``_heterogeneity.additive_dr_scores``).
* p-value ``half``: normal, half-sampling SE (200 half-samples); ``condvar``: normal, the SE
  given the ranking (``sum c_i^2 Var(phi_i)``, Var per arm and fold); ``perm``: 2,000
  within-fold permutations of the scores against the ranking. ``max`` in the summary = the
  larger of the two SEs (what ``rank_average_treatment_effect`` reports now).

    python benchmarks/heterogeneity_scores.py null_binary_3to1 0 400 --out scores_b31.csv
    python benchmarks/heterogeneity_scores.py --summary scores_*.csv
    python benchmarks/heterogeneity_scores.py --iid-normal     # half-sampling alone, no model
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from heterogeneity import SCENARIOS, make_trial

from biomarkers.models._cv import seed_for
from biomarkers.models._heterogeneity import sequential_cross_fit
from biomarkers.models._pred_cate import cross_fit, make_folds, outcome_strata
from biomarkers.models._rate import (
    _conditional_variance,
    _weights,
    rank_average_treatment_effect,
)


def _cond_and_perm(priority, phi, arm, folds, rng, n_perm=2000):
    """One-sided p of AUTOC / Qini: normal with the conditional SE, and within-fold permutation."""
    groups = [np.flatnonzero(folds == k) for k in np.unique(folds)]
    var = _conditional_variance(priority, phi, groups, arm)  # what the package reports
    est, perm = np.zeros(2), np.zeros((n_perm, 2))
    n = phi.size
    for i in groups:
        i = i[np.argsort(-priority[i], kind="stable")]  # ranked order
        ca, cq = _weights(priority[i])
        f, w = phi[i], i.size / n
        est += w * np.array([ca @ f, cq @ f])
        fp = f[np.argsort(rng.random((n_perm, i.size)), axis=1)]
        perm += w * np.column_stack([fp @ ca, fp @ cq])
    return norm.sf(est / np.sqrt(var)), (1 + (perm >= est).sum(axis=0)) / (n_perm + 1)


def one(name: str, seed: int) -> list[dict]:
    """Every p-value of one trial (learner × DR score × target × method)."""
    kind, planted, e, n = SCENARIOS[name]
    df = make_trial(kind, planted=planted, allocation=e, n=n, seed=seed)
    X = df[[f"m{j}" for j in range(10)]].to_numpy()
    y = df["y"].to_numpy(float)
    a = (df["arm"] == "T").to_numpy().astype(int)
    binary = kind == "binary"
    folds = make_folds(a, outcome_strata(kind, y, None), 5, seed_for(seed, "pred_folds"))
    seq = sequential_cross_fit(X, y, a, folds, binary=binary, learner="linear", propensity=e,
                               methods=("t_learner", "dr_learner"), seed=seed)  # fmt: skip
    shared = np.full(n, np.nan)
    for k in range(1, int(folds.max()) + 1):
        rows = folds <= k
        test = (folds[rows] == k).astype(int)
        cf = cross_fit(X[rows], y[rows], a[rows], test, binary=binary, learner="linear",
                       propensity=e, methods=("t_learner", "dr_learner"),
                       seed=seed_for(seed, "hte_sequential", k))  # fmt: skip
        shared[folds == k] = cf["phi"][test == 1]
    s = folds > 0
    rng = np.random.default_rng(seed)
    rows_out = []
    for learner, key in (("t", "cate_t"), ("dr", "cate_dr")):
        for score, phi in (("shared", shared), ("add", seq["phi"])):
            rate, _ = rank_average_treatment_effect(seq[key][s], phi[s], folds[s], n_bootstraps=200,
                                                    random_state=seed)  # fmt: skip
            half = rate["se_half_sampling"].to_numpy()
            p_half = norm.sf(rate["estimate"].to_numpy() / half)
            p_cond, p_perm = _cond_and_perm(seq[key][s], phi[s], a[s], folds[s], rng)
            base = {"scenario": name, "seed": seed, "learner": learner, "phi": score}
            for j, target in enumerate(("autoc", "qini")):
                for method, p in (("half", p_half), ("condvar", p_cond), ("perm", p_perm)):
                    rows_out.append({**base, "test": target, "method": method, "p": float(p[j])})
    return rows_out


def iid_normal(trials: int = 2000, n_half: int = 100, seed: int = 0) -> None:
    """Half-sampling z-test of the AUTOC with independent N(0, 1) scores and a random priority."""
    from biomarkers.models._rate import _rate_all

    rng = np.random.default_rng(seed)
    for folds, size in ((4, 20), (1, 80)):
        groups = [np.arange(k * size, (k + 1) * size) for k in range(folds)]
        z = np.empty(trials)
        for t in range(trials):
            priority, phi = rng.normal(size=folds * size), rng.normal(size=folds * size)
            est = _rate_all(priority, phi, groups, [1.0])[0]
            reps = []
            for _ in range(n_half):
                halves = [rng.choice(g, size // 2, replace=False) for g in groups]
                local = [np.arange(k * (size // 2), (k + 1) * (size // 2)) for k in range(folds)]
                idx = np.concatenate(halves)
                reps.append(_rate_all(priority[idx], phi[idx], local, [1.0])[0])
            z[t] = est / np.std(reps, ddof=1)
        print(f"{folds} fold(s) of {size}: SD of z {z.std():.3f}, "
              f"P(z > 1.645) = {(z > 1.645).mean():.3f} over {trials} trials")  # fmt: skip


def summarise(d: pd.DataFrame) -> pd.DataFrame:
    """Rejection rate at 0.05 per scenario, learner, DR score, target and method (+ ``max``)."""
    keys = ["scenario", "seed", "learner", "phi", "test"]
    w = d.pivot_table(index=keys, columns="method", values="p").reset_index()
    w["max"] = np.maximum(w["half"], w["condvar"])
    methods = ["half", "condvar", "perm", "max"]
    return w.groupby(["scenario", "learner", "phi", "test"])[methods].agg(
        lambda p: (p < 0.05).mean()
    )


def main() -> None:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", choices=[s for s in SCENARIOS if s.startswith("null")])
    ap.add_argument("first", nargs="?", type=int, default=0)
    ap.add_argument("stop", nargs="?", type=int, default=400)
    ap.add_argument("--out", default=None)
    ap.add_argument("--summary", nargs="+", default=None)
    ap.add_argument("--iid-normal", action="store_true", help="the model-free check only")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    if args.iid_normal:
        iid_normal()
        return
    if args.summary:
        d = pd.concat([pd.read_csv(f) for f in args.summary], ignore_index=True)
    else:
        d = pd.DataFrame([r for s in range(args.first, args.stop) for r in one(args.scenario, s)])
        if args.out:
            d.to_csv(args.out, index=False)
    with pd.option_context("display.width", 160, "display.max_rows", 200):
        print(summarise(d).round(3).to_string())


if __name__ == "__main__":
    main()
