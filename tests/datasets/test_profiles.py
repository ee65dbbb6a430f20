"""Cell-type profiles derived from scanpy's pbmc68k_reduced."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.datasets._profiles import CELL_TYPES, derive_profiles, load_profiles


def test_bundled_profiles_are_normalised_and_biological():
    p = load_profiles()
    assert list(p.columns) == list(CELL_TYPES)
    assert p.shape == (765, len(CELL_TYPES))
    np.testing.assert_allclose(p.sum(axis=0), 1.0)
    assert (p > 0).all().all()
    # canonical markers peak in their own cell type
    assert p.loc["MS4A1"].idxmax() == "B"
    assert p.loc["NKG7"].idxmax() in {"NK", "CD8_T"}
    assert p.loc["FCGR3A"].idxmax() in {"CD16_mono", "NK"}
    assert p.loc["FCER1A"].idxmax() == "DC"
    assert p.loc["LYZ"].idxmax() in {"CD14_mono", "CD14_mono_HLADR_low", "DC"}
    # derived states
    assert p.loc["TIGIT", "Treg"] > 3 * p.loc["TIGIT", "CD4_T"]
    assert p.loc["HLA-DRA", "CD14_mono_HLADR_low"] < 0.3 * p.loc["HLA-DRA", "CD14_mono"]


@pytest.mark.slow
def test_bundled_profiles_match_derivation():
    pd.testing.assert_frame_equal(
        load_profiles(), derive_profiles(), check_exact=False, rtol=1e-4, atol=1e-9
    )
