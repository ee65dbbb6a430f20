"""The panel card: a Markdown/HTML summary that fills the TRIPOD+AI items it can."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from biomarkers._costs import cost_lines

__all__ = [
    "TRIPOD_AI_ITEMS",
    "card_context",
    "decision_text",
    "outcome_text",
    "purpose_text",
    "render_card",
]

# TRIPOD+AI (Collins et al., BMJ 2024;385:e078378): item, topic. Items the panel cannot know
# (background, ethics, funding, discussion, ...) are listed so the author reports them elsewhere.
TRIPOD_AI_ITEMS: tuple[tuple[str, str], ...] = (
    ("1", "Title"),
    ("2", "Abstract"),
    ("3a", "Background: healthcare context and rationale"),
    ("3b", "Background: target population and intended users"),
    ("3c", "Background: known health inequalities"),
    ("4", "Objectives"),
    ("5a", "Data: source of data"),
    ("5b", "Data: dates of accrual and follow-up"),
    ("6a", "Participants: setting and centres"),
    ("6b", "Participants: eligibility criteria"),
    ("6c", "Participants: treatments received"),
    ("7", "Data preparation"),
    ("8a", "Outcome: definition, how and when assessed"),
    ("8b", "Outcome: qualifications of assessors"),
    ("8c", "Outcome: blinding of assessment"),
    ("9a", "Predictors: choice of initial predictors"),
    ("9b", "Predictors: definition, how and when measured"),
    ("9c", "Predictors: blinding of assessment"),
    ("10", "Sample size"),
    ("11", "Missing data"),
    ("12a", "Analysis: how data were used (development/evaluation)"),
    ("12b", "Analysis: handling of predictors"),
    ("12c", "Analysis: model type, building, hyperparameters and internal validation"),
    ("12d", "Analysis: heterogeneity across clusters"),
    ("12e", "Analysis: performance measures, incl. calibration"),
    ("12f", "Analysis: model updating"),
    ("12g", "Analysis: how predictions were calculated for evaluation"),
    ("13", "Class imbalance"),
    ("14", "Fairness"),
    ("15", "Model output and decision threshold"),
    ("16", "Differences between development and evaluation data"),
    ("17", "Ethical approval"),
    ("18a", "Open science: funding"),
    ("18b", "Open science: conflicts of interest"),
    ("18c", "Open science: protocol"),
    ("18d", "Open science: registration"),
    ("18e", "Open science: data sharing"),
    ("18f", "Open science: code sharing"),
    ("19", "Patient and public involvement"),
    ("20a", "Participants: flow and outcome events"),
    ("20b", "Participants: characteristics"),
    ("20c", "Participants: comparison of development and evaluation data"),
    ("21", "Model development: participants and events in each analysis"),
    ("22", "Model specification"),
    ("23a", "Model performance with confidence intervals (incl. calibration)"),
    ("23b", "Model performance in key subgroups"),
    ("24", "Model updating results"),
    ("25", "Interpretation"),
    ("26", "Limitations"),
    ("27a", "Usability: handling poor-quality or missing input data"),
    ("27b", "Usability: user interaction and expertise"),
    ("27c", "Future research"),
)


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and x != x):
        return "–"
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return str(x)


def _estimate(block: dict | None) -> str:
    if not block or block.get("estimate") is None:
        return "–"
    text = _fmt(block["estimate"])
    if block.get("ci_low") is not None and block.get("ci_high") is not None:
        text += f" (95% CI {_fmt(block['ci_low'])}–{_fmt(block['ci_high'])})"
    return text


def _threshold_text(th: dict | None) -> str:
    if th is None:
        return ""
    rule = {
        "youden": "maximising Youden's J",
        "sensitivity": f"the best specificity at sensitivity ≥ {_fmt(th.get('target'))}",
        "specificity": f"the best sensitivity at specificity ≥ {_fmt(th.get('target'))}",
        "given": "given by the user",
    }[th["rule"]]
    text = f"positive when {th['applies_to']} ≥ {_fmt(th['value'], 4)} (chosen by {rule})"
    if th.get("sensitivity"):
        text += (
            f"; sensitivity {_estimate(th['sensitivity'])}, specificity "
            f"{_estimate(th['specificity'])}, PPV {_estimate(th['ppv'])}, NPV {_estimate(th['npv'])}"
            f" (95% CIs: {th.get('ci_method') or 'not stated'}; n = {th.get('n')})"
        )
    return text


def counts_text(doc: dict[str, Any]) -> str:
    """``"35 with status = 'Dead'"``: the count of class 1 named by the outcome's ``positive``."""
    n = doc["population"].get("n_events")
    positive = (doc.get("outcome") or {}).get("positive")
    if n is None:
        return "events = –"
    return f"{n} with {positive}" if positive else f"events = {n}"


