"""One ``check_choice``: a bad argument choice raises ConfigError naming the argument and choices."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import biomarkers as bm
from biomarkers._validation import check_choice
from biomarkers.exceptions import ConfigError


def _cells() -> ad.AnnData:
    obs = pd.DataFrame({"sample_id": ["a", "b"], "cell_type": ["x", "x"]}, index=["c1", "c2"])
    return ad.AnnData(np.ones((2, 2)), obs=obs)


CASES = {
    "clinical.meld": (lambda: bm.clinical.meld(1.0, 1.0, 1.0, version="unoss"), "version", "unoss", ["unos", "kamath"]),
    "io.parse_censored": (lambda: bm.io.parse_censored(["1"], decimal=";"), "decimal", ";", [".", ","]),
    "models.available_models": (lambda: bm.models.available_models(task="binaryy"), "task", "binaryy", ["binary", "survival"]),
    "mechanism.enrichment": (lambda: bm.mechanism.enrichment(pd.DataFrame(), method="ulmm"), "method", "ulmm", ["ulm", "mlm"]),
    "mechanism.links": (lambda: bm.mechanism.links({}, method="kendal"), "method", "kendal", ["spearman", "pearson"]),
    "mechanism.composition_change": (lambda: bm.mechanism.composition_change(None, transform="logit2"), "transform", "logit2", ["clr", "logit"]),
    "mechanism.pseudobulk_de": (lambda: bm.mechanism.pseudobulk_de(None, method="edger"), "method", "edger", ["pydeseq2"]),
    "features.pseudobulk": (lambda: bm.features.pseudobulk(_cells(), func="median"), "func", "median", ["sum", "mean"]),
    "features.CensoredValueImputer": (lambda: bm.features.CensoredValueImputer("lod").fit(np.ones((3, 2))), "rule", "lod", ["keep", "lod_sqrt2"]),
    "datasets.simulate_trial": (lambda: bm.datasets.simulate_trial("unused", scenario="strongg"), "scenario", "strongg", ["default", "strong"]),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_choice_raises_config_error_naming_argument_and_choices(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # simulate_trial must not write anything before refusing
    call, name, value, allowed = CASES[case]
    with pytest.raises(ConfigError) as info:
        call()
    text = str(info.value)
    assert f"{name}={value!r} is not supported" in text
    for choice in allowed:
        assert repr(choice) in text.split("use one of:")[1]
    assert list(tmp_path.iterdir()) == []


def test_check_choice_suggests_the_closest_and_accepts_valid_values():
    check_choice("method", "ulm", ["ulm", "mlm"])  # no error
    with pytest.raises(
        ConfigError, match=r"^src: method='ulmm' is not supported; did you mean 'ulm'\?"
    ):
        check_choice("method", "ulmm", ["ulm", "mlm"], source="src")
    with pytest.raises(ConfigError, match=r"allow_missing=\['x'\] is not supported"):
        check_choice("allow_missing", ["x"], [None, "impute_training_median"])  # unhashable
