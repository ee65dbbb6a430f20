"""Round-two corpus cases (security: writes over read paths, paths inside files, spreadsheet formulas, panel keys/signatures, identifiers, YAML bombs, XLSX bombs).

``cases(base_text)`` returns ``{name: spec}`` in the format of ``make_corpus.cases()``;
``base_text(name)`` reads a file of the valid ``_base`` trial.
"""

from __future__ import annotations

from collections.abc import Callable


def cases(base_text: Callable[[str], str]) -> dict[str, dict]:
    """Every case of this class."""
    return {}
