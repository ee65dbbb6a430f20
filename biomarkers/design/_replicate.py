"""One replicate of a power study: simulate a trial, run the analyses, score against the truth."""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["FAST_SETTINGS", "run_replicate"]

#: The per-replicate analysis settings of ``fast: true`` (docs/design.md, "Fast settings").
FAST_SETTINGS: dict[str, Any] = {
    "discover": {"models": ("enet",), "cv": (5, 1), "inner_cv": 2, "n_permutations": 0,
                 "n_bootstraps": 100},
    "singlecell": {"cells_per_sample": 60},
}  # fmt: skip
#: Settings of ``fast: false``: the toolkit's defaults (two learners, 5 x 5 CV, 200 permutations).
FULL_SETTINGS: dict[str, Any] = {
    "discover": {"models": ("enet", "xgboost"), "cv": (5, 5), "inner_cv": 3,
                 "n_permutations": 200, "n_bootstraps": 1000},
    "singlecell": {"cells_per_sample": 200},
}  # fmt: skip

_TREATED = "ucMSC+SMT"
_FILES = {"cytokines": "luminex_xponent", "olink": "olink_npx"}
_SOURCE = "luminex"  # cytokine names as the xPONENT file spells them


def _present(names, available) -> list[str]:
    available = set(available)
    return sorted({f for f in names if f in available})


def _table(trial, params, outcome, visits):
    import biomarkers as bm

    assays = params["assays"]
    study = trial.study(cytokines=tuple(_FILES[a] for a in ("cytokines", "olink") if a in assays))
    blocks: dict[str, Any] = {"deltas": False}
    blocks |= {a: {} for a in ("cytokines", "olink", "flow") if a in assays}
    if "singlecell" in assays:
        blocks["composition"] = {}
    out = bm.clinical.transplant_free_survival(study.clinical, horizon_days=90, kind=outcome)
    return study, bm.features.build_feature_table(study, visits=visits, blocks=blocks, outcome=out)


def _discover(trial, params, cfg, fast) -> dict[str, Any]:
    import biomarkers as bm

    _, table = _table(trial, params, "binary", ["D0"])
    table = table[table.obs["tfs90"].notna().to_numpy()].copy()
    res = bm.models.discover(table, outcome="tfs90", random_state=cfg["seed"], n_jobs=1,
                             **fast["discover"])  # fmt: skip
    perf = res.performance
    row = perf[(perf["metric"] == "auroc") & (perf["model"] == perf["model"].iloc[0])].iloc[0]
    ranking = res.ranking[res.ranking["model"] == row["model"]].sort_values("rank")
    planted = _present(trial.truth.features("prognostic", source=_SOURCE), ranking["feature"])
    top = set(ranking["feature"].head(cfg["top_k"]))
    return {
        "auroc": float(row["estimate"]),
        "auroc_ci_low": float(row["ci_low"]),
        "auroc_ci_high": float(row["ci_high"]),
        "n_candidates": int(table.n_vars),
        "prevalence": float(table.obs["tfs90"].mean()),
        "prognostic_planted": len(planted),
        "prognostic_in_top_k": len(top & set(planted)),
    }


def _predictive(trial, params, cfg, table) -> dict[str, Any]:
    import biomarkers as bm

    res = bm.models.predictive(table, outcome=("event", "time_days"), arm="arm", treated=_TREATED,
                               method=("interaction",), fdr=cfg["fdr"], random_state=cfg["seed"])  # fmt: skip
    m = res.markers
    called = set(m.loc[m["q_value_interaction"] <= cfg["fdr"], "marker"])
    planted = set(_present(trial.truth.features("predictive", source=_SOURCE), m["marker"]))
    return {
        "predictive_planted": len(planted),
        "predictive_called_planted": len(called & planted),
        "predictive_false_calls": len(called - planted),
        "predictive_tested": len(m),
    }


def _early_response(trial, params, cfg) -> dict[str, Any]:
    import biomarkers as bm

    visits = [v for v in params["visits"] if v != "D0"]
    _, table = _table(trial, params, "survival", ["D0", visits[0]])
    res = bm.models.early_response(table, outcome=("event", "time_days"), treated=_TREATED,
                                   visit=visits[0], fdr=cfg["fdr"])  # fmt: skip
    tab = res.table
    called = set(tab.loc[tab["label"].isin(["pharmacodynamic", "both"]), "feature"])
    planted = set(_present(trial.truth.features("pharmacodynamic", source=_SOURCE), tab["feature"]))
    return {
        "pd_planted": len(planted),
        "pd_called_planted": len(called & planted),
        "pd_false_calls": len(called - planted),
    }


