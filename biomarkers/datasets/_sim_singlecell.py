"""Single-cell PBMC counts: composition, per-cell counts, chunked .h5ad and 10x folders (private)."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from biomarkers._atomic import atomic_path, write_bytes, write_table
from biomarkers._progress import progress
from biomarkers.datasets._profiles import CELL_TYPES, load_profiles
from biomarkers.datasets._scenarios import Scenario, mechanism_weight

__all__ = ["GENE_EFFECTS", "composition_probabilities", "write_singlecell"]

# ACLF PBMC composition priors (DOMAIN.md §4.5): fractions of PBMCs before normalisation
BASE_FRACTIONS = {
    "CD4_T": 0.22,
    "Treg": 0.012,
    "CD8_T": 0.10,
    "NK": 0.06,
    "B": 0.06,
    "CD14_mono": 0.20,
    "CD14_mono_HLADR_low": 0.15,
    "CD16_mono": 0.03,
    "DC": 0.015,
}
# median library size (UMIs over the 765 profiled genes) per cell type
LIBRARY = {"CD14_mono": 3500, "CD14_mono_HLADR_low": 3000, "CD16_mono": 3200, "DC": 4000}
_LIB_DEFAULT = 1800
_NB_DISPERSION = 0.3  # gamma-Poisson overdispersion per cell and gene

# planted on-treatment gene changes: cell type -> {gene: direction}; size = scenario log2 FC
GENE_EFFECTS = {
    "CD14_mono": {"IL1B": -1, "S100A8": -1, "S100A9": -1},
    "CD14_mono_HLADR_low": {"IL1B": -1, "S100A8": -1, "S100A9": -1},
    "Treg": {"TIGIT": +1, "TNFRSF4": +1, "LAG3": +1},
}
# prognostic gene: IL1B in classical monocytes tracks the inflammation latent (log scale per SD)
PROGNOSTIC_GENE = ("CD14_mono", "IL1B", 0.5)


def composition_probabilities(
    rng, samples: pd.DataFrame, latent: pd.DataFrame, scen: Scenario
) -> np.ndarray:
    """(n_samples, n_cell_types) expected cell-type fractions of each PBMC sample."""
    lat = latent.loc[samples["subject_id"]]
    n = len(samples)
    sev = samples["_s"].to_numpy() if scen.severity_loading else np.zeros(n)
    paral = lat["z_paral"].to_numpy() if scen.severity_loading else np.zeros(n)
    treated = lat["treated"].to_numpy()
    w = np.where(treated, [mechanism_weight(d) for d in samples["day"]], 0.0)
    logab = np.tile(np.log([BASE_FRACTIONS[c] for c in CELL_TYPES]), (n, 1))
    col = {c: i for i, c in enumerate(CELL_TYPES)}
    logab[:, col["Treg"]] += 0.6 * lat["z_treg"].to_numpy() + scen.mech_composition * w
    logab[:, col["CD14_mono_HLADR_low"]] += 0.7 * paral + 0.3 * sev - scen.mech_composition * w
    logab[:, col["CD8_T"]] -= 0.2 * sev
    logab[:, col["NK"]] -= 0.2 * sev
    logab[:, col["CD14_mono"]] += 0.15 * sev
    logab += rng.normal(0.0, 0.15 * scen.noise, logab.shape)
    p = np.exp(logab)
    return p / p.sum(axis=1, keepdims=True)


def _barcodes(rng, n: int) -> np.ndarray:
    codes = rng.integers(0, 4, (n, 16), dtype=np.uint8)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)[codes]
    bc = letters.view("S16").ravel().astype(str)
    # duplicated barcodes within a sample are vanishingly rare (4^16); make them unique anyway
    dup = pd.Series(bc).duplicated().to_numpy()
    while dup.any():
        bc[dup] = _barcodes(rng, int(dup.sum()))
        dup = pd.Series(bc).duplicated().to_numpy()
    return np.char.add(bc, "-1")


def _sample_counts(
    seed_key, sample: pd.Series, probs, n_cells, scen, latent, batch_factor, profiles
):
    """Counts (cells × genes, CSR int32), cell types and barcodes of one sample."""
    rng = np.random.default_rng(seed_key)
    genes = profiles.index
    n_types = len(CELL_TYPES)
    types = rng.choice(n_types, size=n_cells, p=probs)
    base = profiles.to_numpy().T.copy()  # types × genes
    # sample-level biology: small per (type, gene) variation, planted effects
    base *= np.exp(rng.normal(0.0, 0.1 * scen.noise, base.shape))
    lat = latent.loc[sample["subject_id"]]
    gi = {g: i for i, g in enumerate(genes)}
    if lat["treated"]:
        w = mechanism_weight(sample["day"])
        for ct, eff in GENE_EFFECTS.items():
            for g, d in eff.items():
                base[CELL_TYPES.index(ct), gi[g]] *= 2.0 ** (d * scen.mech_gene_log2fc * w)
    if scen.severity_loading:
        ct, g, beta = PROGNOSTIC_GENE
        base[CELL_TYPES.index(ct), gi[g]] *= np.exp(beta * lat["z_infl"] + 0.2 * sample["_s"])
    base *= batch_factor[None, :]
    base /= base.sum(axis=1, keepdims=True)
    med = np.array([LIBRARY.get(c, _LIB_DEFAULT) for c in CELL_TYPES], dtype=float)
    lib = med[types] * np.exp(rng.normal(0.0, 0.3, n_cells))
    mu = (lib[:, None] * base[types]).astype(np.float32)
    shape = 1.0 / _NB_DISPERSION
    lam = mu * rng.gamma(shape, 1.0 / shape, mu.shape).astype(np.float32)
    counts = sp.csr_matrix(rng.poisson(lam).astype(np.int32))
    return counts, types, _barcodes(rng, n_cells)


def _gz(text: str) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as fh:
        fh.write(text.encode("utf-8"))
    return buf.getvalue()


def _write_tenx(folder: Path, counts: sp.csr_matrix, genes, barcodes) -> None:
    m = counts.T.tocoo()  # genes × cells, as 10x writes it
    order = np.lexsort((m.row, m.col))
    body = "\n".join(
        f"{r} {c} {v}"
        for r, c, v in zip(m.row[order] + 1, m.col[order] + 1, m.data[order], strict=True)
    )
    header = (
        f"%%MatrixMarket matrix coordinate integer general\n%\n{m.shape[0]} {m.shape[1]} {m.nnz}\n"
    )
    write_bytes(folder / "matrix.mtx.gz", _gz(header + body + ("\n" if m.nnz else "")))
    write_bytes(
        folder / "features.tsv.gz", _gz("".join(f"{g}\t{g}\tGene Expression\n" for g in genes))
    )
    write_bytes(folder / "barcodes.tsv.gz", _gz("".join(f"{b}\n" for b in barcodes)))


def write_singlecell(
    path: Path,
    samples: pd.DataFrame,
    latent: pd.DataFrame,
    scen: Scenario,
    *,
    seed: int,
    cells_per_sample: int,
    tenx_dir: Path,
    tenx_samples: int,
    chunk_size: int,
) -> tuple[list[Path], pd.DataFrame]:
    """Write ``singlecell.h5ad`` chunk by chunk (CSR group written with h5py) and 10x folders.

    Each sample is generated from its own seeded stream, so the output does not depend on
    ``chunk_size``; at most ``chunk_size`` cells (plus one sample) are held in memory.
    Returns the 10x folders written and a per-sample table of cell-type counts.
    """
    import h5py
    from anndata.io import write_elem

    profiles = load_profiles()
    genes = profiles.index.astype(str)
    rng = np.random.default_rng([seed, 101])
    probs = composition_probabilities(rng, samples, latent, scen)
    n_cells = np.maximum(
        1, np.round(cells_per_sample * np.exp(rng.normal(0.0, 0.15, len(samples))))
    ).astype(int)
    batches = sorted(samples["batch"].unique())
    batch_factor = {b: np.exp(rng.normal(0.0, 0.08, len(genes))) for b in batches}
    tenx_ids = list(samples["sample_id"].iloc[: max(0, tenx_samples)])
    tenx_paths: list[Path] = []
    obs_parts, comp_rows = [], []
    with atomic_path(path) as tmp, h5py.File(tmp, "w", track_order=False) as f:
        f.attrs["encoding-type"] = "anndata"
        f.attrs["encoding-version"] = "0.1.0"
        x = f.create_group("X")
        x.attrs["encoding-type"] = "csr_matrix"
        x.attrs["encoding-version"] = "0.1.0"
        kw = {"chunks": (1 << 16,), "maxshape": (None,), "compression": "lzf"}
        d_data = x.create_dataset("data", shape=(0,), dtype=np.int32, **kw)
        d_ind = x.create_dataset("indices", shape=(0,), dtype=np.int32, **kw)
        d_ptr = x.create_dataset(
            "indptr", shape=(1,), dtype=np.int64, chunks=(1 << 14,), maxshape=(None,)
        )
        d_ptr[0] = 0
        buf: list[sp.csr_matrix] = []
        buffered = 0
        nnz_total, rows_total = 0, 0

        def flush() -> None:
            nonlocal nnz_total, rows_total, buffered
            if not buf:
                return
            block = sp.vstack(buf, format="csr")
            nnz = block.nnz
            d_data.resize((nnz_total + nnz,))
            d_data[nnz_total:] = block.data
            d_ind.resize((nnz_total + nnz,))
            d_ind[nnz_total:] = block.indices
            d_ptr.resize((rows_total + block.shape[0] + 1,))
            d_ptr[rows_total + 1 :] = block.indptr[1:].astype(np.int64) + nnz_total
            nnz_total += nnz
            rows_total += block.shape[0]
            buf.clear()
            buffered = 0

        for k in progress(range(len(samples)), description="single-cell samples"):
            s = samples.iloc[k]
            counts, types, bcs = _sample_counts(
                [seed, 202, k],
                s,
                probs[k],
                int(n_cells[k]),
                scen,
                latent,
                batch_factor[s["batch"]],
                profiles,
            )
            buf.append(counts)
            buffered += counts.shape[0]
            # per-cell obs kept as small codes; strings are built once at the end
            obs_parts.append(
                (k, types.astype(np.int8), np.char.add(f"{s['sample_id']}_", bcs.astype(str)))
            )
            comp_rows.append(np.bincount(types, minlength=len(CELL_TYPES)))
            if s["sample_id"] in tenx_ids:
                folder = tenx_dir / str(s["sample_id"])
                _write_tenx(folder, counts, genes, bcs)
                tenx_paths.append(folder)
            if buffered >= chunk_size:
                flush()
        flush()
        x.attrs["shape"] = np.array([rows_total, len(genes)], dtype=np.int64)
        sample_idx = np.concatenate(
            [np.full(len(t), k, dtype=np.int64) for k, t, _ in obs_parts] or [[]]
        ).astype(np.int64)
        cell_codes = np.concatenate([t for _, t, _ in obs_parts] or [np.array([], dtype=np.int8)])
        names = np.concatenate([b for _, _, b in obs_parts] or [np.array([], dtype=str)])
        per_sample = {
            "sample_id": samples["sample_id"].astype(str),
            "subject_id": samples["subject_id"].astype(str),
            "visit": samples["visit"].astype(str),
            "batch": samples["batch"].astype(str),
        }
        cols = {}
        for col, values in per_sample.items():
            cats = list(dict.fromkeys(values))
            code_of = pd.Index(cats).get_indexer(values)
            cols[col] = pd.Categorical.from_codes(code_of[sample_idx], categories=cats)
        cols["cell_type"] = pd.Categorical.from_codes(
            cell_codes.astype(np.int64), categories=list(CELL_TYPES)
        )
        obs = pd.DataFrame(
            {c: cols[c] for c in ("sample_id", "subject_id", "visit", "cell_type", "batch")},
            index=pd.Index(names.astype(object), dtype=object),
        )
        write_elem(f, "obs", obs)
        write_elem(f, "var", pd.DataFrame(index=pd.Index(genes, dtype=object)))
        for key in ("obsm", "varm", "obsp", "varp", "layers", "uns"):
            write_elem(f, key, {})
    comp = pd.DataFrame(
        comp_rows, columns=list(CELL_TYPES), index=pd.Index(samples["sample_id"], name="sample_id")
    )
    return tenx_paths, comp


def write_tenx_manifest(path: Path, folders: list[Path], root: Path) -> Path:
    """``tenx_manifest.csv`` with ``path`` (relative to the trial folder) and ``sample_id``."""
    df = pd.DataFrame(
        {
            "path": [str(p.relative_to(root)) for p in folders],
            "sample_id": [p.name for p in folders],
        }
    )
    return write_table(path, df)
