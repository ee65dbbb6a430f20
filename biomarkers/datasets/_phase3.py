"""The Phase-III cohort of the simulated trial: a second cohort with known shifts (issue 25).

Drawn by ``simulate_trial(..., cohort="phase3")``: a three-arm trial (ucMSC + SMT, SMT and
prednisolone + SMT) at new sites, with a different baseline risk (``intercept_shift`` on the log
28-day cumulative hazard), a different strength of the prognostic factors (``slope_shift``
multiplies AARC and the prognostic latents in the log hazard) and a new assay lot whose
``lot_marker`` reads ``lot_offset`` log2 units high (a measurement shift, not a biological one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from biomarkers._validation import did_you_mean
from biomarkers.exceptions import ConfigError

__all__ = ["PHASE3_ARMS", "Phase3Cohort", "Phase3Shifts"]

PHASE3_ARMS = ("ucMSC+SMT", "SMT", "prednisolone+SMT")
PREDNISOLONE = PHASE3_ARMS[2]
SHIFTED_LOT = "L2"


@dataclass(frozen=True, kw_only=True)
class Phase3Shifts:
    """Known differences of the Phase-III cohort from the development trial."""

    intercept_shift: float = 0.4
    slope_shift: float = 1.0
    lot_offset: float = 1.5
    lot_marker: str = "IL6"
    lot_share: float = 0.5
    prednisolone_log_hr: float = -0.15
    sites: tuple[str, ...] = ("S04", "S05", "S06")

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None) -> Phase3Shifts:
        """Shifts from a mapping (unknown keys and bad values are refused with the fix)."""
        options = dict(options or {})
        known = {f.name for f in fields(cls)}
        for key in options:
            if key not in known:
                msg = (
                    f"phase3 option {key!r} is not known{did_you_mean(key, known)}; "
                    f"use: {', '.join(sorted(known))}"
                )
                raise ConfigError(msg)
        if "sites" in options:
            options["sites"] = tuple(str(s) for s in options["sites"])
        shifts = cls(**options)
        if not 0 <= shifts.lot_share <= 1 or shifts.slope_shift < 0 or not shifts.sites:
            msg = (
                f"phase3 options {asdict(shifts)}: lot_share must be in [0, 1], slope_shift >= 0 "
                "and sites non-empty"
            )
            raise ConfigError(msg)
        return shifts


@dataclass(frozen=True)
class Phase3Cohort:
    """The shifts and their own random stream (the development draws are left unchanged)."""

    shifts: Phase3Shifts
    rng: np.random.Generator

    def arms(self, n: int) -> np.ndarray:
        """1:1:1 randomisation in permuted blocks of 3 and 6."""
        out: list[str] = []
        while len(out) < n:
            size = int(self.rng.choice([3, 6]))
            out.extend(self.rng.permutation(list(PHASE3_ARMS) * (size // 3)).tolist())
        return np.array(out[:n], dtype=object)

    def log_h28(self, log_h28: np.ndarray, *, base: float, frailty, arm) -> np.ndarray:
        """Shift the baseline risk and scale the prognostic part of the log hazard."""
        s = self.shifts
        prognostic = log_h28 - base - frailty
        shifted = base + s.intercept_shift + s.slope_shift * prognostic + frailty
        return shifted + np.where(np.asarray(arm) == PREDNISOLONE, s.prednisolone_log_hr, 0.0)

    def annotate(self, clinical: pd.DataFrame) -> pd.DataFrame:
        """Add ``site`` (new sites) and ``assay_lot`` (the kit lot of the subject's samples)."""
        n = len(clinical)
        n_shifted = round(self.shifts.lot_share * n)
        lot = np.where(np.arange(n) >= n - n_shifted, SHIFTED_LOT, "L1")  # later enrolment
        site = self.rng.choice(np.array(self.shifts.sites, dtype=object), size=n)
        return clinical.assign(site=site, assay_lot=lot)

    def log_offsets(self, samples: pd.DataFrame, clinical: pd.DataFrame) -> dict[str, np.ndarray]:
        """Natural-log offset of the lot marker for each plasma sample (lot L2 only)."""
        lot = samples["subject_id"].map(clinical.set_index("subject_id")["assay_lot"])
        offset = np.where(lot.to_numpy() == SHIFTED_LOT, self.shifts.lot_offset * np.log(2.0), 0.0)
        return {self.shifts.lot_marker: offset}

    def describe(self) -> dict[str, Any]:
        """What ``phase3.json`` records."""
        return {
            "cohort": "phase3",
            "arms": list(PHASE3_ARMS),
            **asdict(self.shifts),
            "shifted_lot": SHIFTED_LOT,
            "model": (
                "log H28 = -0.70 + intercept_shift + slope_shift * (0.58 (AARC - 9) + prognostic "
                "latents) + frailty + treated * log_hr + prednisolone * prednisolone_log_hr; "
                "lot_marker concentrations x 2^lot_offset in lot L2 (all visits, all readouts)"
            ),
        }
