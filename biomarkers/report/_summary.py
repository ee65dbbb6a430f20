"""The one-screen summary that opens the report: question, answers, limitations, next step.

Every sentence is chosen by a rule of :data:`RULES` from the numbers in the run folder; the rules
and their thresholds are listed in ``docs/report.md`` (a test keeps the two in step).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from biomarkers.models._metrics import CHANCE  # the one home of chance levels
from biomarkers.report._tables import Section
from biomarkers.report._words import study_words

__all__ = ["RULES", "Finding", "Summary", "read_config", "summarize", "summary_section"]

ALPHA = 0.05  # permutation / heterogeneity p-values
MIN_EVENTS_PER_FEATURE = 10.0  # events (smaller class) per candidate feature

#: how the summary names each primary metric
METRIC_NAMES = {"auroc": "AUROC", "harrell_c": "Harrell's C", "r2": "R²"}

RULES: dict[str, str] = {
    "discovery.evidence": "primary metric's 95% CI lower bound above chance (AUROC/C-index 0.5, "
    "R² 0): evidence of discrimination",
    "discovery.none": "95% CI reaches chance: no evidence of discrimination",
    "no_interval": "an estimate without an interval (no bootstraps) is reported, not judged",
    "added.shown": "ΔAUROC over the clinical score with CI above 0: markers add value",
    "added.not_shown": "ΔAUROC CI includes 0: not shown to add value",
    "added.worse": "ΔAUROC CI below 0: markers make the clinical score worse",
    "effect.shown": "treatment effect CI excludes the null (0 for differences, 1 for ratios)",
    "effect.not_shown": "treatment effect CI includes the null: no effect shown",
    "predictive.found": "at least one marker with interaction q < predictive.fdr",
    "predictive.none": "no marker with interaction q < predictive.fdr",
    "qini.shown": f"Qini permutation p < {ALPHA}: targeting by predicted benefit beats random",
    "qini.not_shown": f"Qini permutation p ≥ {ALPHA}: targeting not shown to beat random",
    "blp.shown": "BLP slope CI excludes 0: evidence of treatment-effect heterogeneity",
    "blp.not_shown": "BLP slope CI includes 0: no evidence of heterogeneity",
    "early.found": "counts of early-response labels other than 'neither'",
    "mediation.shown": "indirect effect CI excludes 0",
    "mediation.not_shown": "indirect effect CI includes 0",
    "mechanism.found": "counts of DE genes / composition changes / links with q < 0.1",
    "limit.events": f"fewer than {MIN_EVENTS_PER_FEATURE:g} events (smaller class) per candidate "
    "feature: exploratory",
    "limit.budget": "more candidate features than the sample-size budget supports",
    "limit.landmark": "analysed subjects are landmark survivors (fewer after than before)",
    "limit.not_run": "analyses without result files are named",
    "limit.internal": "always: internal (cross-validated) validation, one seed",
    "limit.blinded": "blinded dry run (manifest blinded): arms are a dummy randomisation",
    "limit.no_plan": "no locked analysis plan checked (manifest without plan): exploratory",
    "limit.deviations": "the run deviates from its locked analysis plan (plan_deviations.csv)",
    "next.validate": "evidence of discrimination and value added (or no comparator): validate "
    "in an independent cohort",
    "next.rethink": "evidence of discrimination but not shown to add value: refine before "
    "validating",
    "next.stop": "no evidence of discrimination: do not validate this panel",
    "next.predictive": "no predictive marker: no treatment-selection claim",
}


@dataclass(frozen=True)
class Finding:
    """One sentence of the summary and the rule (key of :data:`RULES`) that chose its words."""

    analysis: str
    text: str
    rule: str


@dataclass(kw_only=True)
class Summary:
    """The report's opening summary, as plain-text sentences.

    Attributes
    ----------
    question
        Outcome (with its definition), population, landmark and design.
    answers
        One :class:`Finding` per analysis that was run.
    limitations, next_steps
        Findings that apply to this run.
    """

    question: list[str] = field(default_factory=list)
    answers: list[Finding] = field(default_factory=list)
    limitations: list[Finding] = field(default_factory=list)
    next_steps: list[Finding] = field(default_factory=list)

    @property
    def rules(self) -> list[str]:
        """The rules applied, in order."""
        return [f.rule for f in (*self.answers, *self.limitations, *self.next_steps)]

    def to_text(self) -> str:
        """The summary as plain text (one sentence a line)."""
        blocks = [
            ("Question", self.question),
            ("Answers", [f"{f.analysis}: {f.text}" for f in self.answers]),
            ("Limitations", [f.text for f in self.limitations]),
            ("Next step", [f.text for f in self.next_steps]),
        ]
        return "\n".join(f"{t}\n" + "\n".join(f"- {x}" for x in xs) for t, xs in blocks if xs)


# ---- reading ------------------------------------------------------------------------------


@dataclass
class _Run:
    path: Path
    config: dict[str, Any]
    manifest: dict[str, Any]
    outcome: dict[str, Any]
    treated: str
    control: str
    cohort: bool

    def csv(self, relative: str) -> pd.DataFrame | None:
        path = self.path / relative
        if not path.is_file():
            return None
        try:
            df = pd.read_csv(path)
        except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError):
            return None
        return df if len(df) else None

    def json(self, relative: str) -> Any:
        path = self.path / relative
        try:
            return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None

    @property
    def event(self) -> str:
        return str(self.outcome.get("description") or self.outcome.get("name") or "the outcome")


def _fmt(x: float | None) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    return f"{x:.3f}" if abs(x) >= 0.001 or x == 0 else f"{x:.2g}"


def _ci(lo: float | None, hi: float | None) -> str:
    return f"95% CI {_fmt(lo)} to {_fmt(hi)}" if _has_ci(lo, hi) else "no interval computed"


def _has_ci(lo: float | None, hi: float | None) -> bool:
    return all(v is not None and np.isfinite(v) for v in (lo, hi))


def _unjudged(analysis: str, what: str) -> Finding:
    """A result without an interval (e.g. ``n_bootstraps: 0``) is reported, not judged."""
    return Finding(analysis, f"{what} (no interval computed): not judged.", "no_interval")


def _words(name: str) -> str:
    """``"clinical:meld@D0"`` → ``"meld (D0)"`` for prose (the name itself if not a feature)."""
    from biomarkers._names import is_feature_name, parse_feature_name

    if not is_feature_name(name):
        return name
    f = parse_feature_name(name)
    when = f"{f.visit}-{f.start}" if f.start else f.visit
    return f"{f.short} ({when})" if when else f.short


# ---- the question -------------------------------------------------------------------------


def _question(run: _Run) -> list[str]:
    out = run.outcome
    lines = []
    if out:
        definition = str(out.get("definition") or "")
        lines.append(
            f"Outcome: {run.event} ({out.get('kind')}"
            + (f", assessed on day {out['assessed_day']}" if out.get("assessed_day") else "")
            + ")"
            + (f"; class 1 is {out['positive']}" if out.get("positive") else "")
            + (f". Definition: {definition}" if definition else "")
            + "."
        )
    counts = run.csv("cohort_counts.csv")
    if counts is not None and "arm" in counts:
        col = next((c for c in ("analysed", "randomised") if c in counts), None)
        if col:
            per = ", ".join(
                f"{a} {int(n)}" for a, n in zip(counts["arm"], counts[col], strict=True)
            )
            lines.append(f"Population: {int(counts[col].sum())} subjects {col} ({per}).")
    landmark = run.csv("landmark.csv")
    day = (run.json("settings.json") or {}).get("landmark_day")
    if landmark is not None and day is not None and {"n_before", "n_after"} <= set(landmark):
        row = landmark.iloc[-1]
        lines.append(
            f"Landmark: day {day:g}; models use features known by then and the "
            f"{int(row['n_after'])} of {int(row['n_before'])} subjects event-free at it."
        )
    if run.cohort:
        lines.append("Design: a single cohort (no treatment comparison).")
    else:
        alloc = (run.config.get("study") or {}).get("allocation")
        lines.append(
            f"Design: randomised comparison of {run.treated} vs {run.control}"
            + (f" (allocation {alloc:g})" if alloc is not None else "")
            + "."
        )
    return lines


# ---- the answers --------------------------------------------------------------------------


def _discovery(run: _Run) -> Finding | None:
    perf = run.csv("performance.csv")
    if perf is None or not {"metric", "estimate", "ci_low", "ci_high"} <= set(perf):
        return None
    rows = perf[perf["metric"].isin(list(CHANCE))]
    if "verdict" in perf and perf["verdict"].notna().any():
        rows = rows[rows["verdict"].notna() & (rows["verdict"].astype(str) != "")]
    if rows.empty:
        return None
    best = rows.loc[rows["estimate"].idxmax()]
    metric = str(best["metric"])
    chance = CHANCE[metric]
    if not _has_ci(best["ci_low"], best["ci_high"]):
        return _unjudged("Discovery", f"{best.get('model', '')} {metric} {_fmt(best['estimate'])}")
    shown = best["ci_low"] > chance and best["estimate"] > chance
    name = METRIC_NAMES.get(metric, metric)
    text = (
        f"the best model ({best.get('model', '')}) reaches {name} {_fmt(best['estimate'])} "
        f"({_ci(best['ci_low'], best['ci_high'])}) for {run.event}; "
        + (
            f"the interval lies above {chance:g} (chance): evidence of discrimination"
            if shown
            else f"the interval reaches {chance:g} (chance): no evidence of discrimination"
        )
    )
    perm = run.json("permutation.json")
    perm = perm[0] if isinstance(perm, list) and perm else perm
    if isinstance(perm, dict) and perm.get("p_value") is not None:
        n_perm = perm.get("n_permutations") or len(perm.get("null") or [])
        of = f" of {n_perm} permutations" if n_perm else ""
        text += f" (label-permutation p = {_fmt(perm['p_value'])}{of})"
    return Finding("Discovery", text + ".", "discovery.evidence" if shown else "discovery.none")


def _added_value(run: _Run) -> Finding | None:
    comp = run.csv("comparison.csv")
    if comp is None or "comparison" not in comp:
        return None
    delta = comp[comp["comparison"] == "delta"]
    if delta.empty:
        return None
    row = delta.loc[delta["estimate"].idxmax()]
    base = (run.config.get("models") or {}).get("clinical_baseline") or ["the clinical score"]
    score = ", ".join(_words(str(b)) for b in base)
    metric = str(row["metric"]).upper().replace("_", "-")
    lo, hi = row["ci_low"], row["ci_high"]
    if not _has_ci(lo, hi):
        return _unjudged("Added value", f"the markers add {_fmt(row['estimate'])} {metric}")
    if lo > 0:
        rule, verdict = "added.shown", "the interval excludes 0: the markers add value"
    elif hi < 0:
        rule, verdict = "added.worse", "the interval lies below 0: the markers make it worse"
    else:
        rule, verdict = "added.not_shown", "the interval includes 0: not shown to add value"
    text = (
        f"the markers add {_fmt(row['estimate'])} {metric} over {score} ({_ci(lo, hi)}); {verdict}."
    )
    return Finding("Added value", text, rule)


def _effect(run: _Run) -> list[Finding]:
    effect = run.csv("treatment_effect.csv")
    if effect is None or not {"measure", "estimate", "ci_low", "ci_high"} <= set(effect):
        return []
    found = []
    for row in effect.itertuples():
        measure = str(row.measure).replace("_", " ")
        null = 1.0 if "ratio" in measure and not measure.startswith("log") else 0.0
        if not _has_ci(row.ci_low, row.ci_high):
            found.append(_unjudged("Treatment effect", f"{measure} {_fmt(row.estimate)}"))
            continue
        shown = row.ci_low > null or row.ci_high < null
        side = "higher" if row.estimate > null else "lower"
        verdict = (
            f"the interval excludes {null:g}: {run.event} is {side} under {run.treated}"
            if shown
            else f"the interval includes {null:g}: no treatment effect shown"
        )
        found.append(
            Finding(
                "Treatment effect",
                f"{run.treated} vs {run.control}: {measure} {_fmt(row.estimate)} "
                f"({_ci(row.ci_low, row.ci_high)}); {verdict}.",
                "effect.shown" if shown else "effect.not_shown",
            )
        )
    return found


def _predictive(run: _Run) -> list[Finding]:
    pred = run.csv("predictive_markers.csv")
    found = []
    if pred is not None:
        fdr = (run.config.get("predictive") or {}).get("fdr") or 0.1
        q = next((c for c in pred.columns if c.startswith("q_value_inter")), None)
        label = "marker" if "marker" in pred else pred.columns[0]
        hits = pred[pred[q] < fdr] if q else pred.iloc[:0]
        if len(hits):
            names = ", ".join(map(str, hits.sort_values(q)[label].head(5)))
            text = (
                f"{len(hits)} of {len(pred)} markers modify the effect of {run.treated} vs "
                f"{run.control} at FDR {fdr:g} ({names})."
            )
        else:
            smallest = (
                f"; smallest q = {_fmt(pred[q].min())}" if q and pred[q].notna().any() else ""
            )
            text = (
                f"no marker modifies the effect of {run.treated} vs {run.control} at FDR "
                f"{fdr:g} ({len(pred)} tested{smallest})."
            )
        found.append(
            Finding(
                "Predictive markers", text, "predictive.found" if len(hits) else "predictive.none"
            )
        )
    if (qini := _qini(run)) is not None:
        found.append(qini)
    if (blp := _blp(run)) is not None:
        found.append(blp)
    return found


def _qini(run: _Run) -> Finding | None:
    uplift = run.json("uplift.json")
    if not isinstance(uplift, dict) or uplift.get("p_value") is None:
        return None
    p = float(uplift["p_value"])
    ci = uplift.get("ci") or []
    ci_text = f", {_ci(*ci)}" if len(ci) == 2 and _has_ci(*ci) else ""
    shown = p < ALPHA
    verdict = (
        "targeting by predicted benefit beats random targeting"
        if shown
        else "targeting by predicted benefit is not shown to beat random targeting"
    )
    text = f"Qini coefficient {_fmt(uplift.get('qini', float('nan')))}{ci_text}, permutation p = {_fmt(p)}: {verdict}."
    return Finding("Uplift", text, "qini.shown" if shown else "qini.not_shown")


def _blp(run: _Run) -> Finding | None:
    het = run.csv("heterogeneity.csv")
    if het is None or not {"slope", "slope_ci_low", "slope_ci_high"} <= set(het):
        return None
    row = (
        het[het["learner"] == "dr_learner"].iloc[0]
        if "dr_learner" in set(het.get("learner", []))
        else het.iloc[0]
    )
    if not _has_ci(row["slope_ci_low"], row["slope_ci_high"]):
        return _unjudged("Heterogeneity", f"BLP slope {_fmt(row['slope'])}")
    shown = row["slope_ci_low"] > 0 or row["slope_ci_high"] < 0
    verdict = (
        "evidence that the effect varies with the predicted benefit"
        if shown
        else "no evidence that the effect varies with the predicted benefit"
    )
    text = f"BLP slope {_fmt(row['slope'])} ({_ci(row['slope_ci_low'], row['slope_ci_high'])}): {verdict}."
    return Finding("Heterogeneity", text, "blp.shown" if shown else "blp.not_shown")


def _early(run: _Run) -> list[Finding]:
    found = []
    early = run.csv("early_response/early_response.csv")
    if early is not None and "label" in early:
        counts = early["label"].value_counts()
        named = [f"{n} {lab}" for lab, n in counts.items() if lab != "neither"]
        text = (
            f"of {len(early)} on-treatment changes, " + ", ".join(named) + "."
            if named
            else f"none of {len(early)} on-treatment changes is pharmacodynamic or response-associated."
        )
        found.append(Finding("Early response", text, "early.found"))
    med = run.csv("mediation/mediation_effects.csv")
    if med is not None and "effect" in med and (med["effect"] == "indirect").any():
        row = med[med["effect"] == "indirect"].iloc[0]
        if not _has_ci(row["ci_low"], row["ci_high"]):
            found.append(_unjudged("Mediation", f"indirect effect {_fmt(row['estimate'])}"))
            return found
        shown = row["ci_low"] > 0 or row["ci_high"] < 0
        params = (run.json("mediation/mediation.json") or {}).get("params") or {}
        mediator = params.get("mediator")
        via = f" through {_words(str(mediator))}" if mediator else ""
        text = (
            f"indirect effect{via} {_fmt(row['estimate'])} ({_ci(row['ci_low'], row['ci_high'])}"
            f"{', ' + str(row['scale']) if 'scale' in med else ''}); "
            + (
                "the interval excludes 0: evidence of mediation"
                if shown
                else "the interval includes 0: no mediation shown"
            )
            + "."
        )
        found.append(
            Finding("Mediation", text, "mediation.shown" if shown else "mediation.not_shown")
        )
    return found


def _mechanism(run: _Run) -> Finding | None:
    if not (run.path / "mechanism").is_dir():
        return None
    parts = []
    for name, what in (
        ("de", "differentially expressed genes"),
        ("composition_change", "cell-type composition changes"),
        ("links", "cross-assay links"),
    ):
        df = run.csv(f"mechanism/{name}.csv")
        if df is not None and "q_value" in df:
            parts.append(f"{int((df['q_value'] < 0.1).sum())} {what}")
    if not parts:
        return None
    return Finding("Mechanism", "at q < 0.1: " + ", ".join(parts) + ".", "mechanism.found")


# ---- limitations and next step ------------------------------------------------------------


def _limitations(run: _Run, answers: list[Finding]) -> list[Finding]:
    found = []
    oof = run.csv("oof_predictions.csv")
    n_features = _n_features(run)
    if oof is not None and {"y_true", "model"} <= set(oof) and oof["y_true"].nunique() == 2:
        one = oof[oof["model"] == oof["model"].iloc[0]]
        if "repeat" in one:
            one = one[one["repeat"] == one["repeat"].iloc[0]]
        n1 = int((one["y_true"] == 1).sum())
        small = min(n1, len(one) - n1)
        text = f"{len(one)} subjects analysed, {n1} in class 1 and {len(one) - n1} in class 0"
        if n_features and small / n_features < MIN_EVENTS_PER_FEATURE:
            text += (
                f"; {small / n_features:.2g} events of the smaller class per candidate feature "
                f"({n_features} features, fewer than {MIN_EVENTS_PER_FEATURE:g}): the marker "
                "selection is exploratory"
            )
        found.append(Finding("Limitation", text + ".", "limit.events"))
    if (budget := _budget(run)) is not None and n_features and n_features > budget:
        found.append(
            Finding(
                "Limitation",
                f"the sample-size budget supports about {budget} candidate parameters; "
                f"{n_features} features were screened.",
                "limit.budget",
            )
        )
    landmark = run.csv("landmark.csv")
    if landmark is not None and {"n_before", "n_after"} <= set(landmark):
        row = landmark.iloc[-1]
        if row["n_after"] < row["n_before"]:
            found.append(
                Finding(
                    "Limitation",
                    f"models are fitted on the {int(row['n_after'])} of {int(row['n_before'])} "
                    "subjects event-free at the landmark (survivors), not on everyone randomised.",
                    "limit.landmark",
                )
            )
    done = {f.analysis for f in answers}
    wanted = {"Discovery": "discovery", "Mechanism": "mechanism"}
    if not run.cohort:
        wanted |= {
            "Treatment effect": "treatment effect",
            "Predictive markers": "predictive analysis",
        }
    not_run = [w for a, w in wanted.items() if a not in done]
    if not_run:
        found.append(
            Finding("Limitation", "not in this run: " + ", ".join(not_run) + ".", "limit.not_run")
        )
    found += _plan_limitations(run)
    found.append(
        Finding(
            "Limitation",
            f"internal validation only (cross-validation in one cohort, seed "
            f"{run.manifest.get('seed')}); no external cohort.",
            "limit.internal",
        )
    )
    return found


def _plan_limitations(run: _Run) -> list[Finding]:
    """Blinded dry run, no pre-registered plan, or deviations from it (docs/plan.md)."""
    found = []
    if run.manifest.get("blinded"):
        text = "BLINDED dry run: the arms are a dummy randomisation, so no finding is a result."
        found.append(Finding("Limitation", text, "limit.blinded"))
    plan = run.manifest.get("plan")
    if not plan:
        text = "no locked analysis plan was checked: every finding is exploratory."
        found.append(Finding("Limitation", text, "limit.no_plan"))
    elif int(plan.get("n_deviations") or 0):
        n = int(plan["n_deviations"])
        text = (
            f"{n} deviation{'s' if n != 1 else ''} from the locked analysis plan "
            f"{str(plan.get('sha256'))[:12]}… (listed under Analysis plan)."
        )
        found.append(Finding("Limitation", text, "limit.deviations"))
    return found


def _n_features(run: _Run) -> int | None:
    """Candidate features: the run's feature table (``features.csv``), else the manifest."""
    var = run.csv("features.csv")
    if var is not None:
        return len(var)
    return (run.manifest.get("summary") or {}).get("n_features")


