from __future__ import annotations

import pytest

from biomarkers.panel import BiomarkerPanel
from biomarkers.panel._card import TRIPOD_AI_ITEMS


@pytest.fixture
def panel():
    return BiomarkerPanel.from_weights(
        {"cytokine:IL6@D0": 0.8, "flow:Treg@D0": -0.3},
        intercept=-1.0,
        features_meta={
            "cytokine:IL6@D0": {
                "unit": "pg/mL",
                "transform": "log2",
                "training": {"min": 1, "max": 900, "median": 20, "n": 80},
            },
        },
        threshold=0.4,
        outcome={
            "name": "tfs_d90",
            "kind": "binary",
            "definition": "alive without transplant",
            "assessed_day": 90,
        },
        population={
            "arm": "ucMSC+SMT",
            "visits": ["D0"],
            "n_subjects": 80,
            "n_events": 30,
            "description": "Phase-II RCT",
        },
        performance={
            "validation": "5×5 nested CV",
            "metrics": {"auroc": (0.78, 0.69, 0.86), "calibration_slope": (0.9, 0.6, 1.2)},
        },
        provenance={"inputs": {"clinical.csv": "0" * 64}},
        name="<script>alert(1)</script> IL6 | Treg",
    )


def test_markdown_card_fills_items_it_can(panel):
    md = panel.card()
    filled, missing = md.split("## TRIPOD+AI items the panel cannot fill")
    for item, text in [
        ("5a", "Phase-II RCT"),
        ("6c", "ucMSC+SMT"),
        ("8a", "alive without transplant (assessed at day 90)"),
        ("10", "n = 80, events = 30"),
        ("12c", "5×5 nested CV"),
        ("15", "probability ≥ 0.4"),
        ("22", "plain data"),
        ("23a", "auroc 0.78 (95% CI 0.69–0.86)"),
    ]:
        row = next(line for line in filled.splitlines() if line.startswith(f"| {item} |"))
        assert text in row, (item, row)
    # items the panel cannot know are listed, each exactly once
    for item in ("14", "17", "18a", "19", "25", "26"):
        assert f"- {item} " in missing
    n_rows = sum(line.startswith("| ") and line[2:3].isdigit() for line in filled.splitlines())
    assert n_rows + missing.count("\n- ") == len(TRIPOD_AI_ITEMS)
    assert "IL6 \\| Treg" in md  # pipes escaped inside the Markdown tables
    assert "calibration not recorded" not in md


def test_html_card_is_escaped(panel):
    html = panel.card(html=True)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert html.startswith("<!DOCTYPE html>")
    assert "cytokine:IL6@D0" in html


def test_card_says_when_calibration_is_missing():
    panel = BiomarkerPanel.from_weights(
        {"a:b@D0": 1.0}, intercept=0.0, performance={"validation": "cv", "metrics": {"auroc": 0.7}}
    )
    assert "calibration not recorded" in panel.card()
    assert "no decision threshold" in panel.card()