def outcome_text(doc: dict[str, Any]) -> str:
    """The outcome in words: what it is, which class the panel predicts, when, how defined."""
    out = doc.get("outcome") or {}
    name, kind = out.get("name"), out.get("kind")
    what = out.get("description") or name or "an outcome not named in the panel"
    detail = [f"{kind} outcome {name!r}" if kind else f"outcome {name!r}"]
    if out.get("positive"):
        detail.append(f"class 1 = {out['positive']}")
    text = f"{what} ({'; '.join(detail)})"
    definition = out.get("definition")
    if definition and definition not in (name, what):
        text += f": {definition}"
    if out.get("assessed_day") is not None:
        text += f" (assessed at day {_fmt(out['assessed_day'])})"
    return text


def _arms(doc: dict[str, Any]) -> list[str]:
    purpose, pop = doc.get("purpose") or {}, doc["population"]
    arms = purpose.get("arms") or pop.get("arms")
    if not arms:
        arms = [r["arm"] for r in pop.get("landmark_counts") or [] if r["arm"] != "all"]
    return [str(a) for a in arms or ([pop["arm"]] if pop.get("arm") else [])]


def purpose_text(doc: dict[str, Any]) -> str:
    """What the panel is for, who it was fitted on, and what its score means."""
    purpose = doc.get("purpose") or {}
    kind, arms = purpose.get("kind"), _arms(doc)
    fitted = f"fitted on {' and '.join(arms)}" if arms else "arms it was fitted on not recorded"
    if kind == "prognosis":
        return (
            f"Prognosis: predicts the outcome whatever the treatment ({fitted}); it does not "
            "tell who benefits from treatment"
        )
    if kind == "treatment_selection":
        return (
            f"Treatment selection: the score is the {purpose.get('score') or 'predicted benefit'}; "
            f"{purpose.get('decision') or 'treat if the predicted benefit is above the threshold'}"
        )
    if kind == "early_response":
        return (
            f"Early response: a landmark panel scored with markers known by its landmark, for "
            f"patients alive and event-free then ({fitted}); see the landmark line"
        )
    return "not stated (panel exported without a purpose)"


def decision_text(doc: dict[str, Any]) -> str:
    """Who the threshold flags in the training data, and how the threshold was chosen."""
    th = doc["threshold"]
    if th is None:
        return "no decision threshold"
    counts, purpose = th.get("counts"), doc.get("purpose") or {}
    if purpose.get("kind") == "treatment_selection":
        return f"{purpose.get('decision') or 'treat if score ≥ ' + _fmt(th['value'], 4)}"
    positive = (doc.get("outcome") or {}).get("positive") or "class 1"
    what = "predicted probability" if th["applies_to"] == "probability" else "score"
    rule = _threshold_text(th).split(" (chosen by ", 1)[-1].split(")", 1)[0]
    rule_text = f"chosen by {rule}" if th["rule"] != "given" else "given by the user"
    if counts:
        flagged = counts["tp"] + counts["fp"]
        return (
            f"{flagged} of {th['n']} subjects flagged: {what} of {positive} ≥ threshold "
            f"{_fmt(th['value'], 3)} {rule_text} (counted in the predictions the threshold was "
            "chosen on)"
        )
    return f"flagged when the {what} of {positive} is ≥ {_fmt(th['value'], 3)} ({rule_text})"


