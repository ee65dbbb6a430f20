"""Feature builders: fold-refittable transformers, pseudobulk, composition, FeatureTable."""

from __future__ import annotations

from biomarkers.features._censored import CensoredValueImputer

__all__ = [
    "CensoredValueImputer",
]
