"""A self-contained HTML report of a run folder (Jinja2; figures embedded; no network resources)."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from biomarkers._atomic import write_text
from biomarkers._logging import logger
from biomarkers.report._credibility import credibility_parts, shrunk_parts
from biomarkers.report._heterogeneity import add_heterogeneity
from biomarkers.report._markdown import markdown_html
from biomarkers.report._plan import plan_section, report_title
from biomarkers.report._risk import risk_section
from biomarkers.report._status import status_banner, status_footer
from biomarkers.report._summary import read_config as _read_config
from biomarkers.report._summary import summarize, summary_section
from biomarkers.report._tables import Section as _Section
from biomarkers.report._tables import by_evidence, predictive_table
from biomarkers.report._tables import html_table as _table
from biomarkers.report._time import (
    BASELINE_ONLY,
    ESTIMANDS,
    early_response_tables,
    landmark_text,
    mediation_text,
    survivor_aware_tables,
)
from biomarkers.report._words import Words as _Words
from biomarkers.report._words import study_words as _study_words

__all__ = ["write_report"]


def _read_csv(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:  # an empty result (e.g. no clinical comparator), not an error
        return pd.DataFrame()
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        logger.warning("report: cannot read %s (%s); section left out", path, err)
        return None


def _number(value: Any) -> str:
    """A stored number for prose; ``n/a`` when absent (e.g. no permutations were run)."""
    return "n/a" if value is None else f"{float(value):.3g}"


def _read_json(path: Path) -> Any:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


class _Figures:
    """Saves each figure under figures/ (PNG + SVG) and returns a data URI of the PNG."""

    def __init__(self, run_dir: Path) -> None:
        self.dir = run_dir / "figures"

    def add(self, name: str, make) -> str | None:
        from biomarkers.pl import save_figure

        try:
            fig = make()
        except Exception as err:  # a figure that cannot be drawn must not sink the report
            logger.warning("report: figure %s not drawn (%s: %s)", name, type(err).__name__, err)
            return None
        if fig is None:
            return None
        png, _svg = save_figure(fig, self.dir / name)
        return "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")


def _metric_table(perf: pd.DataFrame) -> pd.DataFrame:
    perf = perf.copy()
    perf["95% CI"] = [
        "" if pd.isna(lo) else f"{lo:.3f} – {hi:.3f}"
        for lo, hi in zip(perf["ci_low"], perf["ci_high"], strict=True)
    ]
    if "interval" in perf:
        perf["CI method"] = [_interval_label(v) for v in perf["interval"]]
    if "verdict" in perf:
        perf["verdict"] = perf["verdict"].fillna("")
    cols = ("model", "metric", "estimate", "95% CI", "CI method", "verdict", "n")
    return perf[[c for c in cols if c in perf]]


def _interval_label(interval: Any) -> str:
    """``"nested_cv"`` → ``"nested-CV, Bates et al. 2023"`` (the one table of labels)."""
    from biomarkers.models._metrics import INTERVAL_LABELS

    return "" if pd.isna(interval) else INTERVAL_LABELS.get(str(interval), str(interval))


def _interval_text(perf: pd.DataFrame) -> str:
    """Which interval the primary rows carry and what their verdicts say, for the report."""
    if "interval" not in perf or "verdict" not in perf:
        return ""
    primary = perf[perf["verdict"].notna() & (perf["verdict"].astype(str) != "")]
    if primary.empty:
        return ""
    labels = sorted({_interval_label(v) for v in primary["interval"]})
    verdicts = "; ".join(
        f"{r.model}: {r.metric} {r.estimate:.3f}, 95% CI ({_interval_label(r.interval)}) "
        f"{r.ci_low:.3f} – {r.ci_high:.3f}, {r.verdict}"
        for r in primary.itertuples()
    )
    return (
        f" The primary metric carries a 95% CI ({', '.join(labels)}); the other rows carry a "
        f"subject bootstrap of pooled out-of-fold predictions. {verdicts}. A CI that covers or "
        "lies below chance is no evidence of discrimination, never a significant inverse effect."
    )


def _methods_interval(models: dict) -> str:
    interval = models.get("interval") or "bootstrap"
    boot = (
        f"95% bootstrap confidence intervals ({models.get('n_bootstraps')} resamples of subjects)"
    )
    if interval == "bootstrap":
        return f"Metrics carry {boot}; "
    return (
        f"The primary metric (averaged over test folds) carries a 95% CI "
        f"({_interval_label(interval)}), the other metrics {boot}; "
    )


# measure (lower case, spaces) → what the estimate compares, in the study's words
_MEANING = {
    "risk difference": "risk of {event} under {treated} minus under {control}",
    "risk ratio": "risk of {event} under {treated} divided by the risk under {control}",
    "odds ratio": "odds of {event} under {treated} relative to {control}",
    "hazard ratio": (
        "hazard of {event} under {treated} relative to {control} (below 1: fewer events "
        "under {treated})"
    ),
    "mean difference": "mean {outcome} under {treated} minus under {control}",
}


def _effect_table(effect: pd.DataFrame, words: _Words) -> pd.DataFrame:
    shown = _metric_table(effect)
    for col, arm in (("n_treated", words.treated), ("n_control", words.control)):
        if col in effect:
            shown[f"n ({arm})"] = effect[col].to_numpy()
    if "method" in effect:
        shown["method"] = effect["method"].to_numpy()
    return shown


def _meaning(measure: str, words: _Words) -> str | None:
    """What a treatment-effect measure compares, in the study's words (None if not known)."""
    template = _MEANING.get(measure.replace("_", " ").lower())
    if template is None:
        return None
    text = template.format(
        event=words.event, outcome=words.outcome, treated=words.treated, control=words.control
    )
    return f"<i>{_escape(measure.replace('_', ' '))}</i>: {_escape(text)}"


