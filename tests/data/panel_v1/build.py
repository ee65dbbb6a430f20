"""Build the version-1 panel fixture (run once with the release that wrote format_version 1).

``panel.json`` is a panel written by that release; ``input.csv`` a table to score with it and
``expected_scores.csv`` the scores that release gave. Version-1 panels must keep scoring exactly
so (``tests/panel/test_migrate.py``). Do not rebuild with a newer release: the point is the
old bytes.

    PYTHONPATH=. python tests/data/panel_v1/build.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from biomarkers.features import CensoredValueImputer
from biomarkers.panel import BiomarkerPanel

HERE = Path(__file__).parent
NAMES = ["cytokine:IL6@D0", "cytokine:IL10@D0", "flow:Treg@D0", "clinical:meld@D0"]


def main() -> None:
    rng = np.random.default_rng(26)
    X = rng.normal(5.0, 1.0, size=(60, len(NAMES)))
    y = (X[:, 0] - 0.6 * X[:, 2] + rng.normal(size=60) > 1.0).astype(int)
    X[rng.random(X.shape) < 0.05] = np.nan
    below = rng.random(X.shape) < 0.05
    below[:, 3] = False
    X[below] = -np.inf
    df = pd.DataFrame(X, columns=NAMES, index=[f"P{i:03d}" for i in range(60)])
    df.index.name = "subject_id"
    pipe = make_pipeline(
        CensoredValueImputer("lod_half", limits=[1.0, 1.0, 1.0, 1.0]),
        SimpleImputer(strategy="median"),
        StandardScaler(),
        LogisticRegression(C=0.5),
    ).fit(df, y)
    panel = BiomarkerPanel.from_estimator(
        pipe,
        X=df,
        outcome={"name": "response", "kind": "binary"},
        threshold="youden",
        y_true=y,
        y_score=pipe.predict_proba(df)[:, 1],
        name="version-1 fixture panel",
        purpose="prognosis",
    )
    panel.write(HERE, overwrite=True)
    new = df.iloc[:12].copy()
    new.index = [f"N{i:02d}" for i in range(12)]
    new.index.name = "subject_id"
    new.to_csv(HERE / "input.csv")
    panel.score(new)[["score", "probability", "predicted", "n_imputed"]].to_csv(
        HERE / "expected_scores.csv", float_format="%.17g"
    )


if __name__ == "__main__":
    main()