def landmark_text(doc: dict[str, Any]) -> str:
    """Who the panel is for: ``"A D7 panel: for patients alive and event-free at D7 (…)"``.

    A panel whose ``population.landmark_day`` is ``None`` or ≤ 0 is a baseline panel for all
    randomised subjects with a label; panels exported without the key (by hand, or before the
    landmarks) say it is not recorded.
    """
    pop = doc["population"]
    if "landmark_day" not in pop:
        return "not recorded in the panel"
    day = pop["landmark_day"]
    if day is None or day <= 0:
        return "baseline panel: all randomised subjects with a label"
    visit = pop.get("landmark_visit") or f"D{_fmt(day)}"
    text = f"A {visit} panel: for patients alive and event-free at {visit}"
    total = next((r for r in pop.get("landmark_counts") or [] if r["arm"] == "all"), None)
    if total is None:
        return text
    head = f"{total['n_after']} of {total['n_before']} randomised"
    why = [
        f"{total[key]} {what}"
        for key, what in (
            ("event_before_landmark", f"died or were transplanted before {visit}"),
            ("censored_before_landmark", f"left follow-up before {visit}"),
            ("missing_landmark_visit", f"had no {visit} visit"),
        )
        if total.get(key)
    ]
    return f"{text} ({head}; {', '.join(why)})" if why else f"{text} ({head})"


def _filled(doc: dict[str, Any]) -> dict[str, str]:
    """TRIPOD+AI item → text filled from the panel's own metadata."""
    out: dict[str, str] = {}
    outcome, pop, model = doc["outcome"], doc["population"], doc["model"]
    prov, perf, feats = doc["provenance"], doc["performance"], doc["features"]
    out["1"] = (
        f"Panel {doc['name']!r}: {model['estimator']} predicting "
        f"{outcome.get('description') or outcome.get('name') or '?'}"
        + (f" in arm {pop['arm']}" if pop.get("arm") else "")
    )
    out["4"] = purpose_text(doc)
    inputs = prov.get("inputs") or {}
    if inputs or pop.get("description"):
        text = pop.get("description") or ""
        if inputs:
            text += f" Inputs ({len(inputs)} files, SHA-256 in panel.json provenance)."
        out["5a"] = text.strip()
    if prov.get("study_dates"):
        out["5b"] = str(prov["study_dates"])
    if pop.get("setting"):
        out["6a"] = str(pop["setting"])
    if pop.get("eligibility") or "landmark_day" in pop:
        out["6b"] = str(pop.get("eligibility") or landmark_text(doc))
    if _arms(doc):
        out["6c"] = f"Arm(s): {', '.join(_arms(doc))}"
    out["7"] = "Pipeline: " + " → ".join(model.get("pipeline", [model["estimator"]]))
    censored = [f for f in feats if f.get("censoring")]
    if censored:
        rules = sorted({f["censoring"]["rule"] for f in censored})
        out["7"] += f"; censored values substituted by rule {', '.join(rules)}"
    if outcome.get("definition") or outcome.get("assessed_day") is not None:
        out["8a"] = outcome_text(doc)
    out["9b"] = f"{len(feats)} markers; modality, visit and unit of each in the table below"
    if pop.get("n_subjects") is not None:
        text = f"n = {pop['n_subjects']}"
        if pop.get("n_events") is not None:
            text += ", " + counts_text(doc)
        out["10"] = text + " (how the size was arrived at is not recorded in the panel)"
        out["21"] = text
        if pop.get("n_events") is not None and pop["n_subjects"]:
            out["13"] = (
                f"prevalence of {(outcome.get('positive') or 'events')} "
                f"{pop['n_events'] / pop['n_subjects']:.1%}; no resampling recorded"
            )
    fills = sorted(
        {
            op["op"]
            for t in model["inputs"]
            for op in t["ops"]
            if op["op"].startswith("fill_missing")
        }
    )
    trained = [f for f in feats if f.get("training")]
    if fills or trained:
        n_miss = sum(f["training"].get("n_missing", 0) for f in trained)
        out["11"] = (
            "missing values imputed inside the model (SimpleImputer statistics stored)"
            if fills
            else "no imputation step in the model"
        ) + (f"; {n_miss} missing values in the training data" if trained else "")
    out["12b"] = "as in item 7; transforms and centring/scaling stored per feature"
    if perf:
        out["12c"] = f"{model['estimator']}; validation: {perf.get('validation') or 'not stated'}"
        out["12e"] = ", ".join(perf["metrics"]) or "none recorded"
        out["23a"] = "; ".join(f"{k} {_estimate(v)}" for k, v in perf["metrics"].items())
    else:
        out["12c"] = f"{model['estimator']}; validation not recorded in the panel"
    if doc["threshold"]:
        out["15"] = _threshold_text(doc["threshold"])
    else:
        out["15"] = f"output: {model['output']}; no decision threshold"
    versions = doc.get("software") or {}
    out["18f"] = "software: " + ", ".join(f"{k} {v}" for k, v in versions.items() if v)
    out["22"] = (
        "full model as plain data in panel.json (coefficients/trees, preprocessing, threshold)"
    )
    out["27a"] = (
        "score() refuses missing markers and wrong units; out-of-training-range values are flagged"
    )
    from biomarkers.panel._lineage import tripod_validation_items

    out.update(tripod_validation_items(doc))  # an updated panel: its external validation
    return out