def _effect_section(effect: pd.DataFrame, words: _Words) -> _Section:
    """The overall treatment effect (``treatment_effect.csv``), before any marker analysis."""
    s = _Section("effect", f"Treatment effect on {words.outcome}: {words.comparison}")
    measures = dict.fromkeys(effect["measure"].astype(str)) if "measure" in effect else {}
    meanings = [m for m in (_meaning(x, words) for x in measures) if m]
    allocation = f" (allocation {words.allocation:g})" if words.allocation is not None else ""
    s.text = (
        f"The effect of {_escape(words.treated)} compared with {_escape(words.control)} on "
        f"{_escape(words.event)} over all analysed subjects, before any marker analysis"
        f"{allocation}. " + "; ".join(meanings) + ("." if meanings else "")
    )
    s.tables.append(("Overall treatment effect (95% CI)", _table(_effect_table(effect, words))))
    return s


def _class_one_text(words: _Words, oof: pd.DataFrame | None) -> str:
    """Which class the metrics refer to, with its count in one repeat of the predictions."""
    if words.kind == "survival":
        return (
            f"The event is <b>{_escape(words.event)}</b>: the C-index and time-dependent AUC "
            "rank subjects by their risk of it."
        )
    if words.kind != "binary":
        return ""
    text = (
        f"Class 1 is <b>{_escape(words.event)}</b>: AUROC, AUPRC, sensitivity, PPV and NPV "
        "refer to it"
    )
    if oof is not None and {"y_true", "model"} <= set(oof.columns) and len(oof):
        one = oof[oof["model"] == oof["model"].iloc[0]]
        if "repeat" in one:
            one = one[one["repeat"] == one["repeat"].iloc[0]]
        text += f" ({int((one['y_true'] == 1).sum())} of {len(one)} subjects)"
    return text + "."


