"""Signed panels (HMAC-SHA256, key from BIOMARKERS_PANEL_KEY) and the panel-JSON refusals of issue 22."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from biomarkers._signing import ALLOW_UNSIGNED_ENV, KEY_ENV, signature
from biomarkers.exceptions import PanelFormatError
from biomarkers.panel import BiomarkerPanel
from biomarkers.panel._format import checksum

KEY = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _no_key(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(ALLOW_UNSIGNED_ENV, raising=False)


def _panel() -> BiomarkerPanel:
    return BiomarkerPanel.from_weights(
        {"cytokine:IL6@D0": 0.8, "clinical:meld@D0": 0.1},
        intercept=-3.0,
        threshold=0.5,
        features_meta={"cytokine:IL6@D0": {"scale": 2.0, "centre": 1.0}},
    )


def _doc(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _rewrite(path: Path, doc: dict) -> None:
    """Write ``doc`` back with a recomputed checksum, as a tamperer would."""
    doc["checksum"] = checksum(doc)
    path.write_text(json.dumps(doc), encoding="utf-8")


@pytest.fixture
def signed(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv(KEY_ENV, KEY)
    return _panel().write(tmp_path / "panel")


def test_export_with_key_signs_and_read_verifies(signed, monkeypatch):
    doc = _doc(signed)
    assert doc["signature"] == signature(doc, KEY.encode())
    assert doc["signature"].startswith("hmac-sha256:")
    assert BiomarkerPanel.read(signed).features == ["cytokine:IL6@D0", "clinical:meld@D0"]


def test_export_without_key_is_unsigned(tmp_path):
    assert "signature" not in _doc(_panel().write(tmp_path / "panel"))


def test_tampered_coefficient_with_recomputed_checksum_is_refused(signed):
    doc = _doc(signed)
    doc["model"]["coefficients"][0] = 8.0
    _rewrite(signed, doc)
    with pytest.raises(PanelFormatError, match=r"panel\.json: signature mismatch.*changed after"):
        BiomarkerPanel.read(signed)
    with pytest.raises(PanelFormatError, match="signature mismatch"):  # not even with this flag
        BiomarkerPanel.read(signed, verify_checksum=False)


def test_checksum_alone_does_not_detect_tampering(signed, monkeypatch):
    """Why signatures exist: without the key configured, the same edit reads fine."""
    doc = _doc(signed)
    doc["model"]["coefficients"][0] = 8.0
    _rewrite(signed, doc)
    monkeypatch.delenv(KEY_ENV)
    assert BiomarkerPanel.read(signed).to_dict()["model"]["coefficients"][0] == 8.0


def test_wrong_key_is_refused(signed, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "another key")
    with pytest.raises(PanelFormatError, match=r"signature mismatch.*right BIOMARKERS_PANEL_KEY"):
        BiomarkerPanel.read(signed)


def test_unsigned_panel_with_key_is_refused_unless_allowed(tmp_path, monkeypatch):
    path = _panel().write(tmp_path / "panel")
    monkeypatch.setenv(KEY_ENV, KEY)
    with pytest.raises(
        PanelFormatError, match=rf"not signed but {KEY_ENV} is set.*{ALLOW_UNSIGNED_ENV}=1"
    ):
        BiomarkerPanel.read(path)
    monkeypatch.setenv(ALLOW_UNSIGNED_ENV, "1")
    assert BiomarkerPanel.read(path).threshold == 0.5


def test_stripped_signature_is_refused(signed):
    doc = _doc(signed)
    del doc["signature"]
    _rewrite(signed, doc)
    with pytest.raises(PanelFormatError, match="not signed"):
        BiomarkerPanel.read(signed)


def test_malformed_signature_is_refused_by_the_schema(signed):
    doc = _doc(signed)
    doc["signature"] = "md5:abc"
    _rewrite(signed, doc)
    with pytest.raises(PanelFormatError, match=r"\$\.signature"):
        BiomarkerPanel.read(signed)


def test_resaving_without_key_drops_a_stale_signature(signed, tmp_path, monkeypatch):
    panel = BiomarkerPanel.read(signed)
    monkeypatch.delenv(KEY_ENV)
    assert "signature" not in _doc(panel.write(tmp_path / "again"))


def test_cli_score_refuses_a_tampered_signed_panel(signed, tmp_path, monkeypatch):
    from tests.hardening.helpers import PANEL, invoke

    doc = _doc(signed)
    doc["model"]["intercept"] = 5.0
    _rewrite(signed, doc)
    monkeypatch.chdir(tmp_path)
    args = ["score", str(signed), str(PANEL / "features.csv"), "--out", str(tmp_path / "s.csv")]
    result = invoke(args)
    assert result.exit_code == 2, result.output
    assert "signature mismatch" in result.stderr
    assert not (tmp_path / "s.csv").exists()


# ------------------------------------------------------------------ panel JSON refusals


@pytest.fixture
def written(tmp_path) -> Path:
    return _panel().write(tmp_path / "plain")


@pytest.mark.parametrize(
    "where",
    ['"name": ', '"intercept": ', '"scale": ', '"value": '],
    ids=["top", "model", "feature", "op_value"],
)
def test_duplicate_keys_at_any_depth_are_refused(written, where):
    text = written.read_text(encoding="utf-8")
    start = text.index(where)
    line_end = text.index("\n", start)
    line = text[start:line_end].rstrip(",")
    dup = text[:start] + line + ",\n" + text[start:]
    written.write_text(dup, encoding="utf-8")
    key = where.strip('": ')
    with pytest.raises(
        PanelFormatError, match=rf"panel\.json: duplicate key '{key}' in the panel JSON"
    ):
        BiomarkerPanel.read(written)


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "NaN", "Infinity", "-Infinity"])
def test_numbers_out_of_range_are_refused(written, literal):
    doc = _doc(written)
    text = json.dumps(doc).replace('"intercept": -3.0', f'"intercept": {literal}')
    assert literal in text
    written.write_text(text, encoding="utf-8")
    with pytest.raises(
        PanelFormatError, match=r"panel\.json: not valid JSON \((number|non-standard)"
    ):
        BiomarkerPanel.read(written)


def test_scale_of_zero_is_refused(written):
    doc = _doc(written)
    doc["features"][0]["scale"] = 0
    for term in doc["model"]["inputs"]:
        for op in term["ops"]:
            if op["op"] == "divide":
                op["value"] = 0.0
    _rewrite(written, doc)
    with pytest.raises(PanelFormatError, match=r"\$\.features\[0\]\.scale: scale 0"):
        BiomarkerPanel.read(written)


def test_divide_by_zero_step_is_refused(written):
    doc = _doc(written)
    term = next(t for t in doc["model"]["inputs"] if any(o["op"] == "divide" for o in t["ops"]))
    next(o for o in term["ops"] if o["op"] == "divide")["value"] = 0
    _rewrite(written, doc)
    with pytest.raises(PanelFormatError, match=r"ops\[\d+\]: divide by 0"):
        BiomarkerPanel.read(written)


def test_non_finite_threshold_from_the_api_is_refused():
    doc = _panel().to_dict()
    doc["threshold"]["value"] = float("nan")
    doc.pop("checksum")
    with pytest.raises(PanelFormatError, match=r"\$\.threshold\.value: nan is not a finite number"):
        BiomarkerPanel(doc)
