from __future__ import annotations

import inspect

import pytest

import biomarkers.mechanism as mech

# gene sets have one home upstream (biomarkers.features._genesets); mechanism re-exports them
REEXPORTED = {
    "bundled_gene_sets": "biomarkers.features._genesets",
    "read_gmt": "biomarkers.features._genesets",
}


def test_all_names_exist_and_are_documented():
    for name in mech.__all__:
        obj = getattr(mech, name)
        assert obj.__doc__, name
        home = REEXPORTED.get(name, "biomarkers.mechanism._")
        assert obj.__module__.startswith(home), name


@pytest.mark.parametrize(
    "func",
    [getattr(mech, n) for n in mech.__all__ if inspect.isfunction(getattr(mech, n))],
    ids=lambda f: f.__name__,
)
def test_signatures_data_first_then_keyword_only(func):
    params = list(inspect.signature(func).parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    assert len(positional) <= 3
    for p in positional:
        assert not isinstance(p.default, bool), f"{func.__name__}({p.name}) boolean positional"


def test_import_is_light():
    import subprocess
    import sys

    code = (
        "import sys, biomarkers.mechanism; "
        "print(any(m in sys.modules for m in ('pydeseq2', 'decoupler', 'statsmodels')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