def _predictive_methods(pred: dict[str, Any], words: _Words) -> str:
    allocation = (
        f"{words.allocation:g} (study.allocation)"
        if words.allocation is not None
        else "of the design (equal allocation unless study.allocation says otherwise)"
    )
    covariates = pred.get("covariates") or []
    return (
        f"Predictive markers ({_escape(words.comparison)}) were tested by treatment × marker "
        "interaction models"
        + (f" adjusted for {_escape(', '.join(map(str, covariates)))}" if covariates else "")
        + f" with Benjamini–Hochberg FDR {pred.get('fdr')}; conditional treatment effects were "
        f"estimated by T- and doubly-robust learners with the randomisation probability "
        f"{allocation} of {_escape(words.treated)}, cross-fitted."
    )


def _methods_text(
    config: dict[str, Any], outcome: dict | None, manifest: dict, words: _Words, *,
    interval: str | None = None,
) -> str:  # fmt: skip
    models = {**(config.get("models", {}) or {}), "interval": interval}
    feats = config.get("features", {}) or {}
    parts = []
    if outcome:
        parts.append(
            f"The outcome was <b>{_escape(words.outcome)}</b> ({outcome.get('kind')}): "
            f"{outcome.get('definition', '')}, assessed on study day {outcome.get('assessed_day')}."
        )
    if feats:
        parts.append(
            f"Features were built from visits {', '.join(feats.get('visits', []))}"
            f"{' with changes from baseline' if feats.get('deltas') else ''}; features measured at or "
            "after the outcome's assessment day were refused."
        )
    if models:
        parts.append(
            f"Models ({', '.join(models.get('models', []))}) were evaluated by "
            f"{models.get('n_repeats')}× repeated, stratified {models.get('n_splits')}-fold cross-validation "
            f"grouped by subject, with {models.get('inner_cv')}-fold inner cross-validation for "
            "hyperparameters. Every data-dependent step (censored-value imputation, missing-value "
            "imputation, scaling, feature filters) was fitted inside the training folds. "
            f"{_methods_interval(models)}"
            f"the whole pipeline was refitted on {models.get('n_permutations')} label permutations "
            "for a permutation p-value."
        )
    pred = config.get("predictive") or {}
    if pred.get("enabled") and not words.cohort:
        parts.append(_predictive_methods(pred, words))
    parts.append(
        f"Seed {manifest.get('seed')}; software: "
        + ", ".join(f"{k} {v}" for k, v in (manifest.get("packages") or {}).items())
        + "."
    )
    return " ".join(parts)


def _comparison_folders(run: Path, words: _Words) -> list[tuple[Path, _Words]]:
    """The run folder (two arms or pooled) and each ``predictive/<treated>_vs_<control>/``."""
    found = [(run, words)]
    for folder in sorted((run / "predictive").glob("*_vs_*")):
        treated, _, control = folder.name.partition("_vs_")
        found.append((folder, replace(words, treated=treated, control=control)))
    return found


