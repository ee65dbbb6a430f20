"""Gene sets: read GMT files and load the bundled immune modules."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import pandas as pd

from biomarkers.exceptions import InputFileError

__all__ = ["bundled_gene_sets", "read_gmt"]


def read_gmt(path: str | os.PathLike) -> pd.DataFrame:
    """Read a GMT gene-set file into a decoupler network.

    Each line is ``name <TAB> description <TAB> gene1 <TAB> gene2 ...`` (MSigDB format).

    Parameters
    ----------
    path
        The ``.gmt`` file.

    Returns
    -------
    DataFrame with columns ``source`` (set name), ``target`` (gene) and ``weight`` (1.0), one
    row per set × gene, duplicates removed.

    Examples
    --------
    >>> net = read_gmt("h.all.v2023.2.Hs.symbols.gmt")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        msg = f"gene-set file {str(path)!r} not found; give the path of a .gmt file"
        raise InputFileError(msg)
    rows = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            line = line.rstrip("\r\n")
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) < 3 or not fields[0].strip():
                msg = (
                    f"{path}: line {lineno} is not GMT (need name<TAB>description<TAB>genes...): "
                    f"{line[:60]!r}"
                )
                raise InputFileError(msg)
            name = fields[0].strip()
            rows.extend((name, g.strip()) for g in fields[2:] if g.strip())
    if not rows:
        msg = f"{path}: no gene sets found; is it a GMT file?"
        raise InputFileError(msg)
    net = pd.DataFrame(rows, columns=["source", "target"]).drop_duplicates(ignore_index=True)
    net["weight"] = 1.0
    return net


def bundled_gene_sets() -> pd.DataFrame:
    """Load the bundled, literature-curated immune modules of the MSC–ACLF mechanism analyses.

    Modules: ``interferon_response``, ``il10_stat3``, ``tnf_nfkb``, ``treg``,
    ``monocyte_inflammatory``, ``mdsc_hladr_low`` (HLA class II genes with weight −1),
    ``antigen_presentation``, ``hgf_met``. Sources per gene are listed in
    ``biomarkers/mechanism/data/README.md`` and ``docs/mechanism.md``.

    Returns
    -------
    DataFrame with columns ``source``, ``target``, ``weight`` (decoupler network format).

    Examples
    --------
    >>> net = bundled_gene_sets()
    >>> sorted(net["source"].unique())[:3]
    ['antigen_presentation', 'hgf_met', 'il10_stat3']
    """
    ref = resources.files("biomarkers.mechanism").joinpath("data/immune_modules.csv")
    with ref.open("r", encoding="utf-8") as fh:
        net = pd.read_csv(fh)
    net["weight"] = net["weight"].astype(float)
    return net
