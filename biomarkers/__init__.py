"""biomarkers: find the markers that predict response to mesenchymal stem cell therapy.

Subpackages are imported lazily, so ``import biomarkers as bm`` is fast and has no side
effects; ``bm.io``, ``bm.clinical``, ``bm.features`` ... load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from biomarkers._settings import settings
from biomarkers.exceptions import (
    BiomarkersError,
    ConfigError,
    LeakageError,
    SchemaError,
)

__version__ = "0.1.0"

_SUBPACKAGES = (
    "clinical",
    "datasets",
    "design",
    "features",
    "io",
    "mechanism",
    "models",
    "panel",
    "pl",
    "qc",
    "report",
    "study",
)

__all__ = [
    "BiomarkersError",
    "ConfigError",
    "LeakageError",
    "SchemaError",
    "__version__",
    "settings",
    *_SUBPACKAGES,
]

if TYPE_CHECKING:
    from biomarkers import (  # noqa: F401
        clinical,
        datasets,
        design,
        features,
        io,
        mechanism,
        models,
        panel,
        pl,
        qc,
        report,
        study,
    )


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        module = importlib.import_module(f"biomarkers.{name}")
        globals()[name] = module
        return module
    msg = f"module 'biomarkers' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(__all__)
