"""Private helper: the study design (cohort, two arms, a comparison among several arms)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from biomarkers._logging import logger
from biomarkers._validation import did_you_mean, format_ids
from biomarkers.exceptions import DataQualityWarning, SchemaError

__all__: list[str] = []

#: Arm labels of the simulated trial: the treated arm can be inferred only for these.
SIMULATED_ARMS = {"treated": "ucMSC+SMT", "control": "SMT"}
#: Allocation checks warn below this binomial p-value.
ALLOCATION_ALPHA = 0.01


@dataclass(frozen=True)
class Design:
    """What the arms of a study are and which of them are compared."""

    kind: str  # "cohort" | "two_arm" | "multi_arm"
    arms: list[str]
    treated: list[str]
    control: list[str]
    allocation: float | None

    @property
    def treated_arm(self) -> str | None:
        return "+".join(self.treated) or None

    @property
    def control_arm(self) -> str | None:
        return "+".join(self.control) or None


def _labels(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [str(value)] if isinstance(value, str) else [str(v) for v in value]


def _merge(new, old, *, role: str) -> list[str]:
    if new is not None and old is not None:
        msg = f"give either {role}= (labels) or {role}_arm= (one label), not both"
        raise SchemaError(msg)
    return _labels(new if new is not None else old)


def _check_known(given: list[str], labels: list[str], role: str) -> None:
    for label in given:
        if label not in labels:
            msg = (
                f"{role}={label!r} is not an arm of the clinical table{did_you_mean(label, labels)}; "
                f"arms: {', '.join(map(repr, labels))}"
            )
            raise SchemaError(msg)


def _two_arm_roles(labels: list[str], treated: list[str], control: list[str]):
    if not treated:
        if set(labels) <= set(SIMULATED_ARMS.values()) and SIMULATED_ARMS["treated"] in labels:
            treated = [SIMULATED_ARMS["treated"]]
        elif len(control) == 1:
            treated = [a for a in labels if a != control[0]]
        else:
            msg = (
                f"cannot tell which arm is treated among {', '.join(map(repr, labels))}; pass "
                "treated_arm= (and control_arm=) or set treated_arm: in the config"
            )
            raise SchemaError(msg)
    if not control:
        control = [a for a in labels if a not in treated]
    return treated, control


def resolve_design(
    arm: pd.Series | None,
    *,
    treated: str | Sequence[str] | None = None,
    control: str | Sequence[str] | None = None,
    treated_arm: str | None = None,
    control_arm: str | None = None,
    allocation: float | None = None,
) -> Design:
    """Decide the design from the arm column and the comparison the caller names."""
    treated_l = _merge(treated, treated_arm, role="treated")
    control_l = _merge(control, control_arm, role="control")
    labels = sorted(arm.dropna().astype(str).unique()) if arm is not None else []
    if arm is None and (treated_l or control_l):
        msg = (
            f"clinical: no 'arm' column, so the study is a cohort, but the arm "
            f"{(treated_l or control_l)[0]!r} is named as treated/control; add the arm column "
            "to the clinical table, or name no arms for a cohort"
        )
        raise SchemaError(msg)
    _check_known(treated_l, labels, "treated_arm" if treated is None else "treated")
    _check_known(control_l, labels, "control_arm" if control is None else "control")
    if len(labels) <= 1:
        if allocation is not None:
            logger.info("study: a cohort (%d arm); allocation=%s ignored", len(labels), allocation)
        return Design("cohort", labels, [], [], None)
    if len(labels) == 2:
        treated_l, control_l = _two_arm_roles(labels, treated_l, control_l)
    elif treated is None or control is None:
        # treated_arm/control_arm are the two-arm keywords (and have defaults in job configs)
        msg = (
            f"clinical: {len(labels)} arms ({', '.join(map(repr, labels))}); name the comparison "
            "with treated= and control= (lists of arm labels, pooled), e.g. treated: "
            f"[{labels[0]!r}] control: [{labels[-1]!r}] in the study: config"
        )
        raise SchemaError(msg)
    both = sorted(set(treated_l) & set(control_l))
    if both:
        msg = f"treated_arm and control_arm are both {both[0]!r}; give two different arms"
        raise SchemaError(msg)
    kind = "two_arm" if len(labels) == 2 else "multi_arm"
    if allocation is None:
        allocation = len(treated_l) / (len(treated_l) + len(control_l))  # equal allocation
    elif isinstance(allocation, bool) or not 0 < float(allocation) < 1:
        msg = f"allocation={allocation!r}: give the randomisation probability of the treated arm, a number between 0 and 1 (e.g. 0.75 for 3:1)"
        raise SchemaError(msg)
    return Design(kind, labels, treated_l, control_l, float(allocation))


def treatment_indicator(arm: pd.Series | None, design: Design, index: pd.Index) -> pd.Series:
    """1.0 treated, 0.0 control, NaN outside the comparison (or everyone in a cohort)."""
    out = pd.Series(np.nan, index=index, name="treatment")
    if arm is None or design.kind == "cohort":
        return out
    arm = arm.astype(str)
    out[arm.isin(design.treated).to_numpy()] = 1.0
    out[arm.isin(design.control).to_numpy()] = 0.0
    outside = index[out.isna().to_numpy()]
    if len(outside):
        logger.info(
            "study: %d subject(s) in arms outside the comparison %s vs %s are left out of "
            "treatment comparisons: %s",
            len(outside),
            design.treated_arm,
            design.control_arm,
            format_ids(list(outside)),
        )
    return out


def check_allocation(treatment: pd.Series, design: Design, *, given: bool) -> None:
    """Warn when the share of treated subjects is unlikely under the allocation."""
    if design.allocation is None:
        return
    from scipy.stats import binomtest

    t = treatment.dropna()
    n, n1 = len(t), int(t.sum())
    if n == 0:
        return
    p = binomtest(n1, n, design.allocation).pvalue
    if p < ALLOCATION_ALPHA:
        how = "given" if given else "assumed (equal allocation)"
        warnings.warn(
            f"study: allocation {design.allocation:.3g} {how} for {design.treated_arm!r}, but "
            f"{n1} of {n} subjects ({n1 / n:.1%}) are in it (binomial test p = {p:.2g}); set "
            f"allocation: to the randomisation probability of the treated arm (e.g. "
            f"{n1 / n:.2f}) so CATE/BLP/Qini steps use it",
            DataQualityWarning,
            stacklevel=4,
        )
