"""Small hand-made trial tables shared by the clinical tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def clinical() -> pd.DataFrame:
    # s1 alive at 90; s2 died day 10; s3 transplanted day 20; s4 lost day 40 (censored);
    # s5 died day 95 (after a 90-day horizon); s6 died exactly on day 28.
    return pd.DataFrame(
        {
            "subject_id": ["s1", "s2", "s3", "s4", "s5", "s6"],
            "arm": ["ucMSC+SMT", "SMT", "ucMSC+SMT", "SMT", "ucMSC+SMT", "SMT"],
            "age": [45, 50, 38, 60, 55, 41],
            "sex": ["M", "F", "M", "M", "F", "M"],
            "etiology": ["alcohol", "cryptogenic", "alcohol", "NASH", "alcohol", "alcohol"],
            "death": [0, 1, 0, 0, 1, 1],
            "death_day": [np.nan, 10, np.nan, np.nan, 95, 28],
            "transplant": [0, 0, 1, 0, 0, 0],
            "transplant_day": [np.nan, np.nan, 20, np.nan, np.nan, np.nan],
            "last_followup_day": [90, 10, 90, 40, 95, 28],
        }
    )


def _lab_row(sid, visit, bili, cr, he, inr, map_, vp, pf, **extra):
    row = {
        "subject_id": sid,
        "visit": visit,
        "bilirubin_mg_dl": bili,
        "creatinine_mg_dl": cr,
        "he_grade": he,
        "inr": inr,
        "map_mmhg": map_,
        "vasopressor": vp,
        "pao2_fio2": pf,
        "sodium_mmol_l": 132.0,
        "albumin_g_dl": 2.8,
        "wbc_10e9_l": 9.0,
        "lactate_mmol_l": 2.0,
        "ascites": "mild",
        "dialysis": 0,
    }
    row.update(extra)
    return row


@pytest.fixture
def labs() -> pd.DataFrame:
    rows = [
        # s1: ACLF-2 (liver + coagulation) → D7 no ACLF (resolution)
        _lab_row("s1", "D0", 18, 1.0, 1, 2.7, 75, 0, 350),
        _lab_row("s1", "D7", 5, 1.0, 0, 1.5, 80, 0, 400),
        _lab_row("s1", "D28", 3, 0.9, 0, 1.3, 80, 0, 400),
        # s2: ACLF-1 (kidney) at D0, died day 10 (no D28 row)
        _lab_row("s2", "D0", 4, 2.3, 0, 1.6, 80, 0, 400),
        _lab_row("s2", "D7", 14, 2.3, 0, 2.6, 80, 0, 400),
        # s3: ACLF-3 → ACLF-2 at D7 (improvement); transplanted day 20
        _lab_row("s3", "D0", 25, 2.5, 3, 3.0, 65, 0, 250),
        _lab_row("s3", "D7", 25, 1.0, 0, 3.0, 80, 0, 400),
        # s4: ACLF-1 steady
        _lab_row("s4", "D0", 4, 2.3, 0, 1.6, 80, 0, 400),
        _lab_row("s4", "D7", 4, 2.4, 0, 1.6, 80, 0, 400),
        _lab_row("s4", "D28", 4, 2.4, 0, 1.6, 80, 0, 400),
        # s5: no ACLF at D0 (EASL) → no course
        _lab_row("s5", "D0", 14, 1.2, 0, 1.8, 80, 0, 400),
        _lab_row("s5", "D7", 14, 1.2, 0, 1.8, 80, 0, 400),
        _lab_row("s5", "D28", 14, 1.2, 0, 1.8, 80, 0, 400),
        # s6: D0 only (missing D7, alive at D7 → unknown course); died on day 28
        _lab_row("s6", "D0", 4, 2.3, 0, 1.6, 80, 0, np.nan),
    ]
    return pd.DataFrame(rows)
