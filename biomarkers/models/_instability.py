"""Prediction instability of the whole pipeline refitted on bootstrap samples.

Riley RD, Collins GS. Stability of clinical prediction models developed using statistical or
machine learning methods. Biom J 2023;65:e2200302. The pipeline (preprocessing, screening,
inner tuning, fit) is rebuilt on each bootstrap sample of subjects, and every bootstrap model
predicts the original subjects; the spread of those predictions around the original model's
is the instability (mean absolute prediction error, MAPE, per subject and overall).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from biomarkers._parallel import resolve_n_jobs
from biomarkers.models._cv import seed_for
from biomarkers.models._engine import FitConfig, final_fit
from biomarkers.models._inputs import prepare
from biomarkers.models._registry import get_spec, predict_score, resolve_name

__all__ = ["InstabilityResult", "prediction_instability"]


@dataclass(frozen=True, kw_only=True)
class InstabilityResult:
    """Result of :func:`prediction_instability`.

    Attributes
    ----------
    predictions
        Long table ``subject_id, bootstrap, original, prediction`` (one row per subject and
        bootstrap model, all predicting the original subjects).
    per_subject
        ``subject_id, original, mape`` (mean |bootstrap − original| over bootstrap models).
    mape
        Mean of ``per_subject["mape"]``: the pipeline's average prediction instability.
    settings
        ``model, outcome, n_bootstraps, random_state, n_subjects``.
    """

    predictions: pd.DataFrame
    per_subject: pd.DataFrame
    mape: float
    settings: dict

    def to_frame(self) -> pd.DataFrame:
        """The per-subject table."""
        return self.per_subject.copy()

    def save(self, path) -> list:
        """Write the instability tables into folder ``path``.

        ``instability.csv`` (per subject), ``instability_predictions.csv`` (every bootstrap
        model's predictions of the original subjects) and ``instability.json`` (MAPE, settings).

        Parameters
        ----------
        path
            Output folder (created).

        Returns
        -------
        list of pathlib.Path
            The files written.
        """
        from pathlib import Path

        from biomarkers._atomic import write_json, write_table

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        return [
            write_table(path / "instability.csv", self.per_subject),
            write_table(path / "instability_predictions.csv", self.predictions),
            write_json(path / "instability.json", {"mape": self.mape, **self.settings}),
        ]

    def __repr__(self) -> str:
        s = self.settings
        return (
            f"InstabilityResult({s['model']}, {s['n_bootstraps']} bootstrap refits of "
            f"{s['n_subjects']} subjects, MAPE = {self.mape:.3f})"
        )


def _refit_predict(data, spec, cfg, seed, rows) -> np.ndarray:
    pipe, _ = final_fit(data.X[rows], data.y[rows], np.arange(rows.size), spec, cfg, seed)
    return predict_score(data.task, pipe, data.X)


def prediction_instability(
    table,
    *,
    outcome,
    model: str = "enet",
    n_bootstraps: int = 100,
    random_state: int = 0,
    n_jobs: int | None = None,
    screen_k: int | None = 500,
    inner_cv: int = 3,
    landmark: float | str | None = "auto",
) -> InstabilityResult:
    """Refit the whole pipeline on bootstrap samples; compare their predictions with the original.

    Parameters
    ----------
    table
        FeatureTable AnnData or subjects × features DataFrame, as for
        :func:`~biomarkers.models.discover`.
    outcome
        As for :func:`~biomarkers.models.discover`.
    model
        Registry name (``bm.models.available_models()``).
    n_bootstraps
        Bootstrap samples of subjects; each rebuilds the pipeline including its inner tuning.
    random_state
        Seed of the bootstrap samples and of every fit.
    n_jobs
        Parallel refits (``None``: ``settings.n_jobs``).
    screen_k, inner_cv, landmark
        As for :func:`~biomarkers.models.discover`.

    Returns
    -------
    InstabilityResult
        Predictions of every bootstrap model on the original subjects, per-subject and overall
        mean absolute prediction error; draw it with :func:`biomarkers.pl.instability`.
    """
    from joblib import Parallel, delayed

    data = prepare(
        table, outcome=outcome, covariates=(), clinical_baseline=None, assessed_day=None,
        landmark=landmark,
    )  # fmt: skip
    name = resolve_name(model, data.task)
    spec = get_spec(name, data.task)
    cfg = FitConfig(task=data.task, screen_k=screen_k, limits=data.limits, n_inner=inner_cv)
    n = data.y.shape[0]
    original = _refit_predict(data, spec, cfg, seed_for(random_state, "final", 0), np.arange(n))
    rng = np.random.default_rng(seed_for(random_state, "bootstrap", 0))
    samples = [rng.integers(0, n, n) for _ in range(n_bootstraps)]
    preds = Parallel(n_jobs=resolve_n_jobs(n_jobs))(
        delayed(_refit_predict)(data, spec, cfg, seed_for(random_state, "final", b + 1), rows)
        for b, rows in enumerate(samples)
    )
    P = np.vstack(preds)
    subjects = np.asarray(data.subjects).astype(str)
    long = pd.DataFrame({
        "subject_id": np.tile(subjects, n_bootstraps),
        "bootstrap": np.repeat(np.arange(n_bootstraps), n),
        "original": np.tile(original, n_bootstraps),
        "prediction": P.ravel(),
    })  # fmt: skip
    per = pd.DataFrame(
        {"subject_id": subjects, "original": original, "mape": np.abs(P - original).mean(axis=0)}
    )
    settings = {"model": name, "outcome": data.outcome_name, "n_bootstraps": int(n_bootstraps),
                "random_state": random_state, "n_subjects": int(n)}  # fmt: skip
    return InstabilityResult(
        predictions=long, per_subject=per, mape=float(per["mape"].mean()), settings=settings
    )
