"""Tiny seeded generators of the inputs the mechanism analyses take (pseudobulk, tables)."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

TREATED, CONTROL = "ucMSC+SMT", "SMT"


def make_pseudobulk(
    *,
    n_subjects: int = 12,
    n_genes: int = 120,
    visits: tuple[str, ...] = ("D0", "D7"),
    cell_types: tuple[str, ...] = ("CD14_mono", "T_CD4"),
    planted: dict | None = None,
    seed: int = 0,
    dispersion: float = 0.05,
    trend: bool = True,
) -> ad.AnnData:
    """Negative-binomial pseudobulk counts; half the subjects treated.

    ``planted`` maps (cell_type, gene_index) -> log2 fold change applied at the last visit in
    the treated arm only.
    """
    rng = np.random.default_rng(seed)
    genes = [f"G{i}" for i in range(n_genes)]
    base = {ct: rng.lognormal(4.0, 1.2, n_genes) for ct in cell_types}
    rows, mats = [], []
    for s in range(n_subjects):
        subj = f"S{s:02d}"
        arm = TREATED if s % 2 == 0 else CONTROL
        subj_eff = rng.normal(0, 0.3, n_genes)
        for v in visits:
            sample = f"{subj}_{v}"
            for ct in cell_types:
                mu = base[ct] * np.exp(subj_eff) * rng.uniform(0.7, 1.3)
                if planted and arm == TREATED and v == visits[-1]:
                    for (pct, gi), lfc in planted.items():
                        if pct == ct:
                            mu[gi] *= 2.0**lfc
                # DESeq2-like mean-dispersion trend: alpha = a0 + a1 / mu
                r = 1 / (dispersion + (1.0 / mu if trend else 0.0))
                x = rng.negative_binomial(r, r / (r + mu))
                mats.append(x)
                rows.append(
                    {
                        "sample_id": sample,
                        "subject_id": subj,
                        "visit": v,
                        "arm": arm,
                        "cell_type": ct,
                        "n_cells": int(rng.integers(30, 200)),
                    }
                )
    obs = pd.DataFrame(rows)
    obs.index = (obs["sample_id"] + "|" + obs["cell_type"]).to_numpy()
    return ad.AnnData(X=np.vstack(mats).astype(np.int64), obs=obs, var=pd.DataFrame(index=genes))


@pytest.fixture(scope="session")
def make_pb():
    """The pseudobulk generator (test modules cannot import conftest under importlib mode)."""
    return make_pseudobulk


def make_composition(
    *,
    n_subjects: int = 24,
    visits: tuple[str, ...] = ("D0", "D7", "D28"),
    planted: dict | None = None,
    cells: int = 400,
    seed: int = 0,
) -> pd.DataFrame:
    """Long counts table ``sample_id, subject_id, visit, arm, cell_type, count``.

    ``planted`` maps cell_type -> log fold change of its abundance at every visit after D0
    in the treated arm.
    """
    rng = np.random.default_rng(seed)
    types = ["CD14_mono", "T_CD4", "T_CD8", "NK", "B", "Treg"]
    base = np.log(np.array([0.3, 0.3, 0.15, 0.1, 0.1, 0.05]))
    rows = []
    for s in range(n_subjects):
        subj = f"S{s:02d}"
        arm = TREATED if s % 2 == 0 else CONTROL
        subj_eff = rng.normal(0, 0.3, len(types))
        for v in visits:
            logit = base + subj_eff + rng.normal(0, 0.15, len(types))
            if planted and arm == TREATED and v != visits[0]:
                for ct, lfc in planted.items():
                    logit[types.index(ct)] += lfc
            p = np.exp(logit) / np.exp(logit).sum()
            counts = rng.multinomial(cells, p)
            for ct, c in zip(types, counts, strict=True):
                rows.append(
                    {
                        "sample_id": f"{subj}_{v}",
                        "subject_id": subj,
                        "visit": v,
                        "arm": arm,
                        "cell_type": ct,
                        "count": int(c),
                    }
                )
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def make_comp():
    return make_composition


def make_cytokines(
    *,
    n_subjects: int = 30,
    visits: tuple[str, ...] = ("D0", "D7", "D14", "D28"),
    drop: float = 1.5,
    seed: int = 0,
) -> pd.DataFrame:
    """Wide table, one row per subject × visit: log2-scale ``IL6`` (falls by ``drop`` after D0
    in treated responders, by ``drop/2`` in treated non-responders), null ``IL10`` and ``TNF``;
    plus ``age`` and ``response`` (1/0)."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_subjects):
        arm = TREATED if s % 2 == 0 else CONTROL
        responder = int(rng.random() < 0.5)
        subj = {k: rng.normal(0, 0.6) for k in ("IL6", "IL10", "TNF")}
        age = float(rng.normal(50, 10))
        for v in visits:
            shift = 0.0
            if arm == TREATED and v != visits[0]:
                shift = -drop if responder else -drop / 2
            rows.append(
                {
                    "subject_id": f"S{s:02d}",
                    "visit": v,
                    "arm": arm,
                    "age": age,
                    "response": responder,
                    "IL6": 5 + subj["IL6"] + shift + rng.normal(0, 0.4),
                    "IL10": 3 + subj["IL10"] + rng.normal(0, 0.4),
                    "TNF": 2 + subj["TNF"] + rng.normal(0, 0.4),
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def make_cyto():
    return make_cytokines
