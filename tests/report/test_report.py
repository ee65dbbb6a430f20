from __future__ import annotations

import re

from biomarkers.report import write_report


def test_report_is_self_contained_and_has_sections(fake_run):
    run = fake_run
    path = write_report(run)
    html = path.read_text()
    assert path == run / "report.html"
    for section in ("cohort", "outcome", "performance", "markers", "methods", "provenance"):
        assert f'id="{section}"' in html
    assert "0.600 – 0.800" in html  # the CI is shown next to the estimate
    assert "cytokine:IL6@D0" in html
    # figures embedded, saved beside it, and nothing fetched from the network
    assert len(re.findall(r'src="data:image/png;base64,', html)) >= 5
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert (run / "figures" / "roc.png").is_file()
    assert (run / "figures" / "roc.svg").is_file()
    assert "Not in this run" not in html
    assert "2× repeated, stratified 5-fold" in html


def test_report_without_results_still_renders(tmp_path):
    run = tmp_path / "empty"
    run.mkdir()
    html = write_report(run).read_text()
    assert "Not in this run: cohort, performance, markers" in html


def test_report_names_the_interval_and_says_no_evidence_below_chance(fake_run):
    import json

    import pandas as pd

    run = fake_run
    pd.DataFrame(
        {
            "model": ["enet", "enet"],
            "metric": ["auroc", "auroc_pooled"],
            "estimate": [0.33, 0.31],
            "ci_low": [0.21, 0.2],
            "ci_high": [0.45, 0.4],
            "n": [60, 60],
            "interval": ["nested_cv", "bootstrap"],
            "verdict": ["no evidence of discrimination", None],
        }
    ).to_csv(run / "performance.csv", index=False)
    (run / "settings.json").write_text(json.dumps({"interval": "nested_cv"}))
    html = write_report(run).read_text()
    assert "95% CI (nested-CV, Bates et al. 2023)" in html
    assert "no evidence of discrimination" in html
    assert "subject bootstrap of pooled out-of-fold predictions" in html  # the auroc_pooled row
    assert "95% bootstrap confidence intervals (100 resamples" in html  # methods: other metrics