def _budget(run: _Run) -> int | None:
    """The Riley budget (candidate parameters) when the run stored one (``sample_size.json``)."""
    stored = run.json("sample_size.json") or (run.json("settings.json") or {}).get("sample_size")
    if isinstance(stored, dict) and stored.get("parameters") is not None:
        return int(stored["parameters"])
    return None


def _next_steps(run: _Run, answers: list[Finding]) -> list[Finding]:
    rules = {f.rule for f in answers}
    found = []
    if "discovery.none" in rules:
        found.append(
            Finding(
                "Next step",
                "no discriminating signal: do not take this panel to validation; "
                "revisit the features, the outcome or the sample size.",
                "next.stop",
            )
        )
    elif "added.not_shown" in rules or "added.worse" in rules:
        found.append(
            Finding(
                "Next step",
                "the markers discriminate but are not shown to add to the clinical "
                "score: refine the panel (fewer, pre-specified markers) or enlarge the cohort "
                "before validating.",
                "next.rethink",
            )
        )
    elif "discovery.evidence" in rules:
        found.append(
            Finding(
                "Next step",
                "validate the locked panel in an independent cohort before any clinical use.",
                "next.validate",
            )
        )
    if "predictive.none" in rules:
        found.append(
            Finding(
                "Next step",
                "no treatment-selection claim can be made: a predictive claim "
                "needs a trial powered for the treatment × marker interaction.",
                "next.predictive",
            )
        )
    return found


