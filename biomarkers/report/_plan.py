"""The report's "Analysis plan" section and the marks of a blinded dry run (banner, title).

The run folder says what to show: ``manifest.json`` (``plan``: the locked plan's hash and the
number of deviations; ``blinded``/``blinding``: a dry run on dummy arms) and
``plan_deviations.csv`` (``key, planned, actual, kind``), written by ``biomarkers run --plan``.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import pandas as pd

from biomarkers.report._tables import Section, html_table

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["blinded_banner", "plan_section", "report_title"]

#: What the report says of a run that was checked against no plan.
NO_PLAN = "No pre-registered plan: the run was not checked against a locked analysis plan."


def is_blinded(manifest: dict[str, Any]) -> bool:
    """Whether the run is a blinded dry run (arms replaced by a dummy randomisation)."""
    return bool(manifest.get("blinded"))


def report_title(title: str, manifest: dict[str, Any]) -> str:
    """The report title; a blinded run's says ``BLINDED`` first."""
    return f"BLINDED dry run — {title}" if is_blinded(manifest) else title


def blinded_banner(manifest: dict[str, Any]) -> str:
    """The top-of-report banner of a blinded run (empty for an unblinded one)."""
    if not is_blinded(manifest):
        return ""
    blinding = manifest.get("blinding") or {}
    strata = ", ".join(map(str, blinding.get("strata") or [])) or "none"
    notes = "".join(f" {html.escape(str(n))}." for n in blinding.get("notes") or [])
    return (
        "<div class='banner' role='alert'><b>BLINDED dry run</b>: the arm labels were replaced "
        f"by a dummy randomisation (seed {html.escape(str(blinding.get('seed')))}, strata: "
        f"{html.escape(strata)}; same arm sizes). Nothing below is a treatment effect or a "
        f"result of the trial; it tests the analysis before unblinding.{notes}</div>"
    )


def plan_section(run: Path, manifest: dict[str, Any]) -> Section:
    """The "Analysis plan" section: the plan's hash and every deviation, or no plan."""
    s = Section("plan", "Analysis plan")
    plan = manifest.get("plan")
    if not plan:
        s.text = NO_PLAN
        return s
    deviations = _deviations(run / "plan_deviations.csv")
    head = (
        f"Checked against the locked analysis plan SHA-256 <code>{html.escape(str(plan.get('sha256')))}</code>"
        f" (created {html.escape(str(plan.get('created')))}) on "
        f"{html.escape(str(plan.get('checked_on') or 'unblinded data'))}. "
    )
    if deviations is None:
        s.text = head + "The deviation list (plan_deviations.csv) is missing; see log.txt."
    elif not len(deviations):
        s.text = head + "No deviation: the run's config and software match the plan."
    else:
        counts = deviations["kind"].value_counts()
        by_kind = ", ".join(f"{n} {k}" for k, n in counts.items())
        s.text = head + f"{len(deviations)} deviation(s) from the plan ({by_kind}), all listed."
        s.tables.append(
            ("Deviations from the plan", html_table(deviations, max_rows=len(deviations)))
        )
    return s


def _deviations(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        return pd.DataFrame(columns=["key", "planned", "actual", "kind"])
