"""Treatment-selection panels: baseline markers fitted for the benefit of treatment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from biomarkers._validation import check_choice, format_ids
from biomarkers.exceptions import LeakageError, SchemaError
from biomarkers.panel._eligible import marker_eligibility

__all__ = ["benefit_panel"]


def _frame(table: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(features, obs) as DataFrames indexed by subject."""
    if hasattr(table, "var_names") and hasattr(table, "obs_names"):
        X = table.X.toarray() if hasattr(table.X, "toarray") else np.asarray(table.X)
        feats = pd.DataFrame(X, index=table.obs_names, columns=list(table.var_names))
        return feats.astype(float), table.obs
    if isinstance(table, pd.DataFrame):
        return table.select_dtypes("number"), table
    msg = f"benefit_panel needs a FeatureTable or a DataFrame, got {type(table).__name__}"
    raise SchemaError(msg)


def _labels(obs: pd.DataFrame, outcome: Any) -> tuple[str, pd.Series]:
    if not isinstance(outcome, str):
        msg = (
            f"outcome={outcome!r}: a treatment-selection panel needs one binary or continuous "
            "outcome column (a survival outcome: use its binary form, e.g. kind: binary)"
        )
        raise SchemaError(msg)
    if outcome not in obs.columns:
        msg = f"outcome {outcome!r} is not a column of the table's obs; give the label column"
        raise SchemaError(msg)
    y = pd.to_numeric(obs[outcome], errors="coerce")
    values = set(y.dropna().unique())
    return ("binary" if values <= {0.0, 1.0} else "continuous"), y


def _two_arms(arm: pd.Series, treated: str) -> np.ndarray:
    levels = sorted(map(str, arm.dropna().unique()))
    if len(levels) != 2 or treated not in levels:
        msg = (
            f"a treatment-selection panel compares two randomised arms; the table has arm(s) "
            f"{levels} (treated={treated!r}): for a single-arm or cohort design use "
            "purpose: prognosis"
        )
        raise SchemaError(msg)
    return (arm.astype(str) == treated).to_numpy()


def _chosen_markers(
    table: Any,
    markers: Sequence[str] | None,
    eligibility: pd.DataFrame,
    *,
    ranking: pd.DataFrame | None,
    k: int,
) -> list[str]:
    """The panel's markers: given (checked) or the top ``k`` eligible ones of ``ranking``."""
    if markers is not None:
        unknown = [m for m in markers if m not in eligibility.index]
        if unknown:
            msg = f"markers {format_ids(unknown)} are not features of the table"
            raise SchemaError(msg)
        late = [m for m in markers if "known at day" in eligibility.loc[m, "reason"]]
        if late:
            msg = (
                f"markers {format_ids(late)} are measured after treatment starts; a "
                "treatment-selection panel uses baseline markers only (use purpose: "
                "early_response for on-treatment markers)"
            )
            raise LeakageError(msg)
        bad = [m for m in markers if not eligibility.loc[m, "eligible"]]
        if bad:
            reasons = "; ".join(f"{m}: {eligibility.loc[m, 'reason']}" for m in bad[:3])
            msg = f"markers not eligible for a panel ({reasons}); choose others or raise the limit"
            raise SchemaError(msg)
        return list(markers)
    pool = eligibility.index[eligibility["eligible"]].tolist()
    if ranking is None or not len(ranking):
        msg = "no marker ranking for the benefit panel; pass markers= or a predictive result"
        raise SchemaError(msg)
    ranked = ranking.sort_values("p_interaction")["marker"].tolist()
    chosen = [m for m in ranked if m in pool][:k]
    if not chosen:
        msg = "no eligible baseline marker to fit a treatment-selection panel on"
        raise SchemaError(msg)
    return chosen


