"""The closed registry of feature blocks: what each builds, its options, and the data it needs.

A job config's ``features.blocks`` (and ``build_feature_table(blocks=...)``) names entries of
this registry; :func:`resolve_blocks` checks names and options and fills in defaults, and with
``blocks=None`` picks every block the study has data for.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from biomarkers._logging import logger
from biomarkers._validation import did_you_mean
from biomarkers.exceptions import ConfigError
from biomarkers.features import _block_builders as b

__all__ = ["available_blocks", "resolve_blocks"]

SINGLECELL = "singlecell"

#: genes per cell type kept by the default pseudobulk gene filter (``genes: variable``)
DEFAULT_N_GENES = 20


@dataclass(frozen=True, kw_only=True)
class BlockSpec:
    """One feature block of the registry (internal; listed by :func:`available_blocks`).

    Attributes
    ----------
    name
        The key in ``features.blocks`` / ``blocks=``.
    description
        One line for :func:`available_blocks`.
    options
        Every option with its default (an unknown option is an error with a suggestion).
    needs
        The data the block reads: ``None`` (clinical tables), an assay name of
        ``study.assays`` or ``"singlecell"``.
    build
        Value blocks: ``build(ctx, block, opts, acc)`` adds features to ``acc``. Longitudinal
        blocks: ``build(Y, visits, days, base)`` returns the changes of one feature series.
    longitudinal
        A switch (``true``/``false``) computing changes over the visits of every value feature.
    default
        Built when ``blocks`` is not given (and the study has what the block needs).
    """

    name: str
    description: str
    options: dict[str, Any]
    needs: str | None
    build: Callable[..., Any]
    longitudinal: bool = False
    default: bool = True


def _assay_options(assay: str, *, modality: str, transform: str) -> dict[str, Any]:
    return {
        "assay": assay,
        "modality": modality,
        "transform": transform,
        "offset": 1.0,
        "max_censored": 0.3,
    }


def assay_spec(assay: str, *, table: bool = False) -> BlockSpec:
    """The block of an assay: its registry entry, or the generic block named after it.

    An assay read from a subject table (``table=True``, ``uns["source"] == "table"``) always
    gets the generic block: modality = the table's name, values kept in the table's own unit
    (``transform: none``), even when the table is called like a registered assay.
    """
    spec = REGISTRY.get(assay)
    if spec is not None and spec.needs == assay and not table:
        return spec
    what = "subject table" if table else "assay"
    return BlockSpec(
        name=assay,
        description=f"values of {what} {assay!r} per column × visit",
        options=_assay_options(assay, modality=assay, transform="none"),
        needs=assay,
        build=b.build_assay,
    )


_CELL_OPTIONS = {"groups_key": "cell_type", "layer": None, "min_cells": 10, "cell_types": None}

REGISTRY: dict[str, BlockSpec] = {
    s.name: s
    for s in (
        BlockSpec(
            name="clinical",
            description="severity scores (computed when absent) and lab values per visit",
            options={"scores": list(b.DEFAULT_SCORES), "labs": []},
            needs=None,
            build=b.build_clinical,
        ),
        BlockSpec(
            name="cytokines",
            description="cytokine concentrations per analyte × visit, log2(x + offset)",
            options=_assay_options("cytokines", modality="cytokine", transform="log2"),
            needs="cytokines",
            build=b.build_assay,
        ),
        BlockSpec(
            name="olink",
            description="Olink NPX (already log2) per analyte × visit",
            options=_assay_options("olink", modality="olink", transform="none"),
            needs="olink",
            build=b.build_assay,
        ),
        BlockSpec(
            name="flow",
            description="flow-cytometry population frequencies per population × visit",
            options=_assay_options("flow", modality="flow", transform="none"),
            needs="flow",
            build=b.build_assay,
        ),
        BlockSpec(
            name="composition",
            description="CLR of cell-type counts within each single-cell sample",
            options={
                "min_cells": 20,
                "pseudocount": 0.5,
                "sample_key": "sample_id",
                "groups_key": "cell_type",
            },
            needs=SINGLECELL,
            build=b.build_composition,
        ),
        BlockSpec(
            name="pseudobulk",
            description=(
                f"log1p CPM per cell type × gene (default: the {DEFAULT_N_GENES} most variable "
                "genes of each cell type, outcome-blind)"
            ),
            options={**_CELL_OPTIONS, "genes": "variable", "n_genes": DEFAULT_N_GENES},
            needs=SINGLECELL,
            build=b.build_pseudobulk,
        ),
        BlockSpec(
            name="geneset",
            description="gene-set scores per cell type (default: the bundled immune sets)",
            options={**_CELL_OPTIONS, "gene_sets": None},
            needs=SINGLECELL,
            build=b.build_geneset,
            default=False,
        ),
        BlockSpec(
            name="deltas",
            description="change of every value feature from the first visit",
            options={},
            needs=None,
            build=b.build_deltas,
            longitudinal=True,
        ),
        BlockSpec(
            name="slope",
            description="least-squares slope per day over the visits",
            options={},
            needs=None,
            build=b.build_slope,
            longitudinal=True,
            default=False,
        ),
        BlockSpec(
            name="auc",
            description="time-averaged area under the curve over the visits",
            options={},
            needs=None,
            build=b.build_auc,
            longitudinal=True,
            default=False,
        ),
    )
}


def block_spec(
    name: str, assays: Collection[str] | None = None, *, tables: Collection[str] = ()
) -> BlockSpec:
    """The spec of a block name: a registry entry or the generic block of one of ``assays``.

    ``tables`` names the assays read from subject tables (generic block whatever the name).
    """
    if name in tables:
        return assay_spec(name, table=True)
    if name in REGISTRY:
        return REGISTRY[name]
    if assays is not None and name in assays:
        return assay_spec(name)
    known = [*REGISTRY, *(a for a in assays or () if a not in REGISTRY)]
    msg = (
        f"features: unknown block {name!r}{did_you_mean(name, known)}; available: "
        f"{', '.join(known)} (see biomarkers.features.available_blocks())"
    )
    raise ConfigError(msg)


def _options(spec: BlockSpec, opts: Any) -> dict[str, Any] | bool:
    if spec.longitudinal:
        if isinstance(opts, Mapping) and not opts:
            return True
        if not isinstance(opts, bool):
            msg = f"features.{spec.name}: use true or false, got {opts!r}"
            raise ConfigError(msg)
        return opts
    opts = {} if opts is True else opts
    if not isinstance(opts, Mapping):
        msg = f"features.{spec.name}: options must be a mapping (or true), got {opts!r}"
        raise ConfigError(msg)
    for key in opts:
        if key not in spec.options:
            msg = (
                f"features.{spec.name}: unknown option {key!r}{did_you_mean(key, spec.options)}; "
                f"allowed: {', '.join(sorted(spec.options))}"
            )
            raise ConfigError(msg)
    return {**spec.options, **opts}


def _need(spec: BlockSpec, opts: Any) -> str | None:
    """The data a resolved block reads (its ``assay`` option overrides the spec's)."""
    if isinstance(opts, Mapping) and "assay" in opts:
        return str(opts["assay"])
    return spec.needs


def _missing(need: str | None, assays, singlecell) -> bool:
    if need is None:
        return False
    if need == SINGLECELL:
        return singlecell is False
    return assays is not None and need not in assays


def _missing_message(block: str, need: str, assays) -> str:
    if need == SINGLECELL:
        return (
            f"features.{block}: the study has no single-cell data; add it (data.singlecell in "
            f"a job config) or remove the {block!r} block"
        )
    return (
        f"features.{block}: the study has no assay {need!r}{did_you_mean(need, assays)}; "
        f"available: {', '.join(assays) or 'none'}; load its file (data.cytokines or data.flow "
        f"in a job config) or remove the {block!r} block"
    )


def _order(name: str) -> float:
    """Build order: registry order, other assays right after the registered assay blocks."""
    names = list(REGISTRY)
    return names.index(name) if name in REGISTRY else names.index("flow") + 0.5


def _defaults(assays, singlecell, tables=()) -> dict[str, Any]:
    """Every default block the data allows: clinical, one block per loaded assay, single cell."""
    registered = [n for n, s in REGISTRY.items() if s.default and s.needs == n]
    if assays is None:
        assays = registered
    for n in registered:
        if n not in assays:
            logger.info("features: the study has no %r assay; default block %r skipped", n, n)
    names = [n for n, s in REGISTRY.items() if s.default and s.needs in (None, SINGLECELL)]
    if singlecell is False:
        skipped = [n for n in names if REGISTRY[n].needs == SINGLECELL]
        logger.info("features: no single-cell data; default blocks %s skipped", ", ".join(skipped))
        names = [n for n in names if n not in skipped]
    names = sorted([*names, *assays], key=_order)
    return {n: _options(block_spec(n, assays, tables=tables), True) for n in names}


def resolve_blocks(
    blocks: Mapping[str, Any] | Sequence[str] | None = None,
    *,
    assays: Collection[str] | None = None,
    singlecell: bool | None = None,
    tables: Collection[str] = (),
) -> dict[str, Any]:
    """Check ``blocks`` against the registry and fill in every option's default.

    :func:`build_feature_table` and the job-config loader both call this, so a config is
    checked the same way before a run as during it.

    Parameters
    ----------
    blocks
        Block name → options (``true`` for the defaults, ``false``/``None`` to leave it out), a
        list of names, or ``None`` for the default blocks of the data.
    assays
        The assay names the study has (``None``: not known, not checked).
    singlecell
        Whether the study has single-cell data (``None``: not known, not checked).
    tables
        The assays read from subject tables (``data.tables``); each gets the generic assay
        block (modality = its name, ``transform: none``) even under a registered name.

    Returns
    -------
    dict
        Block name → full options (value blocks) or ``True`` (longitudinal switches), in build
        order (the registry's; assays not in it after the registered assay blocks).

    Raises
    ------
    ConfigError
        Unknown block or option (with the closest valid name), or a named block whose data the
        study lacks (naming the block, the missing data and the fix).

    Examples
    --------
    >>> from biomarkers.features import resolve_blocks
    >>> resolve_blocks(["olink", "deltas"], assays=["cytokines", "olink"])["olink"]["transform"]
    'none'
    """
    if blocks is None:
        return _defaults(assays, singlecell, tables)
    if isinstance(blocks, str) or not isinstance(blocks, Mapping | Sequence):
        msg = f"features blocks must be a mapping or a list of block names, got {blocks!r}"
        raise ConfigError(msg)
    if not isinstance(blocks, Mapping):
        blocks = dict.fromkeys(blocks, True)
    out: dict[str, Any] = {}
    for name, opts in blocks.items():
        spec = block_spec(str(name), assays, tables=tables)
        if opts is False or opts is None:
            continue
        opts = _options(spec, opts)
        need = _need(spec, opts)
        if _missing(need, assays, singlecell):
            raise ConfigError(_missing_message(spec.name, need, list(assays or ())))
        out[spec.name] = opts
    return dict(sorted(out.items(), key=lambda item: _order(item[0])))


def available_blocks() -> pd.DataFrame:
    """List the feature blocks :func:`build_feature_table` accepts.

    Any other assay of ``study.assays`` gets the generic assay block under its own name (its
    modality is the assay name; options as for ``olink``).

    Returns
    -------
    pandas.DataFrame
        One row per block: ``name``, ``description``, ``needs`` (``None``, an assay name or
        ``"singlecell"``), ``longitudinal``, ``default`` (built when ``blocks`` is not given and
        the study has what it needs) and ``options`` (dict of option → default).

    Examples
    --------
    >>> from biomarkers.features import available_blocks
    >>> available_blocks().query("default")["name"].tolist()
    ['clinical', 'cytokines', 'olink', 'flow', 'composition', 'pseudobulk', 'deltas']
    """
    rows = [
        {
            "name": s.name,
            "description": s.description,
            "needs": s.needs,
            "longitudinal": s.longitudinal,
            "default": s.default,
            "options": dict(s.options),
        }
        for s in REGISTRY.values()
    ]
    return pd.DataFrame(rows, columns=list(rows[0]))
