"""The predictive section shows shrunk marker effects, then the credibility card."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biomarkers.models import credibility, predictive
from biomarkers.report._report import _Figures, _predictive_section
from biomarkers.report._words import Words


def test_predictive_section_appends_shrunk_effects_then_the_credibility_card(tmp_path):
    rng = np.random.default_rng(0)
    n = 120
    df = pd.DataFrame({"arm": np.where(rng.random(n) < 0.5, "MSC", "SMT")})
    for j in range(6):
        df[f"m{j}"] = rng.normal(size=n)
    lin = -0.3 + 1.5 * (df["arm"] == "MSC") * df["m0"]
    df["response"] = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    res = predictive(df, outcome="response", arm="arm", treated="MSC", method=["interaction"])
    res.save(tmp_path)
    credibility(res, prespecified={"m0": "higher"}).to_csv(tmp_path / "credibility.csv")
    words = Words(trial="t", outcome="response", positive="response = 1", kind="binary",
                  treated="MSC", control="SMT")  # fmt: skip
    s = _predictive_section(tmp_path, words, _Figures(tmp_path), root=tmp_path)
    captions = [c for c, _ in s.tables]
    assert captions[0].startswith("Markers, by evidence")
    assert captions[1].startswith("Shrunk marker effects")
    assert captions[2].startswith("Credibility card")
    assert "empirical Bayes" in s.tables[1][1]
    assert "hypothesis-generating" in s.tables[2][1]
    assert "Treatment × marker interactions: raw and shrunk" in [c for c, _ in s.figures]
    assert (tmp_path / "figures" / "interactions_shrunk.png").is_file()