def budget_text(doc: dict[str, Any]) -> str:
    """Panel size against the Riley et al. (2020) budget, with a warning when it is larger."""
    m, k = doc["population"].get("supported_parameters"), len(doc["features"])
    if m is None:
        return ""
    text = (
        f"panel of {k} markers; the data support about {m} candidate parameters (Riley et al. 2020)"
    )
    return text + (f". WARNING: {k} markers > {m}: expect overfitting" if k > m else "")


def card_context(doc: dict[str, Any], markers) -> dict[str, Any]:
    """Everything the card templates show."""
    filled = _filled(doc)
    perf = doc["performance"]
    calibration = perf and any("calib" in k for k in perf["metrics"])
    items = []
    missing = []
    for item, topic in TRIPOD_AI_ITEMS:
        text = filled.get(item)
        if item == "23a" and text and not calibration:
            text += " (calibration not recorded)"
        if text:
            items.append({"item": item, "topic": topic, "text": text})
        else:
            missing.append({"item": item, "topic": topic})
    return {
        "doc": doc,
        "threshold_text": _threshold_text(doc["threshold"]),
        "counts_text": counts_text(doc),
        "landmark_text": landmark_text(doc),
        "outcome_text": outcome_text(doc),
        "purpose_text": purpose_text(doc),
        "decision_text": decision_text(doc),
        "arms_text": ", ".join(_arms(doc)) or "not recorded",
        "budget_text": budget_text(doc),
        "cost_lines": cost_lines(doc),
        "performance": [
            {"name": k, "text": _estimate(v)} for k, v in (perf["metrics"] if perf else {}).items()
        ],
        "markers": markers.reset_index().to_dict(orient="records"),
        "columns": [markers.index.name or "feature", *markers.columns],
        "filled": items,
        "missing": missing,
        "fmt": _fmt,
        "stacked": card_blocks(doc),
    }