def _benefit_pipeline(X: np.ndarray, treated: np.ndarray, y: np.ndarray, *, task: str, C: float):
    """Preprocessing fitted on ``X`` and a linear model whose prediction is the benefit scale."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from biomarkers.features import CensoredValueImputer

    pre = make_pipeline(
        CensoredValueImputer("keep"),
        SimpleImputer(strategy="median", keep_empty_features=True),
        StandardScaler(),
    ).fit(X)
    Z = pre.transform(X)
    a = treated.astype(float)[:, None]
    design = np.hstack([Z, a, a * Z])
    if task == "binary":
        fit = LogisticRegression(C=C, max_iter=5000).fit(design, y)
        coef, intercept = fit.coef_.ravel(), float(fit.intercept_[0])
    else:
        fit = Ridge(alpha=1.0 / C).fit(design, y)
        coef, intercept = np.ravel(fit.coef_), float(fit.intercept_)
    p = Z.shape[1]
    effect = LinearRegression()
    effect.coef_ = coef[p + 1 :].copy()  # marker × arm: how the effect changes with the marker
    effect.intercept_ = float(coef[p])  # arm: the effect at the average marker profile
    effect.n_features_in_ = p
    pre.steps.append(("benefit", effect))
    return pre, intercept


def benefit_panel(
    table: Any,
    *,
    outcome: str,
    treated: str,
    arm: str = "arm",
    markers: Sequence[str] | None = None,
    ranking: pd.DataFrame | None = None,
    k: int = 5,
    favourable: Literal["higher", "lower"] = "higher",
    min_benefit: float = 0.0,
    treatment_day: float = 0.0,
    max_censored_share: float = 0.5,
    max_missing_share: float = 0.5,
    C: float = 1.0,
    outcome_block: Mapping[str, Any] | None = None,
    name: str = "treatment-selection panel",
) -> Any:
    """A treatment-selection panel: baseline markers, fitted for the benefit of treatment.

    One model over both arms, ``outcome ~ markers + arm + arm × markers`` (ridge-penalised
    logistic regression for a binary outcome, ridge regression for a continuous one; markers
    standardised, censored values set to the observed range, missing ones to the median). The
    panel's score is the patient's **predicted benefit**: the arm term plus the arm × marker
    terms, i.e. the log odds ratio (binary) or the difference in the outcome (continuous),
    treated vs control, signed so that a positive value favours treatment. Its decision is
    "treat if predicted benefit ≥ ``min_benefit``".

    Parameters
    ----------
    table
        FeatureTable (AnnData; outcome and arm in ``obs``) or a DataFrame with one row per
        subject.
    outcome
        Binary (0/1) or continuous column of ``obs``.
    treated
        Label of the treated arm in ``obs[arm]``; exactly two arms are required (a single-arm
        or cohort design is refused).
    arm
        Column of the randomised arm.
    markers
        The panel's markers; default the top ``k`` eligible baseline markers of ``ranking``.
    ranking
        Marker table of :func:`biomarkers.models.predictive` (``marker``, ``p_interaction``):
        the predictive analysis picks the markers.
    k
        Number of markers taken from ``ranking``.
    favourable
        ``"higher"``: class 1 (or a larger value) is the good outcome, e.g. alive and
        transplant-free; ``"lower"``: it is the bad one, e.g. death.
    min_benefit
        Minimal important benefit: the decision threshold on the score.
    treatment_day
        First day on treatment; markers known later are refused
        (:class:`~biomarkers.exceptions.LeakageError`).
    max_censored_share, max_missing_share
        Eligibility of a marker (see :func:`biomarkers.panel.marker_eligibility`).
    C
        Inverse ridge penalty.
    outcome_block
        Outcome definition for ``panel.json`` (name, kind, definition, positive, description).
    name
        Name of the panel.

    Returns
    -------
    biomarkers.panel.BiomarkerPanel
        With ``purpose.kind == "treatment_selection"``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from biomarkers.panel import benefit_panel
    >>> rng = np.random.default_rng(0)
    >>> n = 300
    >>> df = pd.DataFrame({"arm": np.where(rng.random(n) < 0.5, "MSC", "SMT"),
    ...                    "cytokine:IL6@D0": rng.normal(size=n)})
    >>> lin = 0.2 + 1.5 * (df["arm"] == "MSC") * df["cytokine:IL6@D0"]
    >>> df["alive"] = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    >>> panel = benefit_panel(df, outcome="alive", treated="MSC", markers=["cytokine:IL6@D0"])
    >>> panel.purpose, panel.to_dict()["model"]["coefficients"][0] > 0
    ('treatment_selection', True)
    """
    from biomarkers.panel._panel import BiomarkerPanel

    check_choice("favourable", favourable, ("higher", "lower"), source="benefit_panel")
    feats, obs = _frame(table)
    task, y = _labels(obs, outcome)
    if arm not in obs.columns:
        msg = f"arm column {arm!r} is not in the table; a treatment-selection panel needs arms"
        raise SchemaError(msg)
    keep = (y.notna() & obs[arm].notna()).to_numpy()
    feats, obs, y = feats[keep], obs[keep], y[keep]
    is_treated = _two_arms(obs[arm], treated)
    eligibility = marker_eligibility(
        feats.drop(columns=[c for c in (outcome,) if c in feats.columns]),
        max_censored_share=max_censored_share,
        max_missing_share=max_missing_share,
        latest_day=treatment_day,
    )
    chosen = _chosen_markers(feats, markers, eligibility, ranking=ranking, k=k)
    X = feats[chosen].to_numpy(dtype=float)
    pipe, _ = _benefit_pipeline(X, is_treated, y.to_numpy(dtype=float), task=task, C=C)
    sign = 1.0 if favourable == "higher" else -1.0
    effect = pipe.steps[-1][1]
    effect.coef_, effect.intercept_ = sign * effect.coef_, sign * effect.intercept_
    control = next(a for a in sorted(map(str, obs[arm].unique())) if a != treated)
    scale = "log odds ratio" if task == "binary" else "difference in the outcome"
    good = "class 1" if task == "binary" else "a higher value"
    good = good if favourable == "higher" else f"not {good}"
    purpose = {
        "kind": "treatment_selection",
        "arms": [treated, control],
        "treated": treated,
        "control": control,
        "favourable": favourable,
        "min_benefit": float(min_benefit),
        "score": (
            f"predicted benefit of {treated} over {control}: {scale} of {good} (favourable), "
            "from the arm and arm × marker terms of one model fitted on both arms"
        ),
        "decision": f"treat with {treated} if the predicted benefit is ≥ {min_benefit:g}",
    }
    n_arm = {treated: int(is_treated.sum()), control: int((~is_treated).sum())}
    population = {
        "arms": [treated, control],
        "n_subjects": len(y),
        "description": (
            f"both randomised arms ({treated} n = {n_arm[treated]}, {control} n = "
            f"{n_arm[control]}); baseline markers only (known by day {treatment_day:g})"
        ),
        "landmark_day": None,
    }
    if task == "binary":
        population["n_events"] = int(y.to_numpy().sum())
    return BiomarkerPanel.from_estimator(
        pipe,
        features=chosen,
        X=pd.DataFrame(X, columns=chosen, index=feats.index.astype(str)),
        var=table.var.reindex(chosen) if hasattr(table, "var_names") else None,
        outcome=dict(outcome_block or {"name": outcome, "kind": task}),
        population=population,
        threshold=float(min_benefit),
        purpose=purpose,
        name=name,
        provenance={"model": f"{'logistic' if task == 'binary' else 'ridge'} arm × marker"},
    )
