"""Stability thresholds from noise-injected copies: Stabl's FDP+ and the plain decoy estimate.

Hédou J, Marić I, Bellan G, et al. Discovery of sparse, reliable omic biomarkers with Stabl.
Nat Biotechnol 2024;42:1581-1593. Artificial features (here row-permuted copies, which keep each
feature's marginal but break its link to the outcome) are fitted beside the real ones on
subsamples; the frequency threshold is the one minimising the estimated false-discovery
proportion FDP+(t) = (1 + #artificial ≥ t · p / n_artificial) / max(1, #real ≥ t).

:func:`stability_threshold` is what ``discover(stability=...)`` calls on its own fold selection
frequencies of real features and decoys: ``"stabl"`` (default) or ``"decoy"``; with either,
a feature is stable only when the estimate at the threshold is ≤ the target, so no threshold
is used when none reaches it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from biomarkers._logging import logger
from biomarkers._validation import check_choice, check_random_state
from biomarkers.exceptions import ConfigError

__all__ = [
    "STABILITY_METHODS",
    "decoy_threshold",
    "stability_threshold",
    "stabl_select",
    "stabl_threshold",
]

STABILITY_METHODS = ("stabl", "decoy")

_C_PATH = np.logspace(-2, 0.5, 8)


def stabl_threshold(real, artificial, *, target: float = 0.1) -> dict:
    """Frequency threshold minimising the Stabl FDP+ estimate.

    Parameters
    ----------
    real
        Selection frequency of each real feature (e.g. ``DiscoveryResult.ranking["stability"]``).
    artificial
        Selection frequency of each artificial (decoy / knockoff) feature, fitted beside them.
    target
        FDP the estimate is compared with (``meets_target``); Stabl's threshold is the FDP+
        minimiser whatever the target.

    Returns
    -------
    dict
        ``threshold`` (``inf`` when no real feature is ever selected), ``estimated_fdp`` (FDP+ at
        the minimising threshold), ``n_stable``, ``target``, ``meets_target``.
    """
    real = np.asarray(real, dtype=float)
    art = np.asarray(artificial, dtype=float)
    if art.size == 0:
        msg = "stabl_threshold: no artificial features; pass the decoy frequencies (n_decoys > 0)"
        raise ConfigError(msg)
    cands = np.unique(real[real > 0])
    if cands.size == 0:
        return {"threshold": np.inf, "estimated_fdp": 1.0, "n_stable": 0, "target": target,
                "meets_target": False}  # fmt: skip
    scale = real.size / art.size
    fdp = np.array(
        [(1.0 + (art >= t).sum() * scale) / max(1, int((real >= t).sum())) for t in cands]
    )
    i = cands.size - 1 - int(np.argmin(fdp[::-1]))  # ties: the higher threshold
    thr = float(cands[i])
    return {
        "threshold": thr,
        "estimated_fdp": float(fdp[i]),
        "n_stable": int((real >= thr).sum()),
        "target": target,
        "meets_target": bool(fdp[i] <= target),
    }


def decoy_threshold(real, decoy, *, target: float = 0.1) -> dict:
    """Smallest frequency whose decoy-estimated false-discovery proportion is ≤ ``target``.

    FDP(t) = (#decoys ≥ t) · p / n_decoys / max(1, #real ≥ t), scanning down from the highest
    frequency and stopping at the first t above the target.

    Parameters
    ----------
    real, decoy
        Selection frequencies of the real features and of decoys fitted beside them.
    target
        Target false-discovery proportion.

    Returns
    -------
    dict
        ``threshold`` (``inf`` when no frequency reaches the target: nothing is stable),
        ``estimated_fdp`` (at the threshold; when none reaches the target, at the frequency
        minimising the estimate, kept as ``fdp_minimiser``), ``n_stable``, ``target``,
        ``meets_target``.
    """
    real = np.asarray(real, dtype=float)
    decoy = np.asarray(decoy, dtype=float)
    if decoy.size == 0:
        msg = "decoy_threshold: no decoy features; pass the decoy frequencies (n_decoys > 0)"
        raise ConfigError(msg)
    cands = np.unique(real[real > 0])[::-1]
    fdp = [
        (decoy >= t).sum() * real.size / decoy.size / max(1, int((real >= t).sum())) for t in cands
    ]
    ok = np.cumprod(np.asarray(fdp) <= target).astype(bool) if cands.size else np.zeros(0, bool)
    if not ok.any():
        if not cands.size:
            return {"threshold": np.inf, "estimated_fdp": 1.0, "n_stable": 0, "target": target,
                    "meets_target": False}  # fmt: skip
        j = int(np.argmin(fdp))  # candidates run high to low: ties keep the higher threshold
        return {"threshold": np.inf, "estimated_fdp": float(fdp[j]), "n_stable": 0,
                "target": target, "meets_target": False, "fdp_minimiser": float(cands[j])}  # fmt: skip
    i = int(np.flatnonzero(ok)[-1])
    return {"threshold": float(cands[i]), "estimated_fdp": float(fdp[i]),
            "n_stable": int((real >= cands[i]).sum()), "target": target, "meets_target": True}  # fmt: skip


def _fdp_plus(real, artificial, t: float) -> float:
    """Stabl's conservative FDP+ at threshold ``t`` (NaN when nothing passes it)."""
    real, art = np.asarray(real, dtype=float), np.asarray(artificial, dtype=float)
    n_real = int((real >= t).sum())
    if not n_real:
        return float("nan")
    return float((1.0 + (art >= t).sum() * real.size / art.size) / n_real)


def stability_threshold(real, artificial, *, method: str = "stabl", target: float = 0.1) -> dict:
    """The stability threshold of ``discover(stability=method)``; stable only within target.

    Parameters
    ----------
    real, artificial
        Selection frequencies of the real features and of the decoys fitted beside them.
    method
        ``"stabl"`` (:func:`stabl_threshold`, the FDP+ minimiser, default) or ``"decoy"``
        (:func:`decoy_threshold`).
    target
        Target false-discovery proportion: when the estimate at the threshold exceeds it, the
        threshold is ``inf`` (no feature is stable) and ``fdp_minimiser`` keeps Stabl's own.

    Returns
    -------
    dict
        ``method, threshold, estimated_fdp, n_stable, target, meets_target, n_decoys``; with
        ``"decoy"`` also ``fdp_plus``, Stabl's conservative FDP+ at the decoy threshold.
    """
    check_choice("stability", method, STABILITY_METHODS, source="discover")
    if method == "decoy":
        out = decoy_threshold(real, artificial, target=target)
        out["fdp_plus"] = _fdp_plus(real, artificial, out["threshold"])
    else:
        out = stabl_threshold(real, artificial, target=target)
        if not out["meets_target"]:
            out |= {"fdp_minimiser": out["threshold"], "threshold": np.inf, "n_stable": 0}
    return {"method": method, **out, "n_decoys": int(np.size(artificial))}


def selection_threshold(thr: dict) -> float:
    """The frequency a panel selects at by default.

    The stability threshold, or, when no feature is stable within the target, the frequency
    minimising the rule's estimated FDP (``fdp_minimiser``; its ``estimated_fdp`` says how far
    above the target it is).
    """
    t = np.inf if thr["threshold"] is None else float(thr["threshold"])  # inf saved as null
    if np.isfinite(t) or thr.get("fdp_minimiser") is None:
        return t
    logger.info(
        "no feature is stable within FDP %.2g; selecting at the estimate's minimiser %.2f "
        "(estimated FDP %.2f)", thr["target"], thr["fdp_minimiser"], thr["estimated_fdp"],
    )  # fmt: skip
    return float(thr["fdp_minimiser"])


def stabl_select(
    X: pd.DataFrame,
    y,
    *,
    n_subsamples: int = 50,
    target: float = 0.1,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Stabl on a subjects × features frame: L1-logistic frequencies with permuted copies.

    Each subsample (half the subjects, without replacement) fits an L1 logistic regression
    along a path of penalties on the standardised real features and their row-permuted copies;
    a feature's frequency is its largest selection frequency over the path (Stabl's rule).

    Parameters
    ----------
    X
        Subjects × features (numeric, finite).
    y
        Binary 0/1 labels, one per row of ``X``.
    n_subsamples, target
        Subsamples per penalty; the FDP target of :func:`stabl_threshold`.
    random_state
        Seed of the subsamples and the permuted copies.

    Returns
    -------
    pandas.DataFrame
        ``feature, frequency, stable``; ``.attrs["stabl"]`` holds the threshold dict.
    """
    from sklearn.linear_model import LogisticRegression

    rng = check_random_state(random_state)
    A = np.asarray(X, dtype=float)
    y = np.asarray(y).astype(int)
    if A.shape[0] != y.size or not np.isfinite(A).all():
        msg = f"stabl_select: X has {A.shape[0]} rows and y {y.size}; both must match, X finite"
        raise ConfigError(msg)
    Z = np.hstack([A, A[rng.permutation(A.shape[0])]])
    Z = (Z - Z.mean(0)) / np.where(Z.std(0) > 0, Z.std(0), 1.0)
    counts = np.zeros((_C_PATH.size, Z.shape[1]))
    half = A.shape[0] // 2
    for _ in range(n_subsamples):
        rows = rng.choice(A.shape[0], half, replace=False)
        for j, c in enumerate(_C_PATH):
            fit = LogisticRegression(C=c, l1_ratio=1.0, solver="liblinear").fit(Z[rows], y[rows])
            counts[j] += fit.coef_[0] != 0
    freq = (counts / n_subsamples).max(axis=0)
    p = A.shape[1]
    thr = stabl_threshold(freq[:p], freq[p:], target=target)
    out = pd.DataFrame({"feature": list(X.columns), "frequency": freq[:p]})
    out["stable"] = out["frequency"] >= thr["threshold"]
    out.attrs["stabl"] = thr
    return out
