from __future__ import annotations

import types

import anndata as ad
import numpy as np
import pandas as pd
import pytest

VISITS = {"D0": 0, "D7": 7, "D14": 14, "D21": 21, "D28": 28, "D90": 90}
GENES = [
    "CD3D",
    "CD3E",
    "IL7R",
    "CD8A",
    "FOXP3",
    "IL2RA",
    "CTLA4",
    "CD14",
    "LYZ",
    "S100A8",
    "MS4A1",
    "CD79A",
    "GNLY",
    "NKG7",
    "MT-CO1",
    "ACTB",
]


def make_study(*, n_subjects=6, seed=0, with_cells=True, cell_path=None):
    """A duck-typed Study following docs/contracts.md exactly (SimpleNamespace)."""
    rng = np.random.default_rng(seed)
    subjects = [f"P{i:02d}" for i in range(n_subjects)]
    clinical = pd.DataFrame(
        {
            "arm": np.where(np.arange(n_subjects) % 2 == 0, "ucMSC+SMT", "SMT"),
            "age": rng.integers(25, 65, n_subjects),
            "sex": rng.choice(["M", "F"], n_subjects),
        },
        index=pd.Index(subjects, name="subject_id"),
    )
    lab_rows = []
    for s in subjects:
        for v in ("D0", "D7", "D14"):
            lab_rows.append(
                {
                    "subject_id": s,
                    "visit": v,
                    "day": VISITS[v],
                    "bilirubin_mg_dl": rng.uniform(5, 25),
                    "inr": rng.uniform(1.5, 3),
                    "meld": rng.uniform(20, 35),
                }
            )
    labs = pd.DataFrame(lab_rows)
    samples = pd.DataFrame(
        [(f"{s}_{v}", s, v, "plasma") for s in subjects for v in ("D0", "D7")],
        columns=["sample_id", "subject_id", "visit", "tissue"],
    ).set_index("sample_id")
    # cytokines: samples × analytes with censor codes 0 ok, 1 below, 2 above, 4 missing
    analytes = ["IL6", "IL10", "IFNG"]
    X = rng.lognormal(3, 1, size=(len(samples), 3))
    censor = np.zeros_like(X, dtype=np.int8)
    censor[:, 2] = 1  # IFN-γ almost always below LOD
    X[:, 2] = np.nan
    censor[0, 2], X[0, 2] = 0, 2.0
    censor[1, 0], X[1, 0] = 2, np.nan  # IL6 above ULOQ once
    censor[2, 1], X[2, 1] = 4, np.nan  # IL10 missing once
    cyt = ad.AnnData(
        X=X,
        obs=samples.assign(
            arm=clinical["arm"].reindex(samples["subject_id"]).to_numpy(), plate="P1"
        ),
        var=pd.DataFrame(
            {"unit": "pg/mL", "lod": [1.0, 0.5, 3.0], "lloq": np.nan, "uloq": [1e4, 1e4, 1e4]},
            index=analytes,
        ),
        layers={"censor": censor, "replicate_cv": rng.uniform(0, 0.2, size=X.shape)},
        uns={"censor_codes": {"ok": 0, "below": 1, "above": 2, "extrapolated": 3, "missing": 4}},
    )
    flow = ad.AnnData(
        X=rng.uniform(1, 10, size=(len(samples), 2)),
        obs=samples.copy(),
        var=pd.DataFrame({"unit": "%"}, index=["Treg", "Th17 cells"]),
    )
    singlecell = None
    if with_cells:
        sc_samples = [f"{s}_{v}" for s in subjects for v in ("D0", "D7")]
        n = 60 * len(sc_samples)
        sample_of = np.repeat(sc_samples, 60)
        cell_type = rng.choice(["CD4_T", "CD14_mono", "B"], n, p=[0.5, 0.3, 0.2])
        counts = rng.poisson(2, size=(n, len(GENES))).astype(np.float32)
        counts[cell_type == "CD4_T", GENES.index("FOXP3")] += 5
        obs = pd.DataFrame(
            {
                "sample_id": sample_of,
                "cell_type": cell_type,
                "subject_id": [x.split("_")[0] for x in sample_of],
                "visit": [x.split("_")[1] for x in sample_of],
            },
            index=[f"c{i}" for i in range(n)],
        )
        singlecell = ad.AnnData(counts, obs=obs, var=pd.DataFrame(index=GENES))
        if cell_path is not None:
            singlecell.write_h5ad(cell_path)
    return types.SimpleNamespace(
        clinical=clinical,
        labs=labs,
        samples=samples,
        dosing=None,
        visits=dict(VISITS),
        treated_arm="ucMSC+SMT",
        control_arm="SMT",
        assays={"cytokines": cyt, "flow": flow},
        singlecell=singlecell,
        singlecell_path=cell_path,
    )


@pytest.fixture
def study():
    return make_study()


def make_outcome(subjects, *, assessed_day=28, name="response"):
    """Stand-in for biomarkers.clinical.Outcome (name, kind, table, assessed_day, definition)."""
    table = pd.DataFrame({name: [i % 2 for i in range(len(subjects))]}, index=subjects)
    return types.SimpleNamespace(
        name=name,
        kind="binary",
        table=table,
        assessed_day=assessed_day,
        definition="alive and transplant-free at day 28",
    )
