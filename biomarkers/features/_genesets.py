"""The toolkit's one home for gene sets: read GMT files, the bundled collection, scoring.

A gene-set collection is always a decoupler network: a DataFrame with columns ``source`` (set
name), ``target`` (gene symbol) and ``weight`` (+1, or −1 for a gene that goes *down* in the
state the set describes). :func:`as_network` turns the other accepted inputs (a GMT or CSV path,
a ``{set: genes}`` mapping) into one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from biomarkers._logging import logger
from biomarkers._validation import check_columns, did_you_mean
from biomarkers.exceptions import InputFileError, SchemaError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import anndata as ad

__all__ = ["as_network", "bundled_gene_sets", "geneset_scores", "read_gmt"]

NETWORK_COLUMNS = ["source", "target", "weight"]
BUNDLED_NAMES = ("bundled", "immune_modules")
_BUNDLED = "immune_gene_sets.csv"


def read_gmt(path: str | os.PathLike) -> pd.DataFrame:
    """Read a GMT gene-set file into a gene-set network.

    Each line is ``name <TAB> description <TAB> gene1 <TAB> gene2 ...`` (MSigDB format).

    Parameters
    ----------
    path
        Path of the ``.gmt`` file.

    Returns
    -------
    pandas.DataFrame
        ``source`` (set name), ``target`` (gene) and ``weight`` (1.0), one row per set × gene in
        file order, duplicate genes of a set removed.

    Examples
    --------
    >>> from biomarkers.features import read_gmt
    >>> net = read_gmt("h.all.v2023.2.Hs.symbols.gmt")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        msg = f"{path}: gene-set file not found; pass the path of a .gmt file"
        raise InputFileError(msg)
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.rstrip("\r\n").split("\t")
        if len(fields) < 3 or not fields[0].strip():
            msg = (
                f"{path}: line {lineno} is not GMT: expected 'name<TAB>description<TAB>gene...', "
                f"got {len(fields)} tab-separated field(s); is the file tab-delimited?"
            )
            raise InputFileError(msg)
        name = fields[0].strip()
        if name in seen:
            msg = f"{path}: line {lineno}: gene set {name!r} appears twice; names must be unique"
            raise InputFileError(msg)
        seen.add(name)
        rows.extend((name, g.strip()) for g in dict.fromkeys(fields[2:]) if g.strip())
    if not rows:
        msg = f"{path}: no gene sets found; is it a GMT file?"
        raise InputFileError(msg)
    net = pd.DataFrame(rows, columns=["source", "target"]).drop_duplicates(ignore_index=True)
    net["weight"] = 1.0
    return net


def bundled_gene_sets() -> pd.DataFrame:
    """The bundled, literature-curated immune modules of the MSC–ACLF analyses.

    Modules: ``interferon_response``, ``il10_stat3``, ``tnf_nfkb``, ``treg``, ``th17``,
    ``cytotoxicity``, ``monocyte_inflammatory``, ``monocyte_immunosuppressive``,
    ``mdsc_hladr_low`` (HLA class II genes with weight −1), ``antigen_presentation``,
    ``hgf_met``. Sources per gene are listed in ``biomarkers/features/data/README.md``.
    Used by the ``geneset`` feature block and by :func:`biomarkers.mechanism.enrichment`.

    Returns
    -------
    pandas.DataFrame
        ``source, target, weight`` (decoupler network format).

    Examples
    --------
    >>> net = bundled_gene_sets()
    >>> sorted(net["source"].unique())[:3]
    ['antigen_presentation', 'cytotoxicity', 'hgf_met']
    """
    ref = resources.files("biomarkers.features").joinpath("data", _BUNDLED)
    with ref.open("r", encoding="utf-8") as fh:
        net = pd.read_csv(fh)
    net["weight"] = net["weight"].astype(float)
    return net


