"""Ground truth of a simulated trial: what was planted, and under which feature names."""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import pandas as pd

from biomarkers._names import parse_feature_name
from biomarkers._validation import check_choice

__all__ = ["Truth"]

TRUTH_FORMAT = "biomarkers.truth"
TRUTH_FORMAT_VERSION = 1


@dataclass(kw_only=True)
class Truth:
    """Effects planted in a simulated trial, written beside it as ``truth.json``.

    Feature names follow the toolkit's convention (``modality:entity@visit``, pseudobulk
    ``pseudobulk:cell_type:gene@visit``), so that discovery results can be compared with them.

    Attributes
    ----------
    scenario
        ``"default"``, ``"strong"``, ``"null"`` or ``"no_benefit"``.
    seed, n_subjects
        How the trial was generated.
    treated_arm, control_arm
        Arm labels.
    prognostic
        One dict per prognostic biomarker feature: ``feature``, ``modality``, ``entity``,
        ``latent`` (the hidden variable it reads out), ``loading`` (log-scale SD of the feature
        per SD of the latent), ``log_hr_per_latent_sd`` and ``direction`` (``"higher_worse"``).
    prognostic_clinical
        Baseline clinical variables that are prognostic in every scenario (the AARC score drives
        the hazard).
    predictive
        One dict per predictive feature (modifies the treatment effect): ``feature``, ``latent``,
        ``loading``, ``log_hr_interaction_per_latent_sd`` and ``benefit`` (``"higher"`` or
        ``"lower"`` values of the feature gain more from treatment).
    treatment_effect
        The model of the treatment's log hazard ratio as a function of the latents.
    mechanism
        On-treatment changes in the treated arm: dicts with ``modality`` (``cytokine``, ``olink``,
        ``flow``, ``composition``, ``pseudobulk``), ``cell_type`` (or ``None``), ``entity``,
        ``direction`` (``"up"``/``"down"``), ``effect`` (scale in ``scale``), ``weights`` per visit,
        ``arm`` and ``features``.
    severity_associated
        Features that track clinical severity (and so are prognostic through it, not on their own);
        empty in the ``null`` scenario, where no biomarker carries outcome information.
    null_features
        Features generated with no link to outcome, treatment or severity (negative controls).
    analyte_aliases
        Canonical analyte name -> names used by each vendor file.
    outcomes
        The realised outcomes (per arm and per AARC grade) of this simulated cohort.
    early_events
        Who leaves the trial before each on-treatment visit, and why: ``rule`` (how deaths,
        transplants and losses to follow-up are generated), ``dropouts`` (the loss-to-follow-up
        rule), and ``landmarks``: per visit label, its ``day`` and per arm ``n``, ``died``,
        ``transplanted``, ``lost`` (before that day) and ``at_risk`` (alive, transplant-free and
        followed at that day: the landmark population).
    baseline_predictive
        Features measured before the first infusion (day 0) that modify the treatment effect
        (the randomised effect modifiers of ``predictive``).
    pharmacodynamic
        On-treatment features the treatment changes that have no effect on the outcome by
        themselves (every ``mechanism`` feature that is not a mediator).
    mediators
        One dict per planted mediator: ``analyte``, ``features`` (the on-treatment values, e.g.
        ``cytokine:HGF@D7``), ``visit``, ``day``, ``effect_on_mediator`` (mean response in the treated
        arm, log scale), ``response_sd``, ``log_hr_per_unit`` (log hazard ratio of death from
        ``day`` on per unit of the response) and ``indirect_effect`` (the planted natural indirect
        effect: ``value``, ``scale``, ``outcome``, ``population``, ``method``).
    missing_assays
        Assays some subjects lack entirely (``simulate_trial(missing_assays=...)``): assay →
        ``fraction`` and ``subjects`` (IDs); empty (and absent from ``truth.json``) by default.
    """

    scenario: str
    seed: int
    n_subjects: int
    treated_arm: str = "ucMSC+SMT"
    control_arm: str = "SMT"
    prognostic: list[dict[str, Any]] = field(default_factory=list)
    prognostic_clinical: list[str] = field(default_factory=list)
    predictive: list[dict[str, Any]] = field(default_factory=list)
    treatment_effect: dict[str, Any] = field(default_factory=dict)
    mechanism: list[dict[str, Any]] = field(default_factory=list)
    severity_associated: list[str] = field(default_factory=list)
    null_features: list[str] = field(default_factory=list)
    analyte_aliases: dict[str, dict[str, str]] = field(default_factory=dict)
    outcomes: dict[str, Any] = field(default_factory=dict)
    early_events: dict[str, Any] = field(default_factory=dict)
    baseline_predictive: list[str] = field(default_factory=list)
    pharmacodynamic: list[str] = field(default_factory=list)
    mediators: list[dict[str, Any]] = field(default_factory=list)
    missing_assays: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def prognostic_features(self) -> list[str]:
        """Names of the prognostic biomarker features."""
        return [p["feature"] for p in self.prognostic]

    @property
    def predictive_features(self) -> list[str]:
        """Names of the predictive features."""
        return [p["feature"] for p in self.predictive]

    @property
    def mechanism_features(self) -> list[str]:
        """Names of every feature with a planted on-treatment change."""
        return [f for m in self.mechanism for f in m["features"]]

    @property
    def mediator_features(self) -> list[str]:
        """Names of the on-treatment features of the planted mediators."""
        return [f for m in self.mediators for f in m["features"]]

    def features(self, role: str | None = None, *, source: str = "long") -> list[str]:
        """Feature names of a role, with cytokine analytes named as in the file read.

        Parameters
        ----------
        role
            ``"prognostic"``, ``"predictive"``, ``"mechanism"``, ``"severity_associated"``,
            ``"null"``, ``"baseline_predictive"``, ``"pharmacodynamic"``, ``"mediator"``, or
            ``None`` for all (in that order, without duplicates).
        source
            Which cytokine file the ``cytokines`` assay was read from: ``"long"``
            (``cytokines_long.csv``: ``IL6``, ``TNFa``), ``"luminex"``, ``"bioplex"`` or ``"msd"``
            (vendor names: ``IL-6``, ``TNF-α``). Other modalities are not renamed.

        Returns
        -------
        List of feature names such as ``cytokine:IL-6@D0`` for ``source="luminex"``.
        """
        roles = {
            "prognostic": self.prognostic_features,
            "predictive": self.predictive_features,
            "mechanism": self.mechanism_features,
            "severity_associated": list(self.severity_associated),
            "null": list(self.null_features),
            "baseline_predictive": list(self.baseline_predictive),
            "pharmacodynamic": list(self.pharmacodynamic),
            "mediator": self.mediator_features,
        }
        if role is not None:
            check_choice("role", role, [*roles, None])
        names = roles[role] if role is not None else [n for r in roles.values() for n in r]
        known = {"long", *(k for v in self.analyte_aliases.values() for k in v)}
        check_choice("source", source, sorted(known))
        rename = {a: al.get(source, a) for a, al in self.analyte_aliases.items()}
        out = []
        for name in names:
            parsed = parse_feature_name(name)
            if parsed.modality == "cytokine":
                entity = rename.get(parsed.entity, parsed.entity)
                name = str(replace(parsed, entity=entity))
            if name not in out:
                out.append(name)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (what ``truth.json`` holds), with the format name and version first."""
        out = {"format": TRUTH_FORMAT, "format_version": TRUTH_FORMAT_VERSION, **asdict(self)}
        if not self.missing_assays:  # the default truth.json keeps its bytes
            del out["missing_assays"]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Truth:
        """Build from :meth:`to_dict` output (format keys are ignored here; see ``load_truth``)."""
        keys = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in keys})

    def to_frame(self) -> pd.DataFrame:
        """One row per (feature, role): ``feature, role, modality, entity, effect, direction``.

        A mediator's ``effect`` is its planted mean response in the treated arm (log scale).
        """
        rows = [
            (
                p["feature"],
                "prognostic",
                p["modality"],
                p["entity"],
                p["log_hr_per_latent_sd"],
                p["direction"],
            )
            for p in self.prognostic
        ]
        rows += [
            (
                p["feature"],
                "predictive",
                p["modality"],
                p["entity"],
                p["log_hr_interaction_per_latent_sd"],
                p["benefit"],
            )
            for p in self.predictive
        ]
        rows += [
            (f, "mechanism", m["modality"], m["entity"], m["effect"], m["direction"])
            for m in self.mechanism
            for f in m["features"]
        ]
        rows += [
            (
                f,
                "mediator",
                parse_feature_name(f).modality,
                m["analyte"],
                m["effect_on_mediator"],
                "up" if m["effect_on_mediator"] > 0 else "down",
            )
            for m in self.mediators
            for f in m["features"]
        ]
        nulls = [(f, parse_feature_name(f)) for f in self.null_features]
        rows += [(f, "null", p.modality, p.entity, 0.0, "none") for f, p in nulls]
        return pd.DataFrame(
            rows, columns=["feature", "role", "modality", "entity", "effect", "direction"]
        )

    def _repr_html_(self) -> str:
        te = self.treatment_effect
        arms = self.outcomes.get("by_arm", {})
        out = "".join(
            f"<tr><td>{html.escape(a)}</td><td>{v.get('n')}</td><td>{v.get('tfs_28', float('nan')):.2f}</td>"
            f"<td>{v.get('tfs_90', float('nan')):.2f}</td></tr>"
            for a, v in arms.items()
        )
        return (
            f"<div><b>Truth</b> — scenario <code>{html.escape(self.scenario)}</code>, seed {self.seed}, "
            f"{self.n_subjects} subjects<br>HR at average markers: {te.get('hr_at_mean_latents', 1.0):.2f}; "
            f"{len(self.prognostic)} prognostic, {len(self.predictive)} predictive, "
            f"{len(self.mechanism_features)} mechanism features"
            f"<table><tr><th>arm</th><th>n</th><th>TFS 28 d</th><th>TFS 90 d</th></tr>{out}</table></div>"
        )
