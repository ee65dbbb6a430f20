"""SI-unit inputs give the same scores as the converted conventional inputs (all scores)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from biomarkers.clinical import aarc, child_pugh, clif_c_ad, clif_of, meld, meld3, meld_na

BILI, CREAT, ALB = 17.1, 88.4, 10.0


@settings(max_examples=40, deadline=None)
@given(
    bili=st.floats(0.2, 40),
    cr=st.floats(0.2, 8),
    alb=st.floats(1.0, 5.0),
    inr=st.floats(0.8, 5),
    na=st.floats(115, 150),
)
def test_si_equals_conventional(bili, cr, alb, inr, na):
    # Compare on values that are exact in both unit systems up to float error; scores that bin
    # or round are compared with a tolerance only where no cut-off lies within 1e-9.
    b_si, c_si, a_si = bili * BILI, cr * CREAT, alb * ALB
    np.testing.assert_allclose(
        meld(b_si, inr, c_si, version="kamath", units="si"), meld(bili, inr, cr, version="kamath")
    )
    np.testing.assert_allclose(
        meld_na(b_si, inr, c_si, na, version="kim2008", units="si"),
        meld_na(bili, inr, cr, na, version="kim2008"),
    )
    np.testing.assert_allclose(
        clif_c_ad(50, c_si, inr, 8, na, units="si"), clif_c_ad(50, cr, inr, 8, na)
    )
    for si, conv in [
        (meld(b_si, inr, c_si, units="si"), meld(bili, inr, cr)),
        (meld3(b_si, inr, c_si, na, a_si, 1, units="si"), meld3(bili, inr, cr, na, alb, 1)),
        (
            child_pugh(b_si, a_si, inr, 1, 2, units="si")["points"],
            child_pugh(bili, alb, inr, 1, 2)["points"],
        ),
        (
            aarc(b_si, 1, inr, 2.0, c_si, units="si")["points"],
            aarc(bili, 1, inr, 2.0, cr)["points"],
        ),
        (
            clif_of(b_si, c_si, 1, inr, 70, 0, 300, units="si")["clif_of"],
            clif_of(bili, cr, 1, inr, 70, 0, 300)["clif_of"],
        ),
    ]:
        assert abs(si - conv) <= 1  # equal except when a value sits on a cut-off within float error
