"""Rejection rates of predictive()'s heterogeneity checks on null and planted-benefit trials.

Each scenario draws one-row-per-subject trials from its own generator (independent of
``bm.datasets.simulate_trial``): 10 standard-normal baseline markers, two of them prognostic,
randomisation with probability ``allocation`` to the treated arm.

* ``null_*``: the treatment effect is the same for everybody (a constant risk difference of
  0.15 for binary outcomes, a constant mean difference of 0.5 for continuous ones), so every
  check of heterogeneity on the CATE's scale should reject at most at the nominal rate.
* ``planted_*``: the effect grows with marker ``m2`` (binary: risk difference 0.15 + 0.25
  tanh(m2), n = 2,000; continuous: mean difference 0.5 + 0.75 m2, n = 1,000).

For every trial ``predictive(method=("t_learner", "dr_learner"))`` runs and the one-sided
p-values are collected: RATE AUTOC and Qini, the benefit-calibration slope (the same BLP
slope test as ``result.heterogeneity``), and the repeated-CV heterogeneity test. The
rejection rate at alpha = 0.05 has a Wilson interval over seeds.

    python benchmarks/heterogeneity.py --seeds 40 --scenarios null_binary_1to1 \
        null_binary_3to1 null_continuous_1to1 null_continuous_3to1 --out null.csv
    python benchmarks/heterogeneity.py --seeds 20 --scenarios planted_binary_n2000 \
        planted_continuous_n1000 --out planted.csv
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

import biomarkers as bm
from biomarkers._stats import wilson_interval

SCENARIOS = {
    # name: (kind, planted, allocation, n)
    "null_binary_1to1": ("binary", False, 0.5, 100),
    "null_binary_3to1": ("binary", False, 0.75, 100),
    "null_continuous_1to1": ("continuous", False, 0.5, 100),
    "null_continuous_3to1": ("continuous", False, 0.75, 100),
    "planted_binary_n2000": ("binary", True, 0.5, 2000),
    "planted_continuous_n1000": ("continuous", True, 0.5, 1000),
}


def make_trial(kind: str, *, planted: bool, allocation: float, n: int, seed: int):
    """One trial, one row per subject: ``arm``, ``m0..m9`` and ``y``."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 10))
    arm = (rng.random(n) < allocation).astype(int)
    prog = X[:, 0] + 0.5 * X[:, 1]
    if kind == "binary":
        effect = 0.15 + (0.25 * np.tanh(X[:, 2]) if planted else 0.0)
        risk = np.clip(0.15 + 0.5 * norm.cdf(prog / 1.2) + arm * effect, 0.0, 1.0)
        y = (rng.random(n) < risk).astype(int)
    else:
        effect = 0.5 + (0.75 * X[:, 2] if planted else 0.0)
        y = prog + arm * effect + rng.normal(size=n)
    df = pd.DataFrame(X, columns=[f"m{j}" for j in range(10)])
    df.insert(0, "arm", np.where(arm == 1, "T", "C"))
    df["y"] = y
    df.index = [f"s{i}" for i in range(n)]
    return df


def p_values(res) -> list[dict]:
    """The one-sided p-values of one result, one row per (learner, test)."""
    rows = []
    for _, r in res.rate.iterrows():
        rows.append({"learner": r["learner"], "test": f"rate_{r['target'].lower()}",
                     "p": r["p_value"]})  # fmt: skip
    slope = res.benefit_calibration.query("kind == 'slope'")
    for _, r in slope.iterrows():
        rows.append({"learner": r["learner"], "test": "calibration_slope", "p": r["p_value"]})
    rows.append(
        {"learner": "ridge", "test": "nested_cv", "p": res.heterogeneity_test["p_value"].iloc[0]}
    )
    return rows


def run(
    seeds: int, scenarios: list[str], n_bootstraps: int, *, first_seed: int = 0, out_csv=None
) -> pd.DataFrame:
    """Every p-value of every seed and scenario (appended to ``out_csv`` seed by seed)."""
    out = []
    for name in scenarios:
        kind, planted, allocation, n = SCENARIOS[name]
        start = time.perf_counter()
        for seed in range(first_seed, first_seed + seeds):
            df = make_trial(kind, planted=planted, allocation=allocation, n=n, seed=seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = bm.models.predictive(
                    df, outcome="y", arm="arm", treated="T", markers=[f"m{j}" for j in range(10)],
                    method=("t_learner", "dr_learner"), propensity=allocation,
                    n_bootstraps=n_bootstraps, n_permutations=0, random_state=seed, n_jobs=1,
                )  # fmt: skip
            rows = [{"scenario": name, "seed": seed, **r} for r in p_values(res)]
            out += rows
            if out_csv:  # resumable record: a stopped run keeps the seeds it finished
                new = not Path(out_csv).exists()
                pd.DataFrame(rows).to_csv(out_csv, mode="a", header=new, index=False)
        print(f"{name}: {seeds} seeds in {time.perf_counter() - start:.0f} s", flush=True)
    return pd.DataFrame(out)


def summarise(p: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Rejection rate at ``alpha`` per scenario, learner and test, with a Wilson interval."""
    rows = []
    for (scenario, learner, test), g in p.groupby(["scenario", "learner", "test"], sort=False):
        k, m = int((g["p"] < alpha).sum()), int(g["p"].notna().sum())
        lo, hi = wilson_interval(k, m)
        rows.append({"scenario": scenario, "learner": learner, "test": test, "seeds": m,
                     "rejected": k, "rate": k / m if m else np.nan, "wilson_low": lo,
                     "wilson_high": hi})  # fmt: skip
    return pd.DataFrame(rows)


def main() -> None:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=list(SCENARIOS))
    ap.add_argument("--n-bootstraps", type=int, default=200)
    ap.add_argument("--first-seed", type=int, default=0, help="to add seeds to an earlier run")
    ap.add_argument("--out", default=None, help="CSV of every p-value (appended seed by seed)")
    ap.add_argument("--summary", nargs="+", default=None, help="only summarise these CSVs")
    args = ap.parse_args()
    if args.summary:
        p = pd.concat([pd.read_csv(f) for f in args.summary], ignore_index=True)
    else:
        p = run(args.seeds, args.scenarios, args.n_bootstraps, first_seed=args.first_seed,
                out_csv=args.out)  # fmt: skip
    with pd.option_context("display.width", 160, "display.max_rows", 200):
        print(summarise(p).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