def _predictive_section(
    folder: Path, words: _Words, figs: _Figures, *, root: Path
) -> _Section | None:
    """Predictive vs prognostic markers of one comparison (``predictive_markers.csv`` ...)."""
    import biomarkers.pl as pl

    pred = _read_csv(folder / "predictive_markers.csv")
    if pred is None:
        return None
    pair = "" if folder == root else folder.name
    s = _Section(
        "predictive" + (f"-{pair}" if pair else ""),
        "Predictive vs prognostic markers" + (f": {words.comparison}" if pair else ""),
    )
    s.text = (
        f"A <i>predictive</i> marker modifies the effect of {_escape(words.treated)} "
        f"compared with {_escape(words.control)} on {_escape(words.outcome)} (treatment × "
        "marker interaction); a <i>prognostic</i> marker predicts the outcome regardless of "
        "arm."
    ) + BASELINE_ONLY
    shown = predictive_table(pred, treated=words.treated, control=words.control)
    csv = (folder / "predictive_markers.csv").relative_to(root).as_posix()
    s.tables.append(
        (
            "Markers, by evidence (q, then |interaction|)",
            _table(shown, max_rows=30)
            + f"<p class='note'>All {len(pred)} rows and {len(pred.columns)} columns: "
            f"<a href='{_escape(csv)}'>{_escape(csv)}</a>.</p>",
        )
    )
    prefix = f"{pair}_" if pair else ""
    if {"interaction", "ci_low", "ci_high"} <= set(pred.columns):
        q = next((c for c in pred.columns if c.startswith("q_value_inter")), None)
        top = by_evidence(pred, q=q, effect="interaction")
        s.figure(
            figs, f"{prefix}interactions", "Treatment × marker interactions (by evidence)",
            lambda: pl.forest(top, estimate="interaction", measure="scale", top=20),
        )  # fmt: skip
    # after the marker table: shrunk marker effects, then the credibility card
    params = (_read_json(folder / "uplift.json") or {}).get("params") or {}
    shrunk_parts(s, pred, figs, prefix=prefix, params=params)
    credibility_parts(s, folder)
    subgroups = _read_csv(folder / "subgroups.csv")
    if subgroups is not None and {"effect", "ci_low", "ci_high"} <= set(subgroups.columns):
        label = [c for c in ("marker", "subgroup") if c in subgroups]
        s.figure(
            figs, f"{prefix}subgroups", "Treatment effect in marker subgroups",
            lambda: pl.forest(subgroups, label=label, top=30),
        )  # fmt: skip
    uplift = _read_json(folder / "uplift.json")
    if isinstance(uplift, dict) and isinstance(uplift.get("curve"), dict | list):
        curve = pd.DataFrame(uplift["curve"])
        if {"fraction", "qini"} <= set(curve.columns):
            s.figure(figs, f"{prefix}qini", "Qini curve (out-of-fold CATE)", lambda: pl.qini(curve))
        s.text += (
            f" Qini coefficient {_number(uplift.get('qini'))}, "
            f"permutation p = {_number(uplift.get('p_value'))}."
        )
    add_heterogeneity(s, folder, figs, prefix=prefix)
    return s


def _roc_with_interval(perf: pd.DataFrame):
    """``bm.pl.roc_curve`` whose legend gives each model's AUROC with the run's named interval."""
    from biomarkers import pl

    return lambda oof: pl.roc_curve(oof, performance=perf)