def summarize(run_dir: str | os.PathLike) -> Summary:
    """The summary of a run folder, every sentence chosen by a rule of :data:`RULES`.

    Parameters
    ----------
    run_dir
        A run folder (``runs/<name>/<timestamp>/``).

    Returns
    -------
    :class:`Summary` (``.to_text()`` for plain text; the report renders it first).
    """
    run = _load(Path(run_dir))
    answers = [a for a in (_discovery(run), _added_value(run)) if a is not None]
    if not run.cohort:
        answers += _effect(run) + _predictive(run)
    answers += _early(run)
    if (mech := _mechanism(run)) is not None:
        answers.append(mech)
    return Summary(
        question=_question(run),
        answers=answers,
        limitations=_limitations(run, answers),
        next_steps=_next_steps(run, answers),
    )


def _load(path: Path) -> _Run:
    run = _Run(path, read_config(path), {}, {}, "treated", "control", cohort=True)
    run.manifest = run.json("manifest.json") or {}
    run.outcome = run.json("outcome.json") or {}
    words = study_words(run.config, run.outcome, run.csv("cohort_counts.csv"), "")
    run.treated, run.control, run.cohort = words.treated, words.control, words.cohort
    return run


def read_config(run: Path) -> dict[str, Any]:
    """The run's ``config.yaml`` (``{}`` when absent), through the one bounded YAML loader."""
    from biomarkers._yaml import safe_load

    path = run / "config.yaml"
    return (safe_load(path.read_text(encoding="utf-8")) or {}) if path.is_file() else {}


def summary_section(summary: Summary) -> Section:
    """The summary as the report's first section (escaped HTML lists)."""
    from html import escape

    def items(lines: list[str]) -> str:
        return "<ul>" + "".join(f"<li>{escape(x)}</li>" for x in lines) + "</ul>"

    blocks = [
        ("The question", summary.question),
        ("The answers", [f"{f.analysis}: {f.text}" for f in summary.answers]),
        ("Limitations", [f.text for f in summary.limitations]),
        ("Next step", [f.text for f in summary.next_steps]),
    ]
    body = "".join(f"<h3>{t}</h3>{items(xs)}" for t, xs in blocks if xs)
    rules = " ".join(summary.rules)
    return Section(
        "summary", "Summary", body=f"<div class='summary' data-rules='{rules}'>{body}</div>"
    )