_MD = """# Biomarker panel: {{ doc.name }}

{{ doc.description or "" }}

{% if doc.blinded %}**BLINDED dry run: fitted on dummy arms; not a result, not for use.**

{% endif %}- format: {{ doc.format }} version {{ doc.format_version }}{% if doc.migrated_from %} (read from a version-{{ doc.migrated_from.format_version }} file){% endif %}; created {{ doc.created }}
- purpose: {{ purpose_text }}
- outcome: {{ outcome_text }}
- population: arms {{ arms_text }}; visits {{ (doc.population.visits or []) | join(", ") or "–" }}; n = {{ fmt(doc.population.n_subjects) }}, {{ counts_text }}
- landmark: {{ landmark_text }}
- model: {{ doc.model.estimator }} ({{ doc.model.type }}, output {{ doc.model.output }})
{% if threshold_text %}- threshold: {{ threshold_text }}
{% endif %}- decision: {{ decision_text }}
{% if budget_text %}- sample size: {{ budget_text }}
{% endif %}
## Performance
{% if performance %}
Validation: {{ doc.performance.validation or "not stated" }}

| metric | estimate (95% CI) |
|---|---|
{% for p in performance %}| {{ p.name | md }} | {{ p.text | md }} |
{% endfor %}{% else %}
No performance recorded.
{% endif %}
{% if cost_lines %}## Assays a new patient needs

{% for line in cost_lines %}- {{ line }}
{% endfor %}
{% endif %}{% if stacked %}
## Assay blocks

A new patient needs {{ stacked.needs }}; a patient with only some of these assays is scored with
the meta model of the blocks they have (the scores say which were missing and the AUROC lost).

| block | markers | meta weight | AUROC without this block |
|---|---|---|---|
{% for b in stacked.blocks %}| {{ b.block | md }} | {{ b.markers }} | {{ fmt(b.weight) }} | {{ b.without | md }} |
{% endfor %}
Performance per pattern of available blocks ({{ stacked.validation | md }}):

| available blocks | n | AUROC (95% CI) | Brier (95% CI) |
|---|---|---|---|
{% for p in stacked.patterns %}| {{ p.available | md }} | {{ p.n }} | {{ p.auroc | md }} | {{ p.brier | md }} |
{% endfor %}{% endif %}
## Markers

| {{ columns | join(" | ") }} |
|{% for c in columns %}---|{% endfor %}
{% for m in markers %}| {% for c in columns %}{{ fmt(m[c]) | md }} | {% endfor %}
{% endfor %}
## TRIPOD+AI items filled from the panel

| item | topic | from the panel |
|---|---|---|
{% for i in filled %}| {{ i.item }} | {{ i.topic | md }} | {{ i.text | md }} |
{% endfor %}
## TRIPOD+AI items the panel cannot fill (report them elsewhere)

{% for i in missing %}- {{ i.item }} {{ i.topic }}
{% endfor %}"""

