"""Coverage of the CIs of ``BiomarkerPanel.evaluate`` on cohorts with a known truth (issue 25).

A locked logistic panel (three N(0, 1) markers, coefficients 0.8, -0.5, 0.4, intercept -0.5)
meets validation cohorts drawn from ``logit P(y) = a + b LP`` (the scenarios below). The true
value of every measure is computed once on 2,000,000 subjects from the same model; each
replicate cohort of size ``n`` is evaluated and we record whether each 95% CI covers the truth.

    nice -n 10 python benchmarks/bench_evaluate.py --n 200 500 --replicates 400 \
        --out benchmarks/evaluate_coverage.csv

Rows already in ``--out`` are skipped (resumable); ``--summary`` prints the summary only.
ICI/E50/E90 get bootstrap CIs (``--bootstraps``), the slowest part.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit

COEF = np.array([0.8, -0.5, 0.4])
INTERCEPT = -0.5
NAMES = ["cytokine:IL6@D0", "cytokine:IL8@D0", "clinical:meld@D0"]
SCENARIOS = {"calibrated": (0.0, 1.0), "intercept": (0.7, 1.0), "slope": (0.0, 0.6)}
METRICS = (
    "auroc", "calibration_in_the_large", "calibration_slope", "oe_ratio", "brier", "ici",
    "sensitivity", "specificity", "ppv", "npv",
)  # fmt: skip
THRESHOLD = 0.5


def _panel():
    from biomarkers.panel import BiomarkerPanel

    return BiomarkerPanel.from_weights(
        dict(zip(NAMES, COEF.tolist(), strict=True)), intercept=INTERCEPT, threshold=THRESHOLD
    )


def _draw(n: int, a: float, b: float, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    X = rng.normal(0.0, 1.0, (n, len(NAMES)))
    lp = INTERCEPT + X @ COEF
    y = (rng.random(n) < expit(a + b * lp)).astype(float)
    return pd.DataFrame(X, columns=NAMES, index=[f"S{i}" for i in range(n)]), y


def truth(a: float, b: float) -> dict[str, float]:
    """Population values on 2,000,000 subjects (CITL and slope by the same logistic fits)."""
    from biomarkers.panel._evaluate import discrimination
    from biomarkers.panel._measures import logistic_fit, logit
    from biomarkers.panel._threshold import threshold_metrics

    rng = np.random.default_rng(12345)
    X, y = _draw(2_000_000, a, b, rng)
    p = expit(INTERCEPT + X.to_numpy() @ COEF)
    lp = logit(p)
    out = {"auroc": discrimination(y, p)["estimate"]}
    one = np.ones((y.size, 1))
    out["calibration_in_the_large"] = float(logistic_fit(one, y, offset=lp).params[0])
    out["calibration_slope"] = float(logistic_fit(np.column_stack([one, lp]), y).params[1])
    out["oe_ratio"] = float(y.sum() / p.sum())
    out["brier"] = float(np.mean((p - y) ** 2))
    # ICI of the true calibration curve: E|P(y=1 | p) - p| with P(y=1 | p) = expit(a + b logit p)
    out["ici"] = float(np.mean(np.abs(expit(a + b * np.log(p / (1 - p))) - p)))
    m = threshold_metrics(y, p, THRESHOLD)
    out.update({k: m[k]["estimate"] for k in ("sensitivity", "specificity", "ppv", "npv")})
    return out


def replicate(panel, n: int, scenario: str, seed: int, truths: dict, *, bootstraps: int):
    a, b = SCENARIOS[scenario]
    X, y = _draw(n, a, b, np.random.default_rng([n, seed, list(SCENARIOS).index(scenario)]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = panel.evaluate(X, pd.Series(y, index=X.index), n_bootstraps=bootstraps)
    perf = ev.performance.set_index("metric")
    rows = []
    for metric in METRICS:
        if metric not in perf.index:
            continue
        r = perf.loc[metric]
        target = truths[scenario][metric]
        rows.append(
            {
                "n": n, "scenario": scenario, "seed": seed, "metric": metric,
                "estimate": r["estimate"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                "target": target, "covers": bool(r["ci_low"] <= target <= r["ci_high"]),
                "update": ev.update.chosen,
            }
        )  # fmt: skip
    return rows


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    cov = frame.groupby(["scenario", "n", "metric"])["covers"].agg(["mean", "size"])
    return cov.rename(columns={"mean": "coverage", "size": "replicates"}).reset_index()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[200, 500])
    parser.add_argument("--replicates", type=int, default=400)
    parser.add_argument("--bootstraps", type=int, default=100)
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/evaluate_coverage.csv"))
    parser.add_argument("--summary", action="store_true")
    args = parser.parse_args()
    done = pd.read_csv(args.out) if args.out.is_file() else pd.DataFrame()
    if not args.summary:
        panel = _panel()
        truths = {s: truth(*SCENARIOS[s]) for s in args.scenarios}
        seen = (
            set(zip(done["n"], done["scenario"], done["seed"], strict=True)) if len(done) else set()
        )
        for n in args.n:
            for scenario in args.scenarios:
                for seed in range(args.replicates):
                    if (n, scenario, seed) in seen:
                        continue
                    rows = replicate(panel, n, scenario, seed, truths, bootstraps=args.bootstraps)
                    pd.DataFrame(rows).to_csv(
                        args.out, mode="a", header=not args.out.is_file(), index=False
                    )
        done = pd.read_csv(args.out)
    print(summary(done).to_string(index=False, float_format="%.3f"))


if __name__ == "__main__":
    main()
