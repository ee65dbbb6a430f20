"""The public API of biomarkers.clinical: names exist, booleans are keyword-only."""

from __future__ import annotations

import inspect

import biomarkers.clinical as clinical

SCORES = {"meld", "meld_na", "meld3", "child_pugh", "clif_of", "clif_c_aclf", "clif_c_ad", "aarc"}


def test_all_names_exist_and_are_public_objects():
    for name in clinical.__all__:
        obj = getattr(clinical, name)
        assert not name.startswith("_")
        assert obj.__doc__, name
        assert "Examples" in obj.__doc__ or name == "Outcome", name


def test_signature_rules():
    for name in clinical.__all__:
        obj = getattr(clinical, name)
        if inspect.isclass(obj):
            continue
        params = inspect.signature(obj).parameters.values()
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if name not in SCORES:  # clinical formulas are naturally positional (issue contract)
            assert len(positional) <= 3, name
        for p in positional:
            assert not isinstance(p.default, bool), f"{name}({p.name}) boolean must be keyword-only"
