"""Feature builders: fold-refittable transformers, pseudobulk, composition, FeatureTable.

``build_feature_table`` only applies per-subject, deterministic transforms; everything learned
from data (censored-value substitution, filters, learned normalisation) is a transformer that
model pipelines fit inside each cross-validation training fold.

The scikit-learn transformers are imported on first use (module ``__getattr__``), so streaming
pseudobulk jobs do not pay for importing scikit-learn (~50 MB of memory).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from biomarkers._names import (
    FeatureName,
    feature_name,
    is_feature_name,
    known_at_day,
    parse_feature_name,
)
from biomarkers.features._blocks import available_blocks, resolve_blocks
from biomarkers.features._composition import composition
from biomarkers.features._feature_table import build_feature_table
from biomarkers.features._genesets import (
    as_network,
    bundled_gene_sets,
    geneset_scores,
    read_gmt,
)
from biomarkers.features._plates import PlateMedianNormalizer, bridge_normalize
from biomarkers.features._pseudobulk import pseudobulk

if TYPE_CHECKING:
    from biomarkers.features._censored import CensoredValueImputer
    from biomarkers.features._clr import CLRTransformer
    from biomarkers.features._filters import MissingnessFilter, VarianceFilter
    from biomarkers.features._log2 import Log2Transformer
    from biomarkers.features._normalize import PseudobulkNormalizer

_LAZY = {
    "CensoredValueImputer": "_censored",
    "CLRTransformer": "_clr",
    "Log2Transformer": "_log2",
    "MissingnessFilter": "_filters",
    "VarianceFilter": "_filters",
    "PseudobulkNormalizer": "_normalize",
}

__all__ = [
    "CLRTransformer",
    "CensoredValueImputer",
    "FeatureName",
    "Log2Transformer",
    "MissingnessFilter",
    "PlateMedianNormalizer",
    "PseudobulkNormalizer",
    "VarianceFilter",
    "as_network",
    "available_blocks",
    "bridge_normalize",
    "build_feature_table",
    "bundled_gene_sets",
    "composition",
    "feature_name",
    "geneset_scores",
    "is_feature_name",
    "known_at_day",
    "parse_feature_name",
    "pseudobulk",
    "read_gmt",
    "resolve_blocks",
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f"biomarkers.features.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    msg = f"module 'biomarkers.features' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(__all__)
