"""Benchmark of the shrunk treatment × marker interactions of ``predictive()`` (issue 23).

Its own generator (not the trial simulator): ``P = 30`` standard-normal baseline markers in 6
blocks of 5 with an exchangeable within-block correlation of 0.4; 6 planted predictive markers,
the first of each block, with interactions ``DELTA = (0.7, -0.5, 0.3, 0.7, -0.5, 0.3)`` (log odds
ratio per SD) and a main effect of 0.3 each; a prognostic-only marker (second of block 1, 0.6);
arm effect 0.3, intercept -0.3; a binary outcome from the logistic model. Allocation 1:1 or 3:1
(the known randomisation probability is passed to ``predictive``).

The truth of a marker's interaction is its planted coefficient (0 for the others). Per cohort
and method (``raw``, ``eb``, ``ridge``, ``horseshoe``) it records the squared errors and the
coverage of the 95% intervals over the planted and over the null markers.

    python benchmarks/shrinkage.py --seeds 20 --n 100 400 --allocation 0.5 0.75 \
        --out benchmarks/shrinkage_results.csv

Rows already in ``--out`` are skipped (resumable); ``--summary`` prints the table of an existing
``--out`` only.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

P, BLOCK, RHO = 30, 5, 0.4
DELTA = np.array([0.7, -0.5, 0.3, 0.7, -0.5, 0.3])
PLANTED = np.arange(0, P, BLOCK)  # the first marker of each block
MAIN = 0.3
PROGNOSTIC = (1, 0.6)  # (marker, main effect): prognostic only
METHODS = ("eb", "ridge", "horseshoe")


def truth() -> np.ndarray:
    """Planted interaction of each marker (log odds ratio per SD)."""
    out = np.zeros(P)
    out[PLANTED] = DELTA
    return out


def simulate(n: int, allocation: float, seed: int) -> pd.DataFrame:
    """One trial: arm, markers m00..m29 (block-correlated), binary response."""
    rng = np.random.default_rng([seed, n, int(allocation * 1000)])
    shared = rng.standard_normal((n, P // BLOCK)).repeat(BLOCK, axis=1)
    X = np.sqrt(RHO) * shared + np.sqrt(1 - RHO) * rng.standard_normal((n, P))
    n_t = round(allocation * n)
    arm = rng.permutation(np.r_[np.ones(n_t), np.zeros(n - n_t)])
    main = np.zeros(P)
    main[PLANTED] = MAIN
    main[PROGNOSTIC[0]] = PROGNOSTIC[1]
    lin = -0.3 + 0.3 * arm + X @ main + arm * (X @ truth())
    y = (rng.random(n) < special.expit(lin)).astype(int)
    df = pd.DataFrame(X, columns=[f"m{j:02d}" for j in range(P)])
    return df.assign(arm=np.where(arm == 1, "MSC", "SMT"), response=y)


def one_cohort(n: int, allocation: float, seed: int) -> list[dict]:
    """Squared errors and coverage of raw and shrunk interactions in one simulated trial."""
    from biomarkers.models import predictive

    df = simulate(n, allocation, seed)
    t = truth()
    planted = np.isin(np.arange(P), PLANTED)
    rows = []
    for method in METHODS:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = predictive(
                df, outcome="response", arm="arm", treated="MSC", method=["interaction"],
                propensity=allocation, shrinkage=method, random_state=seed,
            )  # fmt: skip
        seconds = time.perf_counter() - start
        m = res.markers.set_index("marker").loc[[f"m{j:02d}" for j in range(P)]]
        variants = {method: ("interaction_shrunk", "interaction_shrunk_ci_low",
                             "interaction_shrunk_ci_high")}  # fmt: skip
        if method == METHODS[0]:
            variants = {"raw": ("interaction", "ci_low", "ci_high"), **variants}
        for name, (est, lo, hi) in variants.items():
            e, low, high = (m[c].to_numpy(float) for c in (est, lo, hi))
            for group, mask in (("planted", planted), ("null", ~planted)):
                ok = np.isfinite(e[mask])
                rows.append(
                    {
                        "n": n, "allocation": allocation, "seed": seed, "method": name,
                        "group": group, "n_markers": int(ok.sum()),
                        "sse": float(np.sum((e[mask][ok] - t[mask][ok]) ** 2)),
                        "covered": int(np.sum((low[mask] <= t[mask]) & (t[mask] <= high[mask]))),
                        "seconds": seconds if name != "raw" else 0.0,
                    }
                )  # fmt: skip
    return rows


def summary(results: pd.DataFrame) -> pd.DataFrame:
    """Mean squared error and coverage per scenario and method: planted, null and all markers."""
    keys = ["n", "allocation", "method"]
    parts = {}
    for group in ("planted", "null", "all"):
        r = results if group == "all" else results[results["group"] == group]
        g = r.groupby(keys, sort=False)
        parts[f"mse_{group}"] = g["sse"].sum() / g["n_markers"].sum()
        parts[f"coverage_{group}"] = g["covered"].sum() / g["n_markers"].sum()
    g = results[results["group"] == "planted"].groupby(keys, sort=False)
    parts["seconds"] = g["seconds"].mean()
    parts["seeds"] = g["seed"].nunique()
    return pd.DataFrame(parts)


def run(seeds: int, ns, allocations, out: Path | None = None) -> pd.DataFrame:
    """All cohorts; with ``out``, rows are appended per cohort and cohorts already there skipped."""
    done = (
        pd.read_csv(out, keep_default_na=False, na_values=[""])
        if out is not None and out.is_file()
        else pd.DataFrame()
    )
    have = (
        set() if done.empty else set(zip(done["n"], done["allocation"], done["seed"], strict=True))
    )
    for n in ns:
        for a in allocations:
            for seed in range(seeds):
                if (n, a, seed) in have:
                    continue
                rows = pd.DataFrame(one_cohort(n, a, seed))
                if out is not None:
                    rows.to_csv(out, mode="a", header=not out.is_file(), index=False)
                done = pd.concat([done, rows], ignore_index=True)
    keep = done["n"].isin(ns) & done["allocation"].isin(allocations) & (done["seed"] < seeds)
    return done[keep]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--n", type=int, nargs="+", default=[100, 400])
    ap.add_argument("--allocation", type=float, nargs="+", default=[0.5, 0.75])
    ap.add_argument("--out", type=Path, default=Path("benchmarks/shrinkage_results.csv"))
    ap.add_argument("--summary", action="store_true", help="summarise an existing --out only")
    args = ap.parse_args()
    if args.summary:
        results = pd.read_csv(args.out, keep_default_na=False, na_values=[""])  # group "null"
    else:
        results = run(args.seeds, args.n, args.allocation, args.out)
    with pd.option_context("display.width", 160, "display.precision", 3):
        print(summary(results).to_string())


if __name__ == "__main__":
    main()
