"""Cell-type expression profiles of PBMCs, derived from the real data that scanpy ships.

The bundled table ``data/pbmc_profiles.csv`` (genes × cell types, fractions of a cell's counts that
fall on each gene) is derived by :func:`derive_profiles` from ``scanpy.datasets.pbmc68k_reduced()``
(``.raw``: 700 cells, 765 genes, log-normalised; labels in ``obs['bulk_labels']``). Deriving it
takes a few seconds (importing scanpy), so the simulator reads the bundled copy; a slow test checks
that the two agree.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

__all__ = ["CELL_TYPES", "derive_profiles", "load_profiles"]

#: Simulated PBMC cell types, in the order used everywhere in the simulator.
CELL_TYPES = (
    "CD4_T",
    "Treg",
    "CD8_T",
    "NK",
    "B",
    "CD14_mono",
    "CD14_mono_HLADR_low",
    "CD16_mono",
    "DC",
)

# genes of the MHC-II antigen-presentation programme that are low on HLA-DR-low (M-MDSC-like)
# monocytes in ACLF (Bernsmeier, Gut 2018); all present in the 765 genes of pbmc68k_reduced
_MHC2 = (
    "HLA-DRA",
    "HLA-DRB1",
    "HLA-DPA1",
    "HLA-DPB1",
    "HLA-DQA1",
    "HLA-DQB1",
    "HLA-DMA",
    "HLA-DMB",
    "CD74",
)
# FOXP3 / IL2RA / CTLA4 are not among the 765 genes: a Treg state is made from CD4 T cells by
# raising co-inhibitory / activation genes that are present and lowering IL7R (CD127-low)
_TREG_UP = {"TIGIT": 6.0, "TNFRSF4": 6.0, "LAG3": 4.0, "IL32": 2.5, "GATA3": 2.0, "IL2RB": 2.0}
_TREG_DOWN = {"IL7R": 0.25, "CCR7": 0.5}


def derive_profiles() -> pd.DataFrame:
    """Derive the genes × cell-type profile table from ``scanpy.datasets.pbmc68k_reduced()``.

    Returns
    -------
    DataFrame indexed by gene symbol with one column per cell type in :data:`CELL_TYPES`; each
    column is the mean (over cells of that type) of ``expm1(raw.X)``, normalised to sum to 1.
    """
    import scanpy as sc

    adata = sc.datasets.pbmc68k_reduced()
    genes = pd.Index(adata.raw.var_names.astype(str))
    x = adata.raw.X
    x = np.expm1(x.toarray() if hasattr(x, "toarray") else np.asarray(x)).astype(np.float64)
    labels = adata.obs["bulk_labels"].astype(str).to_numpy()
    gi = {g: i for i, g in enumerate(genes)}

    def mean_of(mask: np.ndarray) -> np.ndarray:
        return x[mask].mean(axis=0)

    myeloid = np.isin(labels, ["CD14+ Monocyte", "Dendritic"])
    fcer1a = x[:, gi["FCER1A"]]
    fcgr3a = x[:, gi["FCGR3A"]]
    # in pbmc68k the "Dendritic" bulk label is mostly classical monocytes: split myeloid cells by
    # markers instead (FCER1A-high = DC, FCGR3A-high = non-classical monocytes)
    dc = myeloid & (fcer1a > np.quantile(fcer1a[myeloid], 0.85))
    cd16 = myeloid & ~dc & (fcgr3a > np.quantile(fcgr3a[myeloid & ~dc], 0.75))
    cd14 = myeloid & ~dc & ~cd16
    cd4 = np.isin(labels, ["CD4+/CD25 T Reg", "CD4+/CD45RO+ Memory", "CD4+/CD45RA+/CD25- Naive T"])
    cd8 = np.isin(labels, ["CD8+ Cytotoxic T", "CD8+/CD45RA+ Naive Cytotoxic"])
    prof = {
        "CD4_T": mean_of(cd4),
        "CD8_T": mean_of(cd8),
        "NK": mean_of(labels == "CD56+ NK"),
        "B": mean_of(labels == "CD19+ B"),
        "CD14_mono": mean_of(cd14),
        "CD16_mono": mean_of(cd16),
        "DC": mean_of(dc),
    }
    treg = prof["CD4_T"].copy()
    for g, f in {**_TREG_UP, **_TREG_DOWN}.items():
        treg[gi[g]] *= f
    prof["Treg"] = treg
    low = prof["CD14_mono"].copy()
    for g in _MHC2:
        low[gi[g]] *= 0.2
    prof["CD14_mono_HLADR_low"] = low
    df = pd.DataFrame({ct: prof[ct] for ct in CELL_TYPES}, index=genes)
    df.index.name = "gene"
    # a small floor keeps every gene observable in every type (no structural zeros)
    df = (df / df.sum(axis=0)).clip(lower=1e-7)
    return (df / df.sum(axis=0)).round(9)


@lru_cache(maxsize=1)
def load_profiles() -> pd.DataFrame:
    """Return the bundled genes × cell-type profile table (see :func:`derive_profiles`)."""
    with resources.files("biomarkers.datasets").joinpath("data/pbmc_profiles.csv").open("r") as fh:
        df = pd.read_csv(fh, index_col=0)
    return df / df.sum(axis=0)
