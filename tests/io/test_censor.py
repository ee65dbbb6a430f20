from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biomarkers.exceptions import ConfigError, SchemaError
from biomarkers.io import CENSOR_CODES, parse_censored

OK, BELOW, ABOVE, EXTRA, MISSING = (
    CENSOR_CODES[k] for k in ("ok", "below", "above", "extrapolated", "missing")
)
NAN = float("nan")

CASES = [
    ("3.2", 3.2, OK),
    ("-1.5e2", -150.0, OK),
    ("<3.2", 3.2, BELOW),
    ("< 3.20", 3.2, BELOW),
    ("<<0.5", 0.5, BELOW),
    ("<=2", 2.0, BELOW),
    (">10000", 10000.0, ABOVE),
    ("> 10,000", 10000.0, ABOVE),
    ("OOR <", NAN, BELOW),
    ("oor<", NAN, BELOW),
    ("OOR >", NAN, ABOVE),
    ("*12.3", 12.3, EXTRA),
    ("* 0.5", 0.5, EXTRA),
    ("***", NAN, MISSING),
    ("---", NAN, MISSING),
    ("NaN", NAN, MISSING),
    ("", NAN, MISSING),
    ("   ", NAN, MISSING),
    ("<LLOQ", NAN, BELOW),
    ("< lloq", NAN, BELOW),
    (">ULOQ", NAN, ABOVE),
    ("Out of Range", NAN, MISSING),
    ("Below Fit Curve Range", NAN, BELOW),
    ("Above Detection Range", NAN, ABOVE),
    ("1,234,567.5", 1234567.5, OK),
    (None, NAN, MISSING),
    (2.5, 2.5, OK),
    (NAN, NAN, MISSING),
]


@pytest.mark.parametrize(("raw", "value", "code"), CASES, ids=[repr(c[0]) for c in CASES])
def test_parse_censored_cases(raw, value, code):
    v, c = parse_censored([raw])
    assert c.dtype == np.int8
    assert int(c[0]) == code
    if math.isnan(value):
        assert math.isnan(v[0])
    else:
        assert v[0] == pytest.approx(value)


def test_parse_censored_vectorised_matches_elementwise():
    raws = [c[0] for c in CASES]
    v, c = parse_censored(raws)
    for i, raw in enumerate(raws):
        vi, ci = parse_censored([raw])
        assert c[i] == ci[0]
        assert (math.isnan(v[i]) and math.isnan(vi[0])) or v[i] == vi[0]


def test_numeric_array_fast_path():
    v, c = parse_censored(np.array([1.0, np.nan, 3]))
    assert c.tolist() == [OK, MISSING, OK]
    assert v[2] == 3.0


def test_decimal_comma():
    v, c = parse_censored(["3,2", "-0,5", "<1,5", "1.234,5"], decimal=",")
    np.testing.assert_allclose(v, [3.2, -0.5, 1.5, 1234.5])
    assert c.tolist() == [OK, OK, BELOW, OK]


def test_decimal_comma_refused_with_dot_decimal():
    with pytest.raises(SchemaError, match="'3,2' is not a number"):
        parse_censored(["3,2"])


@pytest.mark.parametrize("junk", ["abc", "12abc", "1.2.3", "inf", "<<>>", "*", "3,2,1"])
def test_junk_raises_with_location(junk):
    with pytest.raises(
        SchemaError, match=r"f\.csv, row 7, column 'value': value .* is not a number"
    ):
        parse_censored(["1", junk], source="f.csv", column="value", rows=[6, 7])


def test_error_counts_bad_values():
    with pytest.raises(SchemaError, match=r"\(2 such values in all\)"):
        parse_censored(["x", "1", "y"])


def test_bad_decimal_argument():
    with pytest.raises(ConfigError, match=r"decimal=';' is not supported; use one of: '\.', ','"):
        parse_censored(["1"], decimal=";")


finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)


@settings(max_examples=200, deadline=None)
@given(x=finite, prefix=st.sampled_from(["", "<", ">", "*", "< ", "> ", "<<", ">>"]))
def test_roundtrip_formatted_numbers(x, prefix):
    expected = {"": OK, "<": BELOW, ">": ABOVE, "*": EXTRA}[prefix.strip()[:1] if prefix else ""]
    for text in (f"{x!r}", f"{x:.6g}", f"{x:,.3f}", f"{x:.3e}"):
        v, c = parse_censored([f"{prefix}{text}"])
        assert c[0] == expected
        assert v[0] == pytest.approx(float(text.replace(",", "")), rel=1e-12, abs=0)


@settings(max_examples=300, deadline=None)
@given(junk=st.text(max_size=12))
def test_random_text_is_token_or_schema_error(junk):
    try:
        v, c = parse_censored([junk])
    except SchemaError as err:
        message = str(err)
        v = c = None
    if c is None:
        assert "is not a number or a known censoring token" in message
        return
    assert c[0] in CENSOR_CODES.values()
    assert c.dtype == np.int8
    if c[0] == MISSING:
        assert math.isnan(v[0])
