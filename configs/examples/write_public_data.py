"""Write public real data sets into the toolkit's input formats (``docs/formats.md``).

Every data set comes from a package the toolkit already installs (scikit-survival, scanpy), so
no download is needed. Each folder ``OUTDIR/<name>/`` holds ``clinical.csv`` (one row per
subject) and, where the data have them, a generic subject table (``data.tables:``) or
single-cell counts. The data sets carry no subject identifiers: stable string IDs are made from
the row order (``VET001``, ...). See ``docs/examples.md`` for sources, citations and the outcome
rule that fits each.

Usage::

    python configs/examples/write_public_data.py OUTDIR [--only NAME]

Names: ``veterans``, ``gbsg2``, ``aids``, ``breast_cancer``, ``pbmc68k``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

#: ACTG 320 race/ethnicity codes (Hosmer, Lemeshow & May 2008, data description).
_RACETH = {
    1: "White Non-Hispanic",
    2: "Black Non-Hispanic",
    3: "Hispanic",
    4: "Asian, Pacific Islander",
    5: "American Indian, Alaskan Native",
    6: "Other/unknown",
}


def _ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i + 1:04d}" for i in range(n)]


def veterans() -> dict[str, pd.DataFrame]:
    """Veterans' Administration lung cancer trial: standard vs test chemotherapy, survival."""
    from sksurv.datasets import load_veterans_lung_cancer

    X, y = load_veterans_lung_cancer()
    ids = _ids("VET", len(X))
    clinical = pd.DataFrame(
        {
            "subject_id": ids,
            "arm": X["Treatment"].astype(str).to_numpy(),
            "age": X["Age_in_years"].astype(int).to_numpy(),
            "celltype": X["Celltype"].astype(str).to_numpy(),
            "prior_therapy": X["Prior_therapy"].astype(str).to_numpy(),
            "status": y["Status"].astype(int),
            "time_days": y["Survival_in_days"].astype(int),
        }
    )
    baseline = pd.DataFrame(
        {
            "subject_id": ids,
            "karnofsky_score": X["Karnofsky_score"].astype(float).to_numpy(),
            "months_from_diagnosis": X["Months_from_Diagnosis"].astype(float).to_numpy(),
        }
    )
    return {"clinical.csv": clinical, "baseline.csv": baseline}


def gbsg2() -> dict[str, pd.DataFrame]:
    """German Breast Cancer Study Group 2: hormonal therapy yes/no, recurrence-free survival."""
    from sksurv.datasets import load_gbsg2

    X, y = load_gbsg2()
    ids = _ids("GBSG", len(X))
    arm = np.where(X["horTh"].astype(str) == "yes", "hormonal therapy", "no hormonal therapy")
    clinical = pd.DataFrame(
        {
            "subject_id": ids,
            "arm": arm,
            "age": X["age"].astype(int).to_numpy(),
            "menostat": X["menostat"].astype(str).to_numpy(),
            "tgrade": X["tgrade"].astype(str).to_numpy(),
            "recurrence": y["cens"].astype(int),
            "rfs_days": y["time"].astype(int),
        }
    )
    tumour = pd.DataFrame(
        {
            "subject_id": ids,
            **{c: X[c].astype(float).to_numpy() for c in ("tsize", "pnodes", "progrec", "estrec")},
        }
    )
    return {"clinical.csv": clinical, "tumour.csv": tumour}


def aids() -> dict[str, pd.DataFrame]:
    """AIDS Clinical Trials Group 320: indinavir added (tx = 1) or not; AIDS or death."""
    from sksurv.datasets import load_aids

    X, y = load_aids(endpoint="aids")
    ids = _ids("ACTG", len(X))
    tx = X["tx"].astype(int).to_numpy()
    clinical = pd.DataFrame(
        {
            "subject_id": ids,
            "arm": np.where(tx == 1, "IDV+ZDV+3TC", "ZDV+3TC"),
            "age": X["age"].astype(int).to_numpy(),
            "sex": np.where(X["sex"].astype(int).to_numpy() == 1, "M", "F"),
            "raceth": X["raceth"].astype(int).map(_RACETH).to_numpy(),
            "ivdrug": X["ivdrug"].astype(int).to_numpy(),
            "hemophil": X["hemophil"].astype(int).to_numpy(),
            "aids_or_death": y["censor"].astype(int),
            "time_days": y["time"].astype(int),
        }
    )
    baseline = pd.DataFrame(
        {
            "subject_id": ids,
            "cd4": X["cd4"].astype(float).to_numpy(),
            "karnofsky_score": X["karnof"].astype(float).to_numpy(),
            "priorzdv_months": X["priorzdv"].astype(float).to_numpy(),
        }
    )
    return {"clinical.csv": clinical, "baseline.csv": baseline}


