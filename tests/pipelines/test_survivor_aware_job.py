"""The mechanism steps' survivor-aware weights use a baseline severity score when there is one."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from pipelines.mechanism import _ipw_covariates


def test_first_complete_numeric_severity_score_is_used():
    clinical = pd.DataFrame({"aarc_score": [8, 10], "meld": [20.0, 31.0], "age": [50, 60]})
    assert _ipw_covariates(SimpleNamespace(clinical=clinical)) == ["aarc_score"]


def test_incomplete_or_text_scores_are_skipped():
    clinical = pd.DataFrame({"aarc_score": [8, None], "meld": ["high", "low"]})
    assert _ipw_covariates(SimpleNamespace(clinical=clinical)) == []
