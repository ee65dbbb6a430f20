"""Round-two corpus cases (user mistakes that must be exit 2, values that must not be mangled silently, crash safety).

``cases(base_text)`` returns ``{name: spec}`` in the format of ``make_corpus.cases()``;
``base_text(name)`` reads a file of the valid ``_base`` trial.
"""

from __future__ import annotations

from collections.abc import Callable


def cases(base_text: Callable[[str], str]) -> dict[str, dict]:
    """Every case of this class."""
    return {}