def breast_cancer() -> dict[str, pd.DataFrame]:
    """Breast cancer expression cohort (76-gene signature probes): no arms, distant metastasis."""
    from sksurv.datasets import load_breast_cancer

    X, y = load_breast_cancer()
    ids = _ids("BC", len(X))
    probes = [c for c in X.columns if c.startswith("X")]
    clinical = pd.DataFrame(
        {
            "subject_id": ids,
            "age": X["age"].astype(int).to_numpy(),
            "er": X["er"].astype(str).to_numpy(),
            "grade": X["grade"].astype(str).to_numpy(),
            "size_cm": X["size"].astype(float).to_numpy(),
            "metastasis": y["e.tdm"].astype(int),
            "metastasis_days": y["t.tdm"].astype(int),
        }
    )
    expression = pd.concat(
        [
            pd.Series(ids, name="subject_id"),
            X[probes].astype(float).round(4).reset_index(drop=True),
        ],
        axis=1,
    )
    expression.columns = ["subject_id", *[p.removeprefix("X") for p in probes]]
    return {"clinical.csv": clinical, "expression.csv": expression}


def pbmc68k(*, n_subjects: int = 14, seed: int = 0) -> dict[str, object]:
    """Split scanpy's ``pbmc68k_reduced`` into pseudo-subjects and two visits (a null cohort).

    The 700 cells come from one donor: cells are dealt at random (seeded) to ``n_subjects``
    pseudo-subjects × visits ``D0``/``D7``, and the outcome ``null_response`` is a seeded coin
    flip, so nothing real separates subjects: a negative control for the single-cell path. Its
    ``X`` is scaled; ``.raw`` holds log-normalised values (``log1p(count / n_counts × 10⁴)``),
    from which the integer counts of its 765 genes are recovered (``round(expm1(raw) ×
    n_counts / 10⁴)``, within 0.08 of an integer for every value).
    """
    import anndata as ad
    import scanpy as sc
    from scipy import sparse

    src = sc.datasets.pbmc68k_reduced()
    raw = src.raw.X.toarray() if sparse.issparse(src.raw.X) else np.asarray(src.raw.X)
    counts = np.rint(np.expm1(raw) * src.obs["n_counts"].to_numpy()[:, None] / 1e4)
    rng = np.random.default_rng(seed)
    n_groups = 2 * n_subjects
    group = rng.permutation(np.arange(src.n_obs) % n_groups)
    subjects = np.array(_ids("PBMC", n_subjects))
    subject = subjects[group % n_subjects]
    visit = np.where(group < n_subjects, "D0", "D7")
    sample = np.char.add(np.char.add(subject.astype(str), "_"), visit.astype(str))
    obs = pd.DataFrame(
        {
            "sample_id": pd.Categorical(sample),
            "subject_id": pd.Categorical(subject),
            "visit": pd.Categorical(visit),
            "cell_type": pd.Categorical(src.obs["bulk_labels"].astype(str).to_numpy()),
            "louvain": pd.Categorical(src.obs["louvain"].astype(str).to_numpy()),
        },
        index=src.obs_names.astype(str),
    )
    adata = ad.AnnData(
        X=sparse.csr_matrix(counts.astype(np.int32)),
        obs=obs,
        var=pd.DataFrame(index=src.raw.var_names.astype(str)),
    )
    adata.uns["source"] = "scanpy.datasets.pbmc68k_reduced; counts recovered from .raw"
    samples = (obs[["sample_id", "subject_id", "visit"]].astype(str).drop_duplicates()).sort_values(
        "sample_id"
    )
    clinical = pd.DataFrame(
        {"subject_id": subjects, "null_response": rng.integers(0, 2, size=n_subjects)}
    )
    return {"clinical.csv": clinical, "samples.csv": samples, "singlecell.h5ad": adata}


#: Name → writer of the data set's files.
DATASETS: dict[str, Callable[[], dict[str, object]]] = {
    "veterans": veterans,
    "gbsg2": gbsg2,
    "aids": aids,
    "breast_cancer": breast_cancer,
    "pbmc68k": pbmc68k,
}


def write(outdir: str | Path, *, only: str | None = None) -> dict[str, Path]:
    """Write every data set (or ``only`` one) to ``outdir/<name>/``; return the folders."""
    names = list(DATASETS) if only is None else [only]
    unknown = [n for n in names if n not in DATASETS]
    if unknown:
        msg = f"unknown data set {unknown[0]!r}; choose from {', '.join(DATASETS)}"
        raise SystemExit(msg)
    folders = {}
    for name in names:
        folder = Path(outdir) / name
        folder.mkdir(parents=True, exist_ok=True)
        for filename, obj in DATASETS[name]().items():
            if isinstance(obj, pd.DataFrame):
                obj.to_csv(folder / filename, index=False)
            else:
                obj.write_h5ad(folder / filename, compression="gzip")
        folders[name] = folder
    return folders


def main(argv: list[str] | None = None) -> None:
    """Command line: ``write_public_data.py OUTDIR [--only NAME]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", help="folder to write <name>/ folders into")
    parser.add_argument("--only", choices=list(DATASETS), help="write one data set")
    args = parser.parse_args(argv)
    for name, folder in write(args.outdir, only=args.only).items():
        size = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
        print(f"{name}: {folder} ({size:.2f} MB)")


if __name__ == "__main__":
    main()
