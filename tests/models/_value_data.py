"""A hand-built multi-assay table: two planted assays, one noise assay, a weak clinical score."""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_assays(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """Clinical (2 scores), cytokine and flow (one planted feature each), olink (noise only)."""
    rng = np.random.default_rng(seed)
    cols = {
        "clinical:meld@D0": rng.normal(size=n),
        "clinical:age@D0": rng.normal(size=n),
    }
    for block in ("cytokine", "flow", "olink"):
        for j in range(4):
            cols[f"{block}:{block[0].upper()}{j}@D0"] = rng.normal(size=n)
    cols["cytokine:C3@D7"] = rng.normal(size=n)  # a second visit of the cytokine assay
    df = pd.DataFrame(cols, index=[f"S{i:03d}" for i in range(n)])
    lin = 0.5 * df["clinical:meld@D0"] + 2 * df["cytokine:C0@D0"] + 2 * df["flow:F0@D0"]
    df["response"] = (lin + rng.logistic(size=n) > 0).astype(int)
    return df
