"""Arm × visit pseudobulk DE: pydeseq2 (free / capped BLAS) vs subject-block inference vs paired t.

Simulated NB pseudobulk of one cell type: ``--subjects`` subjects (half per arm) × 2 visits ×
``--genes`` genes, subject effects (sd 0.4 on the log scale), DESeq2-like dispersion trend,
10% of genes with a planted arm × visit effect (±1 log2). Every method runs through
``pseudobulk_de`` (filterByExpr, the same contrast and output); "pydeseq2_free" is the
pre-issue-20 default (pydeseq2, ``n_cpus=1``, BLAS threads not capped).

    python benchmarks/bench_de.py --subjects 100
    python benchmarks/bench_de.py --subjects 1000 --pydeseq2-genes 40
    python benchmarks/bench_de.py --calibration --permutations 50
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
import warnings

import numpy as np
import pandas as pd

from biomarkers.mechanism import _de, pseudobulk_de

TREATED, CONTROL = "ucMSC+SMT", "SMT"
INTERACTION = (("arm", TREATED, CONTROL), ("visit", "D7", "D0"))


def simulate(n_subjects: int, n_genes: int, *, seed: int = 0, planted: float = 0.1):
    """Counts DataFrame, design table and the planted genes."""
    rng = np.random.default_rng(seed)
    subj = np.repeat([f"S{i:04d}" for i in range(n_subjects)], 2)
    visit = np.tile(["D0", "D7"], n_subjects)
    arm = np.where(np.repeat(np.arange(n_subjects) % 2, 2) == 0, TREATED, CONTROL)
    base = rng.lognormal(4.0, 1.2, n_genes)
    effect = np.zeros(n_genes)
    n_planted = int(planted * n_genes)
    effect[:n_planted] = rng.choice([-1.0, 1.0], n_planted) * np.log(2)
    log_mu = (
        np.log(base)[None]
        + rng.normal(0, 0.4, (n_subjects, n_genes)).repeat(2, 0)
        + 0.2 * (visit == "D7")[:, None]
        + ((visit == "D7") & (arm == TREATED))[:, None] * effect[None]
    )
    mu = rng.lognormal(0, 0.2, 2 * n_subjects)[:, None] * np.exp(log_mu)
    alpha = 0.05 + 1 / mu
    counts = rng.negative_binomial(1 / alpha, 1 / (1 + mu * alpha))
    index = [f"{s}_{v}" for s, v in zip(subj, visit, strict=True)]
    genes = [f"G{i}" for i in range(n_genes)]
    design = pd.DataFrame({"subject_id": subj, "visit": visit, "arm": arm}, index=index)
    return pd.DataFrame(counts, index=index, columns=genes), design, set(genes[:n_planted])


@contextlib.contextmanager
def _free_blas(n_jobs=None, *, small=False):  # the pre-issue-20 behaviour: no cap
    yield 0


def run(method: str, counts: pd.DataFrame, design: pd.DataFrame):
    free = method == "pydeseq2_free"
    # (getattr: the script also runs against checkouts from before the replicate-count helper)
    real, real_count = _de.limit_blas, getattr(_de, "_fast_replicate_count", contextlib.nullcontext)
    if free:  # the pre-issue-20 code: no BLAS cap, pydeseq2's own replicate count
        _de.limit_blas, _de._fast_replicate_count = _free_blas, contextlib.nullcontext
    try:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = pseudobulk_de(
                counts,
                design_table=design,
                contrast=INTERACTION,
                method="pydeseq2" if free or method == "pydeseq2_capped" else method,
            )
        return res.table.set_index("gene"), time.perf_counter() - start
    finally:
        _de.limit_blas, _de._fast_replicate_count = real, real_count


def compare(args: argparse.Namespace) -> None:
    counts, design, _ = simulate(args.subjects, args.genes, seed=args.seed)
    subset = counts.iloc[:, : args.pydeseq2_genes] if args.pydeseq2_genes else counts
    # imports (pydeseq2, anndata, formulaic) are paid once per process, not by the first method
    run("subject_block", counts.iloc[:, :50], design)
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    rows = []
    for method in args.methods:
        data = subset if method.startswith("pydeseq2") else counts
        if method == "pydeseq2_free" and args.free_genes:
            data = counts.iloc[:, : args.free_genes]
        table, seconds = run(method, data, design)
        per_gene = seconds / len(table)
        rows.append({"method": method, "genes": len(table), "s": seconds, "s_per_gene": per_gene})
        print(f"{method}: {len(table)} genes in {seconds:.1f} s", flush=True)
        if method == "subject_block":
            block = table
        if method == "pydeseq2_capped":
            capped = table
    out = pd.DataFrame(rows).set_index("method")
    n_full = out.loc["subject_block", "genes"] if "subject_block" in out.index else args.genes
    out["s_all_genes"] = out["s_per_gene"] * n_full  # extrapolated per gene where run on a subset
    if "subject_block" in out.index:
        out["speed-up"] = out["s_all_genes"] / out.loc["subject_block", "s_all_genes"]
    if "subject_block" in out.index and "pydeseq2_capped" in out.index:
        common = capped.index.intersection(block.index)
        if args.pydeseq2_genes:  # same genes through both, so the trend and prior agree
            block, _ = run("subject_block", subset, design)
        r = np.corrcoef(block.loc[common, "log2fc"], capped.loc[common, "log2fc"])[0, 1]
        sig_b = set(block.index[block.q_value < 0.1])
        sig_c = set(capped.index[capped.q_value < 0.1])
        print(f"log2FC r = {r:.6f}; q < 0.1: subject_block {len(sig_b)}, pydeseq2 {len(sig_c)}, "
              f"differ {len(sig_b ^ sig_c)}")  # fmt: skip
    print(out.drop(columns="s_per_gene").round(2).to_string())


def calibration(args: argparse.Namespace) -> None:
    counts, design, truth = simulate(args.subjects, args.genes, seed=args.seed)
    table, _ = run("subject_block", counts, design)
    found = set(table.index[table.q_value < 0.1])
    recall = len(found & truth) / len(truth)
    fdp = len(found - truth) / max(len(found), 1)
    print(f"planted: recall {recall:.3f}, FDP {fdp:.3f} at q < 0.1 ({len(found)} found)")
    null, design, _ = simulate(args.subjects, args.genes, seed=args.seed + 1, planted=0.0)
    arms = design.groupby("subject_id").arm.first()
    rng = np.random.default_rng(args.seed)
    rates = []
    for _ in range(args.permutations):
        perm = pd.Series(rng.permutation(arms.to_numpy()), index=arms.index)
        design = design.assign(arm=design.subject_id.map(perm))
        table, _ = run("subject_block", null, design)
        rates.append((table.pvalue < 0.05).mean())
    print(f"{args.permutations} arm permutations: p < 0.05 for {np.mean(rates):.4f} of genes "
          f"(max {np.max(rates):.4f})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=100)
    parser.add_argument("--genes", type=int, default=684)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--methods",
        nargs="+",
        default=["subject_block", "paired_t", "pydeseq2_capped", "pydeseq2_free"],
    )
    parser.add_argument("--pydeseq2-genes", type=int, default=0, help="run pydeseq2 on the first N")
    parser.add_argument(
        "--free-genes", type=int, default=0, help="uncapped pydeseq2 on the first N"
    )
    parser.add_argument("--calibration", action="store_true")
    parser.add_argument("--permutations", type=int, default=50)
    args = parser.parse_args()
    if args.calibration:
        calibration(args)
    else:
        compare(args)


if __name__ == "__main__":
    main()
