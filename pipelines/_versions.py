"""Installed versions of the packages a run depends on (manifest and analysis plan)."""

from __future__ import annotations

import importlib.metadata

__all__ = ["package_versions"]

_PACKAGES = (
    "biomarkers", "numpy", "scipy", "pandas", "anndata", "scanpy", "scikit-learn", "xgboost",
    "statsmodels", "scikit-survival", "pydeseq2", "decoupler", "pydantic", "dask",
)  # fmt: skip


def package_versions() -> dict[str, str]:
    """``{distribution: version}`` of the installed packages of ``_PACKAGES``."""
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions
