"""Late fusion (stacking) vs early fusion with imputation on simulated trials with missing assays.

    python benchmarks/fusion.py                       # 10 seeds, results in benchmarks/fusion_results.csv
    python benchmarks/fusion.py --seeds 0 1 --splits 3 --repeats 1   # a quick look

Every seed simulates the default-scenario trial (100 subjects, single-cell at D0) with 30% of
the patients missing single-cell data and 15% missing flow
(``simulate_trial(missing_assays={"singlecell": 0.3, "flow": 0.15})``), builds the baseline
FeatureTable and runs ``discover(models=["enet"])`` twice on the same outer folds (same seed):
``fusion="none"`` (early fusion: all features in one elastic net, missing values median-imputed
inside each training fold; the current discover path) and ``fusion="stacking"``. The outcome is
transplant-free survival at day 90 (binary).

So that one block carries no planted signal, the truth's negative-control features
(``truth.null_features``: VEGF, IFN-γ, IL-17A, Olink CD40, flow CD4) are renamed into their
own block ``null`` (``null:<entity>@D0``) in both analyses. "Planted" blocks are the
modalities of ``truth.prognostic`` plus ``clinical`` (``truth.prognostic_clinical``).

Reported per seed: subjects analysed, AUROC (per-fold mean, BBC 95% CI) of both, the paired
ΔAUROC of the pooled out-of-fold predictions with a subject-bootstrap 95% CI, and the mean
stacking weight of every block over the outer fits; then the mean Δ over seeds (t interval)
and the mean weight per block.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def _auc(y, s) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, s))


def _table(seed: int, cells: int):
    import biomarkers as bm
    from biomarkers._names import parse_feature_name

    out = tempfile.mkdtemp(prefix=f"fusion{seed}_")
    trial = bm.datasets.simulate_trial(
        out, n_subjects=100, seed=seed, cells_per_sample=cells, singlecell_visits=("D0",),
        missing_assays={"singlecell": 0.3, "flow": 0.15},
    )  # fmt: skip
    study = trial.study(cytokines=("luminex_xponent", "olink_npx"))
    outcome = bm.clinical.transplant_free_survival(study.clinical, horizon_days=90)
    table = bm.features.build_feature_table(study, visits=["D0"], outcome=outcome)
    table = table[table.obs["tfs90"].notna().to_numpy()].copy()
    nulls = set(trial.truth.features("null", source="luminex"))
    rename = {f: f"null:{parse_feature_name(f).entity}@D0" for f in table.var_names if f in nulls}
    table.var_names = [rename.get(f, f) for f in table.var_names]
    planted = {p["modality"] for p in trial.truth.prognostic} | {"clinical"}
    return table, planted, trial.truth.missing_assays


def _paired_delta(y, a, b, rng, n_boot=1000) -> tuple[float, float, float]:
    """ΔAUROC (b − a) of pooled predictions with a subject-bootstrap percentile CI."""
    est = _auc(y, b) - _auc(y, a)
    vals = []
    for _ in range(n_boot):
        i = rng.integers(0, len(y), len(y))
        if len(np.unique(y[i])) < 2:
            continue
        vals.append(_auc(y[i], b[i]) - _auc(y[i], a[i]))
    lo, hi = np.percentile(vals, [2.5, 97.5])
    return est, float(lo), float(hi)


def run_seed(seed: int, *, splits: int, repeats: int, cells: int) -> tuple[dict, pd.DataFrame]:
    """One simulated trial: early fusion vs stacking on the same outer folds."""
    from biomarkers.models import assay_blocks, discover

    table, planted, missing = _table(seed, cells)
    blocks = assay_blocks(table.var_names)
    X = table.to_df()
    miss = {b: int(X[f].isna().all(axis=1).sum()) for b, f in blocks.items()}
    row = {"seed": seed, "n": table.n_obs, "events": int((table.obs["tfs90"] == 1).sum())}
    row.update({f"missing_{b}": v for b, v in miss.items()})
    preds = {}
    for fusion in ("none", "stacking"):
        t = time.perf_counter()
        res = discover(
            table, outcome="tfs90", models=["enet"], cv=(splits, repeats), inner_cv=3,
            n_permutations=0, n_bootstraps=200, random_state=seed, fusion=fusion,
        )  # fmt: skip
        perf = res.performance.set_index("metric").loc["auroc"]
        tag = "early" if fusion == "none" else "stacking"
        row[f"{tag}_auroc"] = float(perf["estimate"])
        row[f"{tag}_ci_low"] = float(perf["ci_low"])
        row[f"{tag}_ci_high"] = float(perf["ci_high"])
        oof = res.oof_predictions
        row[f"{tag}_subjects"] = int(oof["subject_id"].nunique())
        row[f"{tag}_seconds"] = round(time.perf_counter() - t, 1)
        wide = oof.pivot_table(index="subject_id", columns="repeat", values="y_pred")
        preds[tag] = wide.mean(axis=1)
        ytrue = oof.groupby("subject_id")["y_true"].first()
        if fusion == "stacking":
            w = res.fusion_weights.groupby("block")["weight"].mean()
    y = ytrue.loc[preds["early"].index].to_numpy().astype(int)
    rng = np.random.default_rng([seed, 26])
    d, lo, hi = _paired_delta(
        y, preds["early"].to_numpy(), preds["stacking"].loc[preds["early"].index].to_numpy(), rng
    )
    row.update(delta_pooled=d, delta_ci_low=lo, delta_ci_high=hi)
    weights = pd.DataFrame({"seed": seed, "block": w.index, "weight": w.to_numpy()})
    weights["planted"] = weights["block"].isin(planted)
    row["missing_truth"] = {a: len(v["subjects"]) for a, v in missing.items()}
    return row, weights


def _stack_inner_cv(k: int) -> None:
    """Give the stacked model ``k`` inner folds without changing early fusion's tuning."""
    import biomarkers.models._fusion_fit as ff

    build = ff.fusion_model

    def fusion_model(fusion, spec, cfg, seed, features):
        model = build(fusion, spec, cfg, seed, features)
        if fusion == "stacking":
            model.inner_cv = k
        return model

    ff.fusion_model = fusion_model  # the outer and final fits look the name up there


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    ap.add_argument("--splits", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--cells", type=int, default=100, help="cells per single-cell sample")
    ap.add_argument("--out", type=Path, default=HERE / "fusion_results.csv")
    ap.add_argument(
        "--stack-inner-cv",
        type=int,
        default=None,
        help="inner folds of the stacked model only (default: discover's inner_cv)",
    )
    args = ap.parse_args(argv)
    if args.stack_inner_cv:
        _stack_inner_cv(args.stack_inner_cv)
    warnings.simplefilter("ignore")
    rows, weights = [], []
    for seed in args.seeds:
        row, w = run_seed(seed, splits=args.splits, repeats=args.repeats, cells=args.cells)
        rows.append(row)
        weights.append(w)
        print(pd.Series(row).to_string(), flush=True)
    res = pd.DataFrame(rows)
    W = pd.concat(weights, ignore_index=True)
    res.to_csv(args.out, index=False)
    W.to_csv(args.out.with_name(args.out.stem + "_weights.csv"), index=False)
    diff = res["stacking_auroc"] - res["early_auroc"]
    from scipy import stats

    half = stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff))
    print("\nper seed:")
    cols = ["seed", "n", "stacking_subjects", "early_auroc", "early_ci_low", "early_ci_high",
            "stacking_auroc", "stacking_ci_low", "stacking_ci_high", "delta_pooled",
            "delta_ci_low", "delta_ci_high"]  # fmt: skip
    print(res[cols].round(3).to_string(index=False))
    print(
        f"\nmean AUROC early {res['early_auroc'].mean():.3f}, stacking "
        f"{res['stacking_auroc'].mean():.3f}; mean difference (stacking - early) "
        f"{diff.mean():+.3f} (95% t CI {diff.mean() - half:+.3f} to {diff.mean() + half:+.3f}); "
        f"stacking >= early in {(diff >= 0).sum()}/{len(diff)} seeds"
    )
    mean_w = W.groupby(["block", "planted"])["weight"].agg(["mean", "std"]).reset_index()
    print("\nmean stacking weight per block:")
    print(mean_w.sort_values("mean", ascending=False).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
