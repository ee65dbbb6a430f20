"""Every performance figure names the interval of its CI (issue 19)."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd

import biomarkers as bm

matplotlib.use("Agg")


def test_roc_legend_names_the_interval_method():
    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.normal(size=(60, 8)), columns=[f"f{i}" for i in range(8)])
    y = pd.Series((X["f0"] + rng.normal(size=60) > 0).astype(int))
    res = bm.models.discover(X, outcome=y, models=["enet"], cv=(3, 2), n_permutations=0,
                             n_bootstraps=20, n_jobs=1, interval="corrected_t")  # fmt: skip
    fig = bm.pl.roc_curve(res.oof_predictions, performance=res.performance)
    label = fig.axes[0].get_legend().get_texts()[0].get_text()
    row = res.performance.set_index("metric").loc["auroc"]
    assert label == (
        f"enet: AUROC {row.estimate:.2f} [{row.ci_low:.2f}, {row.ci_high:.2f}], "
        "corrected resampled t, Nadeau & Bengio 2003"
    )
    plain = bm.pl.roc_curve(res.oof_predictions).axes[0]
    assert plain.get_title().endswith("legend: AUROC pooled per repeat, no CI")
