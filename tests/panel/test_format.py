from __future__ import annotations

import contextlib
import json
import pickle

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from biomarkers.exceptions import InputFileError, PanelFormatError
from biomarkers.panel import BiomarkerPanel
from biomarkers.panel._format import checksum, schema

TOP_LEVEL = [
    "format",
    "format_version",
    "name",
    "description",
    "created",
    "software",
    "outcome",
    "population",
    "features",
    "model",
    "threshold",
    "performance",
    "provenance",
    "checksum",
]


@pytest.fixture
def written(clean_trial, tmp_path):
    df, y = clean_trial
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(df, y)
    panel = BiomarkerPanel.from_estimator(
        pipe,
        X=df,
        y_true=y,
        y_score=pipe.predict_proba(df)[:, 1],
        outcome={
            "name": "tfs_d90",
            "kind": "binary",
            "definition": "alive, no LT",
            "assessed_day": 90,
        },
        population={"arm": "ucMSC+SMT", "visits": ["D0"]},
        performance={"validation": "5x5 nested CV", "metrics": {"auroc": (0.8, 0.7, 0.9)}},
        provenance={"inputs": {"clinical.csv": "ab" * 32}, "config_sha256": "cd" * 32, "seed": 0},
        name="IL6 panel",
    )
    path = panel.write(tmp_path / "panel")
    return panel, path


def _edit(path, change):
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def test_format_is_pinned(written):
    panel, path = written
    doc = json.loads(path.read_text())
    assert list(doc) == TOP_LEVEL
    assert doc["format"] == "biomarkers.panel"
    assert doc["format_version"] == 2
    assert doc["checksum"] == checksum(doc)
    assert doc["model"]["type"] == "linear"
    assert doc["threshold"]["rule"] == "youden"
    assert doc["performance"]["metrics"]["auroc"] == {
        "estimate": 0.8,
        "ci_low": 0.7,
        "ci_high": 0.9,
    }
    assert BiomarkerPanel.read(path).to_dict() == panel.to_dict()
    assert BiomarkerPanel.read(path.parent).to_dict() == panel.to_dict()


def test_schema_is_valid_and_matches_document(written):
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(schema())
    jsonschema.validate(written[0].to_dict(), schema(), cls=jsonschema.Draft202012Validator)


def test_unknown_version_refused(written):
    _, path = written
    _edit(path, lambda d: d.update(format_version=3))
    with pytest.raises(PanelFormatError, match="unknown panel format_version 3; it is newer"):
        BiomarkerPanel.read(path)
    _edit(path, lambda d: d.update(format_version="1"))
    with pytest.raises(PanelFormatError, match="unknown panel format_version '1'"):
        BiomarkerPanel.read(path)


def test_not_a_panel_refused(written):
    _, path = written
    _edit(path, lambda d: d.update(format="something.else"))
    with pytest.raises(PanelFormatError, match="not a biomarkers panel"):
        BiomarkerPanel.read(path)


def test_missing_field_refused_with_path(written):
    _, path = written
    _edit(path, lambda d: d.pop("model"))
    with pytest.raises(
        PanelFormatError, match=r"invalid panel at \$: 'model' is a required property"
    ):
        BiomarkerPanel.read(path)


def test_missing_nested_field_refused_with_path(written):
    _, path = written
    _edit(path, lambda d: d["features"][0].pop("unit"))
    with pytest.raises(
        PanelFormatError, match=r"invalid panel at \$\.features\[0\]: 'unit' is a required"
    ):
        BiomarkerPanel.read(path)


def test_bad_type_refused_with_path(written):
    _, path = written
    _edit(path, lambda d: d["model"].update(intercept="-1.5"))
    with pytest.raises(
        PanelFormatError,
        match=r"invalid panel at \$\.model\.intercept: '-1.5' is not of type 'number'",
    ):
        BiomarkerPanel.read(path)


def test_bad_op_refused_with_path(written):
    _, path = written
    _edit(
        path, lambda d: d["model"]["inputs"][1]["ops"].append({"op": "eval", "value": "os.system"})
    )
    with pytest.raises(PanelFormatError, match=r"\$\.model\.inputs\[1\]\.ops\[2\]\.op"):
        BiomarkerPanel.read(path)


def test_coefficient_count_checked(written):
    _, path = written
    _edit(path, lambda d: d["model"]["coefficients"].pop())
    with pytest.raises(
        PanelFormatError, match=r"\$\.model\.coefficients: 5 coefficients for 6 model inputs"
    ):
        BiomarkerPanel.read(path, verify_checksum=False)


