"""Single-cell UMAP coloured by cell type, arm or visit (via scanpy)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from anndata import AnnData
    from matplotlib.figure import Figure

__all__ = ["umap"]


def umap(
    adata: AnnData,
    *,
    color: tuple[str, ...] = ("cell_type", "arm", "visit"),
    max_cells: int = 20000,
    random_state: int = 0,
) -> Figure:
    """UMAP of (a subsample of) cells, one panel per ``color`` key.

    Computes normalisation, PCA, neighbours and UMAP on a copy of at most ``max_cells`` cells when
    ``obsm['X_umap']`` is absent; the input is never modified.

    Parameters
    ----------
    adata
        Cells × genes with raw counts (in memory).
    color
        ``obs`` columns to colour by (missing ones are skipped).
    max_cells
        Subsample size for the embedding.
    random_state
        Seed of the subsample and of UMAP.
    """
    import scanpy as sc

    from biomarkers.pl._style import ARM_COLORS, VISIT_COLORS, new_figure

    rng = np.random.default_rng(random_state)
    idx = np.sort(rng.choice(adata.n_obs, size=min(max_cells, adata.n_obs), replace=False))
    sub = adata[idx].to_memory() if adata.isbacked else adata[idx].copy()
    if "X_umap" not in sub.obsm:
        sc.pp.normalize_total(sub, target_sum=1e4)
        sc.pp.log1p(sub)
        sc.pp.pca(sub, n_comps=min(30, sub.n_vars - 1, sub.n_obs - 1), random_state=random_state)
        sc.pp.neighbors(sub, random_state=random_state)
        sc.tl.umap(sub, random_state=random_state)
    keys = [c for c in color if c in sub.obs]
    fig = new_figure(figsize=(4.2 * max(len(keys), 1), 3.8))
    axes = fig.subplots(1, max(len(keys), 1), squeeze=False).ravel()
    for ax, key in zip(axes, keys, strict=False):
        values = sub.obs[key].astype(str)
        palette = ARM_COLORS if key == "arm" else VISIT_COLORS if key == "visit" else None
        cats = sorted(values.unique())
        cmap = {c: (palette or {}).get(c, f"C{i % 10}") for i, c in enumerate(cats)}
        xy = sub.obsm["X_umap"]
        for c in cats:
            m = (values == c).to_numpy()
            ax.scatter(xy[m, 0], xy[m, 1], s=2, lw=0, color=cmap[c], label=c, rasterized=True)
        ax.set(title=key, xticks=[], yticks=[], xlabel="UMAP1", ylabel="UMAP2")
        ax.legend(
            fontsize=6, markerscale=3, frameon=False, loc="center left", bbox_to_anchor=(1, 0.5)
        )
    return fig