def _mechanism(trial, params, cfg) -> dict[str, Any]:
    import biomarkers as bm

    on = [v for v in params["visits"] if v != "D0"]
    pdata = bm.features.pseudobulk(trial.paths["singlecell"], min_cells=5)
    pdata = pdata[(pdata.obs["visit"] == on[0]).to_numpy()].copy()
    pdata.obs["arm"] = pdata.obs["subject_id"].map(trial.study(cytokines=()).clinical["arm"])
    de = bm.mechanism.pseudobulk_de(pdata, design="~ arm", contrast=["arm", _TREATED, "SMT"],
                                    n_jobs=1)  # fmt: skip
    tab = de.to_frame() if hasattr(de, "to_frame") else de.table
    out: dict[str, Any] = {}
    planted = {(m["cell_type"], m["entity"]) for m in trial.truth.mechanism
               if m["modality"] == "pseudobulk"}  # fmt: skip
    q = "q_value" if "q_value" in tab else "q_value_global"
    for ct, g in tab.groupby("cell_type", observed=True):
        called = set(g.loc[g[q] <= cfg["fdr"], "gene"])
        true = {gene for c, gene in planted if c == ct}
        out[f"de_planted:{ct}"] = len(true & set(g["gene"]))
        out[f"de_called_planted:{ct}"] = len(called & true)
        out[f"de_calls:{ct}"] = len(called)
    return out


def _treatment_effect(table, cfg) -> dict[str, Any]:
    import biomarkers as bm

    te = bm.models.treatment_effect(table, outcome=("event", "time_days"), arm="arm",
                                    treated=_TREATED).iloc[0]  # fmt: skip
    return {
        "treatment_hr": float(te["estimate"]),
        "treatment_p": float(te["p_value"]),
        "events": int(te["events_treated"] + te["events_control"]),
    }


def run_replicate(params: Mapping[str, Any], seed: int, cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Simulate one trial at ``params``, run ``cfg["analyses"]`` and score them.

    Parameters
    ----------
    params
        The grid point's parameters (:class:`~biomarkers.design._grid.GridPoint`).
    seed
        Seed of the simulated trial and of the analyses.
    cfg
        ``analyses, top_k, fdr, fast, scenario`` and the point's simulator ``effects``.

    Returns
    -------
    A flat record: counts and estimates per analysis, ``error:<analysis>`` with the message of
    an analysis that failed on this trial (the study goes on; the report counts failures).
    """
    import biomarkers as bm
    from biomarkers._parallel import limit_blas

    cfg = {**cfg, "seed": int(seed)}
    fast = FAST_SETTINGS if cfg["fast"] else FULL_SETTINGS
    analyses = cfg["analyses"]
    record: dict[str, Any] = {"seed": int(seed)}
    sc = "singlecell" in params["assays"]
    with (
        tempfile.TemporaryDirectory(prefix="bm-power-") as tmp,
        limit_blas(small=True),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")  # expected data-quality warnings of small trials
        trial = bm.datasets.simulate_trial(
            tmp, n_subjects=params["n_subjects"], seed=int(seed), scenario=cfg["scenario"],
            visits=list(params["visits"]), effects=cfg["effects"], tenx_samples=0,
            cells_per_sample=fast["singlecell"]["cells_per_sample"] if sc else 0,
            singlecell_visits=[v for v in ("D0", "D7", "D28") if v in params["visits"]],
        )  # fmt: skip
        _, table = _table(trial, params, "survival", ["D0"])
        steps = {
            "discover": lambda: _discover(trial, params, cfg, fast),
            "predictive": lambda: _predictive(trial, params, cfg, table),
            "early_response": lambda: _early_response(trial, params, cfg),
            "mechanism": lambda: _mechanism(trial, params, cfg),
            "treatment_effect": lambda: _treatment_effect(table, cfg),
        }
        for name in analyses:
            try:
                record |= steps[name]()
            except Exception as err:  # one failed analysis is a result, not a crash
                record[f"error:{name}"] = f"{type(err).__name__}: {err}"[:300]
    return {
        k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in record.items()
    }
