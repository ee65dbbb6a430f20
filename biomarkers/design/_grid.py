"""The grid of a power study: design parameters per point, their simulator effects and seeds."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from biomarkers._validation import did_you_mean
from biomarkers.exceptions import ConfigError

__all__ = ["ANALYSES", "GRID_KEYS", "GridPoint", "expand_grid", "replicate_seed"]

#: What each grid key sets in the simulator (docs/design.md, "Grid"). Effects are on the
#: simulator's scales: log-HR per SD of a latent, log / logit / log2 fold changes.
GRID_KEYS: dict[str, str] = {
    "n_subjects": "randomised subjects",
    "allocation": "probability of randomisation to the treated arm",
    "treatment_effect": "log hazard ratio of treatment at average marker values (scenario log_hr)",
    "predictive_effect": "log-HR interaction per SD of the Treg latent (flow:Treg, composition:Treg); "
    "no other predictive marker is planted",
    "prognostic_effect": "log-HR per SD of the inflammation latent (IL-6, IL-8); paralysis (IL-10, "
    "HLA-DR-low monocytes) gets 0.8 x this",
    "pd_effect": "on-treatment change of cytokines (log) and flow populations (logit) in the treated arm",
    "mechanism_effect": "log2 fold change of the planted genes per cell type in the treated arm",
    "assays": "assays measured: a list out of cytokines, olink, flow, singlecell",
    "visits": "visits sampled: a list of labels (D0 required), e.g. [D0, D7, D28]",
}

#: The analyses a replicate can run, in the order they run.
ANALYSES = ("discover", "predictive", "early_response", "mechanism", "treatment_effect")

_ASSAYS = ("cytokines", "olink", "flow", "singlecell")
_DEFAULTS: dict[str, Any] = {
    "n_subjects": 100,
    "allocation": 0.5,
    "assays": ("cytokines", "flow"),
    "visits": ("D0", "D7", "D28"),
}


@dataclass(frozen=True)
class GridPoint:
    """One design: the values of every grid key (defaults filled in) and a stable short id."""

    params: dict[str, Any]

    @property
    def key(self) -> str:
        """Canonical JSON of the parameters (what the id and the seeds are derived from)."""
        return json.dumps(self.params, sort_keys=True, separators=(",", ":"))

    @property
    def id(self) -> str:
        """First 10 hex digits of the SHA-256 of :attr:`key`."""
        return hashlib.sha256(self.key.encode()).hexdigest()[:10]

    def effects(self) -> dict[str, float]:
        """The simulator effect sizes (``simulate_trial(effects=...)``) this point sets."""
        p, out = self.params, {"allocation": float(self.params["allocation"])}
        if "treatment_effect" in p:
            out["log_hr"] = float(p["treatment_effect"])
        if "predictive_effect" in p:
            out |= {"pred_treg": float(p["predictive_effect"]), "pred_inflammation": 0.0}
        if "prognostic_effect" in p:
            e = float(p["prognostic_effect"])
            out |= {"prog_inflammation": e, "prog_paralysis": 0.8 * e}
        if "pd_effect" in p:
            out |= {"mech_cytokine": float(p["pd_effect"]), "mech_flow": float(p["pd_effect"])}
        if "mechanism_effect" in p:
            out["mech_gene_log2fc"] = float(p["mechanism_effect"])
        return out


def _values(key: str, value) -> list:
    if key in ("assays", "visits"):
        # one set (a list of strings) or a list of sets
        if isinstance(value, str):
            value = [value]
        if value and all(isinstance(v, str) for v in value):
            value = [value]
        return [tuple(v) for v in value]
    if isinstance(value, str) or not isinstance(value, Sequence):
        value = [value]
    return list(value)


def _check_point(params: dict[str, Any], *, source: str) -> None:
    n, alloc = params["n_subjects"], params["allocation"]
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 10:
        msg = f"{source}: n_subjects={n!r}; give integers >= 10"
        raise ConfigError(msg)
    if isinstance(alloc, bool) or not isinstance(alloc, int | float) or not 0 < alloc < 1:
        msg = f"{source}: allocation={alloc!r}; give probabilities strictly between 0 and 1"
        raise ConfigError(msg)
    for key in ("treatment_effect", "predictive_effect", "prognostic_effect", "pd_effect",
                "mechanism_effect"):  # fmt: skip
        v = params.get(key, 0.0)
        if isinstance(v, bool) or not isinstance(v, int | float):
            msg = f"{source}: {key}={v!r}; give numbers"
            raise ConfigError(msg)
    for a in params["assays"]:
        if a not in _ASSAYS:
            msg = f"{source}: assays contains {a!r}{did_you_mean(a, _ASSAYS)}; use some of: {', '.join(_ASSAYS)}"
            raise ConfigError(msg)
    if "D0" not in params["visits"]:
        msg = f"{source}: visits {list(params['visits'])} must include the baseline D0"
        raise ConfigError(msg)


def expand_grid(grid: Mapping[str, Any] | None, *, source: str = "power.grid") -> list[GridPoint]:
    """Every combination of the grid's values, as :class:`GridPoint` (in the grid's order).

    Parameters
    ----------
    grid
        Grid key -> a value or a list of values (``assays`` / ``visits``: a list of labels or
        a list of such lists); keys in :data:`GRID_KEYS`. Missing keys take the defaults
        (100 subjects, 1:1, cytokines + flow, D0/D7/D28, the ``default`` scenario's effects).
    source
        Where the grid comes from, for error messages.
    """
    grid = dict(grid or {})
    for key in grid:
        if key not in GRID_KEYS:
            msg = f"{source}: unknown key {key!r}{did_you_mean(key, GRID_KEYS)}; use: {', '.join(GRID_KEYS)}"
            raise ConfigError(msg)
    keys = [k for k in GRID_KEYS if k in grid or k in _DEFAULTS]
    axes = [_values(k, grid[k]) if k in grid else [_DEFAULTS[k]] for k in keys]
    points = []
    for combo in itertools.product(*axes):
        params = {
            k: (list(v) if isinstance(v, tuple) else v) for k, v in zip(keys, combo, strict=True)
        }
        params = {k: float(v) if k not in ("n_subjects", "assays", "visits") else v
                  for k, v in params.items()}  # fmt: skip
        _check_point(params, source=source)
        params["n_subjects"] = int(params["n_subjects"])
        points.append(GridPoint(params))
    return points


def replicate_seed(random_state: int, point: GridPoint, replicate: int) -> int:
    """Seed of one replicate, from the study seed, the grid point and the replicate index.

    Independent of the other grid points and of the order replicates run in, so that adding a
    point or resuming a study leaves every other replicate unchanged.
    """
    digest = int(point.id, 16)
    ss = np.random.SeedSequence(int(random_state), spawn_key=(digest, int(replicate)))
    return int(ss.generate_state(1, dtype=np.uint32)[0])