def write_report(run_dir: str | os.PathLike, *, title: str | None = None) -> Path:
    """Write ``report.html`` (and ``figures/*.png|svg``) from the results in a run folder.

    Sections whose result files are absent are left out; the report names what was not run.
    The HTML embeds every figure (PNG data URIs) and loads nothing from the network.

    Parameters
    ----------
    run_dir
        A run folder (``runs/<name>/<timestamp>/``).
    title
        Report title; default the run's name.

    Returns
    -------
    Path of ``report.html``.
    """
    from jinja2 import Environment, PackageLoader, select_autoescape

    import biomarkers.pl as pl

    run = Path(run_dir)
    manifest = _read_json(run / "manifest.json") or {}
    config = _read_config(run)
    outcome = _read_json(run / "outcome.json")
    figs = _Figures(run)
    sections: list[_Section] = [_summary(run)]
    missing: list[str] = []

    cohort = _read_csv(run / "cohort.csv")
    counts = _read_csv(run / "cohort_counts.csv")
    words = _study_words(config, outcome, counts, str(manifest.get("name") or run.name))
    km = _read_csv(run / "km.csv")
    if cohort is not None or counts is not None:
        s = _Section("cohort", "Cohort and QC")
        if words.cohort:
            s.text = (
                "A cohort without a treatment comparison: the treatment-effect and predictive "
                "analyses were not run."
            )
        if counts is not None:
            s.tables.append(("Subjects per arm", _table(counts)))
            s.figure(figs, "cohort", "CONSORT-style flow", lambda: pl.cohort_overview(counts))
        if cohort is not None:
            s.tables.append(("Samples per visit and assay", _table(cohort, max_rows=60)))
        if km is not None and {"time_days", "event"} <= set(km.columns):
            horizon = (outcome or {}).get("assessed_day")
            km_groups = km if "arm" in km else km.assign(arm="all subjects")
            s.figure(
                figs,
                "km_arm",
                f"Kaplan–Meier by arm: {words.outcome}"
                + (f" (event: {words.positive})" if words.kind == "survival" else ""),
                lambda: pl.kaplan_meier(
                    km_groups,
                    horizon=horizon,
                    ylabel=f"free of {words.outcome}"
                    if words.kind == "survival"
                    else "event-free probability",
                ),
            )
        sections.append(s)
    else:
        missing.append("cohort")

    effect = _read_csv(run / "treatment_effect.csv")
    if effect is not None and len(effect):
        sections.append(_effect_section(effect, words))

    if outcome:
        s = _Section("outcome", "Outcome definition")
        definition = str(outcome.get("definition", ""))
        assessed = f"assessed on study day {outcome.get('assessed_day')}"
        s.text = (
            f"<b>{_escape(words.outcome)}</b> ({outcome.get('kind')}): {_escape(definition)}."
            + ("" if assessed in definition.lower() else f" {assessed.capitalize()}.")
            + (f" Class 1 (the event): {_escape(words.positive)}." if words.positive else "")
        )
        sections.append(s)

    perf = _read_csv(run / "performance.csv")
    oof = _read_csv(run / "oof_predictions.csv")
    permutation = _read_json(run / "permutation.json")
    if perf is not None:
        s = _Section("performance", "Performance (out-of-fold, 95% CI)")
        s.text = _class_one_text(words, oof)
        settings = _read_json(run / "settings.json") or {}
        s.text += landmark_text(_read_csv(run / "landmark.csv"), settings.get("landmark_day"))
        s.text += _interval_text(perf)
        s.tables.append(("Cross-validated performance", _table(_metric_table(perf), max_rows=60)))
        if permutation:
            perms = permutation if isinstance(permutation, list) else [permutation]
            rows = [
                {k: p.get(k) for k in ("model", "metric", "observed", "p_value", "n_permutations")}
                for p in perms
            ]
            s.tables.append(
                ("Label-permutation test of the whole pipeline", _table(pd.DataFrame(rows)))
            )
        if (
            oof is not None
            and {"y_true", "y_pred", "model"} <= set(oof.columns)
            and oof["y_true"].nunique() == 2
        ):
            # the decision curve discover stored (clinical comparator) is drawn as stored
            stored_dc = _read_csv(run / "decision_curve.csv")
            dc_data = stored_dc if stored_dc is not None and len(stored_dc) else oof
            for name, fn, cap, data in (
                (
                    "roc",
                    _roc_with_interval(perf),
                    "ROC curves, mean and 95% band over repeats",
                    oof,
                ),
                ("pr", pl.pr_curve, "Precision-recall", oof),
                ("calibration", pl.calibration, "Calibration", oof),
                ("decision_curve", pl.decision_curve, "Decision curve (net benefit)", dc_data),
            ):
                s.figure(figs, name, cap, lambda fn=fn, data=data: fn(data))
        sections.append(s)
    else:
        missing.append("performance")

    comparison = _read_csv(run / "comparison.csv")
    if comparison is not None and len(comparison):
        s = _Section("comparator", "Clinical comparator")
        s.text = "Clinical score alone vs clinical score + markers, fitted on the same folds."
        s.tables.append(("Comparison", _table(comparison)))
        sections.append(s)

    ranking = _read_csv(run / "ranking.csv")
    if ranking is not None:
        s = _Section("markers", "Ranked markers")
        s.tables.append(
            (
                "Top markers (stability, importance, univariate effect with BH-FDR)",
                _table(ranking, max_rows=25),
            )
        )
        freq = next(
            (c for c in ("selection_frequency", "stability", "frequency") if c in ranking), None
        )
        imp = next((c for c in ("importance", "mean_abs_importance") if c in ranking), None)
        if freq and imp:
            settings = _read_json(run / "settings.json") or {}
            thresholds = settings.get("stability_thresholds") or {}
            models = list(ranking["model"].unique()) if "model" in ranking else [None]
            for model in models:
                rows = ranking if model is None else ranking[ranking["model"] == model]
                thr = (thresholds.get(model) or {}).get("threshold") if model else None
                s.figure(
                    figs, f"stability_{model or 'all'}",
                    f"Selection frequency vs importance ({model or 'all models'}; dashed: "
                    "decoy-calibrated stability threshold)",
                    lambda r=rows, t=thr: pl.stability(r, frequency=freq, importance=imp, threshold=t),
                )  # fmt: skip
        sections.append(s)
    else:
        missing.append("markers")

    for folder, pair in _comparison_folders(run, words):
        # PATH: the risk-based analysis leads each comparison's predictive sections
        if (risk := risk_section(folder, pair, figs, root=run)) is not None:
            sections.append(risk)
        if (section := _predictive_section(folder, pair, figs, root=run)) is not None:
            sections.append(section)

    for folder, _pair in _comparison_folders(run, words):
        sections.extend(_time_sections(folder, root=run))

    from biomarkers.report._budget import budget_section

    budget = budget_section(run, figs, read_csv=_read_csv, read_json=_read_json, table=_table,
                            section_type=_Section)  # fmt: skip
    if budget is not None:
        sections.append(budget)

    from biomarkers.report._value import value_section

    value = value_section(run, figs, read_csv=_read_csv, table=_table, section_type=_Section)
    if value is not None:
        sections.append(value)

    card = run / "panel" / "panel_card.md"
    if card.is_file():
        s = _Section("panel", "Biomarker panel")
        panel_csv = _read_csv(run / "panel" / "panel.csv")
        if panel_csv is not None:
            s.tables.append(("Panel markers", _table(panel_csv)))
        s.body = "<div class='card'>" + markdown_html(card.read_text(encoding="utf-8")) + "</div>"
        sections.append(s)

    mech = run / "mechanism"
    if mech.is_dir():
        s = _Section("mechanism", "Mechanism of action")
        de = _read_csv(mech / "de.csv")
        if de is not None and len(de):
            q = "q_value" if "q_value" in de else None
            if q:
                s.tables.append(
                    (
                        "Differentially expressed genes (q < 0.1), by evidence",
                        _table(by_evidence(de[de[q] < 0.1], q=q, effect="log2fc"), max_rows=25),
                    )
                )
            s.figure(
                figs, "volcano", "Pseudobulk DE: one panel per cell type and contrast",
                lambda: pl.volcano(de),
            )  # fmt: skip
        for name in ("composition_change", "enrichment", "links"):
            df = _read_csv(mech / f"{name}.csv")
            if df is not None and len(df):
                effect = next((c for c in ("effect", "rho", "nes", "score") if c in df), None)
                s.tables.append(
                    (
                        name.replace("_", " ").capitalize() + ", by evidence",
                        _table(by_evidence(df, q="q_value", effect=effect), max_rows=20),
                    )
                )
        comp = _read_csv(mech / "composition.csv")
        if comp is not None and {"cell_type", "proportion", "arm", "visit", "subject_id"} <= set(
            comp.columns
        ):
            s.figure(
                figs,
                "composition",
                "Cell-type proportions by arm and visit",
                lambda: pl.composition(comp),
            )
        s.tables.extend(survivor_aware_tables(mech))
        for path in sorted(mech.glob("trajectory_means_*.csv")):
            means = _read_csv(path)
            if means is None or not {"feature", "mean", "ci_low", "ci_high"} <= set(means.columns):
                continue
            if "comparison" in means:  # by arm, not the responder comparison
                means = means[means["comparison"] == "arm"]
            group = "arm" if "arm" in means else "group"
            name = path.stem.replace("trajectory_means_", "")
            feats = list(dict.fromkeys(means["feature"]))[:8]
            s.figure(
                figs, f"trajectories_{name}", f"Trajectories ({name}): mean ± 95% CI by arm",
                lambda m=means, f=feats, g=group: pl.trajectories(m, features=f, groupby=g),
            )  # fmt: skip
        sections.append(s)

    sections.append(
        plan_section(run, manifest)
    )  # pre-registration and deviations, beside the methods
    s = _Section("methods", "Methods")
    interval = (_read_json(run / "settings.json") or {}).get("interval")
    s.text = _methods_text(config, outcome, manifest, words, interval=interval) + ESTIMANDS
    sections.append(s)
    s = _Section("provenance", "Provenance")
    inputs = manifest.get("inputs") or {}
    if inputs:
        s.tables.append(
            (
                "Input files",
                _table(
                    pd.DataFrame(
                        [
                            {
                                "input": k,
                                "file": Path(v["path"]).name,
                                "sha256": v["sha256"][:16] + "…",
                                "bytes": v["size"],
                            }
                            for k, v in inputs.items()
                        ]
                    )
                ),
            )
        )
    s.text = (
        f"Run <code>{_escape(str(manifest.get('name')))}</code>, started {manifest.get('started')}, "
        f"status {status_footer(manifest)}, git commit {manifest.get('git_commit') or 'n/a'}, "
        f"config SHA-256 {str(manifest.get('config_sha256', ''))[:16]}…, python {manifest.get('python')} on "
        f"{_escape(str(manifest.get('platform')))}."
    )
    sections.append(s)

    env = Environment(
        loader=PackageLoader("biomarkers.report", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    html = env.get_template("report.html.j2").render(
        title=report_title(title or f"biomarkers report: {words.trial}", manifest),
        subtitle=words.outcome + ("; cohort" if words.cohort else f"; {words.comparison}"),
        sections=sections,
        missing=missing,
        banner=status_banner(manifest),
        version=(manifest.get("packages") or {}).get("biomarkers", ""),
    )
    path = run / "report.html"
    write_text(path, html)
    return path


def _summary(run: Path) -> _Section:
    """The summary section; a summary that cannot be written must not sink the report."""
    try:
        return summary_section(summarize(run))
    except Exception as err:
        logger.warning("report: summary not written (%s: %s)", type(err).__name__, err)
        return _Section("summary", "Summary", text="The summary could not be written; see log.txt.")


def _time_sections(folder: Path, *, root: Path) -> list[_Section]:
    """The early-response and mediation sections of one comparison folder."""
    found = []
    pair = "" if folder == root else f"-{folder.name}"
    early = _read_csv(folder / "early_response" / "early_response.csv")
    if early is not None and len(early):
        s = _Section("early-response" + pair, "Early-response markers" + pair.replace("-", ": ", 1))
        meta = _read_json(folder / "early_response" / "early_response.json") or {}
        pop = meta.get("population") or {}
        n = ", ".join(f"{k} {v}" for k, v in (pop.get("n_by_arm") or {}).items())
        s.text = (
            f"On-treatment changes ({_escape(str(pop.get('visit')))} − baseline): the treatment's "
            "effect on each marker (pharmacodynamic) and the change's association with the "
            f"outcome among subjects alive and event-free at day {pop.get('landmark_day')} "
            f"(n: {_escape(n)}); BH-FDR per family. Response markers, not predictive ones."
        )
        s.tables.extend(early_response_tables(early))
        found.append(s)
    effects = _read_csv(folder / "mediation" / "mediation_effects.csv")
    if effects is not None and len(effects):
        s = _Section("mediation" + pair, "Mediation" + pair.replace("-", ": ", 1))
        meta = _read_json(folder / "mediation" / "mediation.json") or {}
        s.text, s.tables = mediation_text(effects, meta)
        found.append(s)
    return found


def _escape(text: str) -> str:
    import html

    return html.escape(text)