def test_pickle_renamed_json_refused(written, tmp_path):
    panel, _ = written
    bad = tmp_path / "evil" / "panel.json"
    bad.parent.mkdir()
    bad.write_bytes(pickle.dumps(panel.to_dict()))
    with pytest.raises(PanelFormatError, match=r"looks like a Python pickle.*never unpickled"):
        BiomarkerPanel.read(bad)
    bad.write_bytes(pickle.dumps(panel.to_dict(), protocol=0))
    with pytest.raises(PanelFormatError, match=r"not a JSON panel file|not valid JSON"):
        BiomarkerPanel.read(bad)


def test_binary_and_garbage_refused(tmp_path):
    path = tmp_path / "panel.json"
    path.write_bytes(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(PanelFormatError, match="looks like binary data"):
        BiomarkerPanel.read(path)
    path.write_bytes(b"\xff\xfe not utf8")
    with pytest.raises(PanelFormatError, match="not UTF-8 text"):
        BiomarkerPanel.read(path)
    path.write_text('{"format": ')
    with pytest.raises(PanelFormatError, match="not valid JSON"):
        BiomarkerPanel.read(path)
    path.write_text("[1, 2]")
    with pytest.raises(PanelFormatError, match="holds a JSON object; found a JSON list"):
        BiomarkerPanel.read(path)
    path.write_text("")
    with pytest.raises(PanelFormatError, match="empty"):
        BiomarkerPanel.read(path)
    with pytest.raises(InputFileError, match="not found"):
        BiomarkerPanel.read(tmp_path / "nowhere")


def test_nan_constant_refused(written):
    _, path = written
    path.write_text(path.read_text().replace('"intercept": ', '"intercept": NaN, "x": ', 1))
    with pytest.raises(PanelFormatError, match=r"not valid JSON.*NaN"):
        BiomarkerPanel.read(path)


def test_checksum_detects_edit(written):
    panel, path = written
    _edit(path, lambda d: d["model"]["coefficients"].__setitem__(0, 9.0))
    with pytest.raises(PanelFormatError, match="checksum mismatch"):
        BiomarkerPanel.read(path)
    edited = BiomarkerPanel.read(path, verify_checksum=False)
    assert edited.to_dict()["model"]["coefficients"][0] == 9.0
    assert edited.to_dict()["checksum"] != panel.to_dict()["checksum"]


def test_damaged_booster_refused(clean_trial, tmp_path):
    xgb = pytest.importorskip("xgboost")
    df, y = clean_trial
    model = xgb.XGBClassifier(n_estimators=2, max_depth=1, n_jobs=1).fit(df, y)
    path = BiomarkerPanel.from_estimator(model, X=df, threshold=0.5).write(tmp_path / "x")
    _edit(path, lambda d: d["model"]["booster"]["learner"].pop("gradient_booster"))
    with pytest.raises(PanelFormatError, match=r"\$\.model\.booster: xgboost cannot load it"):
        BiomarkerPanel.read(path, verify_checksum=False)


def test_json_written_without_nan(written):
    _, path = written
    text = path.read_text()
    assert "NaN" not in text
    assert "Infinity" not in text
    doc = json.loads(text)
    assert np.isfinite(doc["model"]["intercept"])


def _paths(obj, prefix=()):
    """Every path into a JSON document (skipping the large XGBoost model)."""
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, (*prefix, i))


def test_random_tampering_is_refused_or_harmless(written, tmp_path):
    """Whatever single value is replaced, read() either works or raises PanelFormatError."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from biomarkers.exceptions import BiomarkersError

    panel, _ = written
    base = panel.to_dict()
    paths = [p for p in _paths(base) if p]
    values = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-3, 3),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=5),
        st.just([]),
        st.just({}),
        st.just({"op": "eval"}),
    )

    @settings(max_examples=80, deadline=None, database=None)
    @given(st.sampled_from(paths), values)
    def check(path, value):
        doc = json.loads(json.dumps(base))
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        file = tmp_path / "t.json"
        file.write_text(json.dumps(doc))
        try:
            again = BiomarkerPanel.read(file, verify_checksum=False)
        except PanelFormatError:
            return
        import pandas as pd

        data = pd.DataFrame(np.ones((2, len(again.features))), columns=again.features)
        data.index = ["a", "b"]
        with contextlib.suppress(BiomarkersError):
            again.score(data)

    check()