_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Biomarker panel: {{ doc.name }}</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}</style></head><body>
<h1>Biomarker panel: {{ doc.name }}</h1>
{% if doc.description %}<p>{{ doc.description }}</p>{% endif %}
{% if doc.blinded %}<p><b>BLINDED dry run: fitted on dummy arms; not a result, not for use.</b></p>{% endif %}
<ul>
<li>format: {{ doc.format }} version {{ doc.format_version }}{% if doc.migrated_from %} (read from a version-{{ doc.migrated_from.format_version }} file){% endif %}; created {{ doc.created }}</li>
<li>purpose: {{ purpose_text }}</li>
<li>outcome: {{ outcome_text }}</li>
<li>population: arms {{ arms_text }}; visits {{ (doc.population.visits or []) | join(", ") or "–" }}; n = {{ fmt(doc.population.n_subjects) }}, {{ counts_text }}</li>
<li>landmark: {{ landmark_text }}</li>
<li>model: {{ doc.model.estimator }} ({{ doc.model.type }}, output {{ doc.model.output }})</li>
{% if threshold_text %}<li>threshold: {{ threshold_text }}</li>{% endif %}
<li>decision: {{ decision_text }}</li>
{% if budget_text %}<li>sample size: {{ budget_text }}</li>{% endif %}
</ul>
<h2>Performance</h2>
{% if performance %}<p>Validation: {{ doc.performance.validation or "not stated" }}</p>
<table><tr><th>metric</th><th>estimate (95% CI)</th></tr>
{% for p in performance %}<tr><td>{{ p.name }}</td><td>{{ p.text }}</td></tr>{% endfor %}
</table>{% else %}<p>No performance recorded.</p>{% endif %}
{% if cost_lines %}<h2>Assays a new patient needs</h2>
<ul>{% for line in cost_lines %}<li>{{ line }}</li>{% endfor %}</ul>{% endif %}
{% if stacked %}<h2>Assay blocks</h2>
<p>A new patient needs {{ stacked.needs }}; a patient with only some of these assays is scored
with the meta model of the blocks they have (the scores say which were missing and the AUROC
lost).</p>
<table><tr><th>block</th><th>markers</th><th>meta weight</th><th>AUROC without this block</th></tr>
{% for b in stacked.blocks %}<tr><td>{{ b.block }}</td><td>{{ b.markers }}</td><td>{{ fmt(b.weight) }}</td><td>{{ b.without }}</td></tr>{% endfor %}
</table>
<p>Performance per pattern of available blocks ({{ stacked.validation }}):</p>
<table><tr><th>available blocks</th><th>n</th><th>AUROC (95% CI)</th><th>Brier (95% CI)</th></tr>
{% for p in stacked.patterns %}<tr><td>{{ p.available }}</td><td>{{ p.n }}</td><td>{{ p.auroc }}</td><td>{{ p.brier }}</td></tr>{% endfor %}
</table>{% endif %}
<h2>Markers</h2>
<table><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for m in markers %}<tr>{% for c in columns %}<td>{{ fmt(m[c]) }}</td>{% endfor %}</tr>
{% endfor %}</table>
<h2>TRIPOD+AI items filled from the panel</h2>
<table><tr><th>item</th><th>topic</th><th>from the panel</th></tr>
{% for i in filled %}<tr><td>{{ i.item }}</td><td>{{ i.topic }}</td><td>{{ i.text }}</td></tr>
{% endfor %}</table>
<h2>TRIPOD+AI items the panel cannot fill (report them elsewhere)</h2>
<ul>{% for i in missing %}<li>{{ i.item }} {{ i.topic }}</li>{% endfor %}</ul>
</body></html>
"""


def _md_cell(value: Any) -> str:
    return " ".join(str(value).split()).replace("|", "\\|")


@lru_cache(maxsize=2)
def _template(*, html: bool):
    import jinja2

    env = jinja2.Environment(autoescape=html, keep_trailing_newline=True)
    env.filters["md"] = _md_cell
    return env.from_string(_HTML if html else _MD)


def render_card(context: dict[str, Any], *, html: bool) -> str:
    """Render the panel card as Markdown or (escaped) HTML."""
    return _template(html=html).render(**context)


def card_blocks(doc: dict[str, Any]) -> dict[str, Any] | None:
    """What the panel card shows of a stacked panel (``None`` for other panels).

    ``blocks``: one row per assay block (markers, meta weight, AUROC with every block but this
    one); ``patterns``: AUROC and Brier score per pattern of available blocks; ``needs``: the
    assays a new patient needs (all for the full performance; any one of them is scored).
    """
    if doc["model"]["type"] != "stacked":
        return None
    st = doc["model"]["stacked"]
    blocks = list(st["blocks"])
    metrics = {frozenset(p["available"]): p for p in st["patterns"]}
    rows = []
    for b in blocks:
        without = metrics.get(frozenset(blocks) - {b})
        rows.append(
            {
                "block": b,
                "markers": len(st["blocks"][b]),
                "weight": st["weights"][b],
                "without": _estimate(without["metrics"].get("auroc")) if without else "–",
            }
        )
    patterns = [
        {
            "available": " + ".join(p["available"]),
            "n": p["n"],
            "auroc": _estimate(p["metrics"].get("auroc")),
            "brier": _estimate(p["metrics"].get("brier")),
        }
        for p in st["patterns"]
    ]
    counts = {b: len(st["blocks"][b]) for b in blocks}
    needs = ", ".join(f"{b} ({n} marker{'s' if n != 1 else ''})" for b, n in counts.items())
    return {
        "blocks": rows,
        "patterns": patterns,
        "needs": needs,
        "validation": st.get("validation") or "not stated",
    }