def as_network(gene_sets: Any, *, source: str = "gene_sets") -> pd.DataFrame:
    """Turn any accepted gene-set input into a ``source, target, weight`` network.

    Parameters
    ----------
    gene_sets
        ``None`` or ``"bundled"`` / ``"immune_modules"`` (:func:`bundled_gene_sets`), a GMT path,
        a CSV/TSV path or DataFrame network (``source, target[, weight]``), or a mapping
        ``{set name: genes}``.
    source
        Prefix of error messages (the calling function).

    Returns
    -------
    pandas.DataFrame
        ``source, target, weight``; missing weights are 1.0, duplicate set × gene rows dropped.
    """
    if gene_sets is None or (isinstance(gene_sets, str) and gene_sets in BUNDLED_NAMES):
        return bundled_gene_sets()
    if isinstance(gene_sets, str | os.PathLike):
        path = Path(gene_sets)
        if path.suffix.lower() not in {".csv", ".tsv"}:
            return read_gmt(path)
        if not path.is_file():
            msg = f"{source}: gene-set file {str(path)!r} not found"
            raise InputFileError(msg)
        net = pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",")
    elif isinstance(gene_sets, pd.DataFrame):
        net = gene_sets
    elif isinstance(gene_sets, Mapping):
        net = pd.DataFrame(
            [(k, g) for k, genes in gene_sets.items() for g in genes], columns=["source", "target"]
        )
    else:
        msg = (
            f"{source}: gene_sets must be None (bundled), a GMT/CSV path, a DataFrame "
            f"(source, target[, weight]) or a dict, got {type(gene_sets).__name__}"
        )
        raise SchemaError(msg)
    check_columns(net, ["source", "target"], source=f"{source}: gene_sets", hint="")
    net = net.copy()
    if "weight" not in net.columns:
        net["weight"] = 1.0
    net = net.drop_duplicates(["source", "target"])
    return net[NETWORK_COLUMNS]


def geneset_scores(
    pdata: ad.AnnData,
    gene_sets: pd.DataFrame | Mapping[str, Sequence[str]] | str | os.PathLike | None = None,
    *,
    layer: str | None = None,
    min_genes: int = 2,
) -> pd.DataFrame:
    """Score gene sets in each pseudobulk sample: mean log1p-CPM of the set minus the sample mean.

    The score of set *S* in sample *i* is ``sum_{g in S} w_g (e_ig - mean_{all g} e_ig) /
    sum_{g in S} |w_g|`` with ``e = log1p(CPM)`` and set weights ``w`` (+1, or −1 for genes that
    go down; with all weights +1 this is the set's mean minus the sample mean); it uses the
    sample's own profile only (no reference learned across samples), so it can be computed
    before cross-validation.

    Parameters
    ----------
    pdata
        Pseudobulk AnnData (samples × genes), e.g. from :func:`pseudobulk`.
    gene_sets
        Any input :func:`as_network` accepts: a network (:func:`read_gmt`,
        :func:`bundled_gene_sets`), a ``{set: genes}`` mapping, a GMT/CSV path, or ``None`` for the
        bundled sets.
    layer
        Layer that already holds log1p-CPM values; ``None`` computes it from the counts in ``X``.
    min_genes
        Sets with fewer genes present in ``pdata`` are skipped (logged).

    Returns
    -------
    pandas.DataFrame
        ``pdata.obs_names`` × set names.

    Examples
    --------
    >>> import anndata as ad, numpy as np, pandas as pd
    >>> pdata = ad.AnnData(
    ...     np.array([[10.0, 10.0, 80.0]]), var=pd.DataFrame(index=["A", "B", "C"])
    ... )
    >>> geneset_scores(pdata, {"AB": ["A", "B"]}).round(2)
         AB
    0 -0.69
    """
    if layer is None:
        X = np.asarray(pdata.X.toarray() if hasattr(pdata.X, "toarray") else pdata.X, float)
        totals = X.sum(axis=1, keepdims=True)
        expr = np.log1p(np.divide(X, totals, out=np.zeros_like(X), where=totals > 0) * 1e6)
    else:
        if layer not in pdata.layers:
            msg = f"layer {layer!r} not found{did_you_mean(layer, pdata.layers.keys())}"
            raise SchemaError(msg)
        expr = np.asarray(pdata.layers[layer], dtype=float)
    centre = expr.mean(axis=1)
    out = {}
    names = pd.Index(pdata.var_names)
    for name, members in as_network(gene_sets, source="geneset_scores").groupby(
        "source", sort=False
    ):
        idx = names.get_indexer(members["target"].astype(str))
        weights = members["weight"].to_numpy(float)[idx >= 0]
        idx = idx[idx >= 0]
        if idx.size < min_genes:
            logger.info(
                "gene set %r: %d of its genes present (< %d); skipped", name, idx.size, min_genes
            )
            continue
        centred = expr[:, idx] - centre[:, None]
        out[name] = centred @ weights / np.abs(weights).sum()
    return pd.DataFrame(out, index=pdata.obs_names)
