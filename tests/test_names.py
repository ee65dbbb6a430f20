"""The feature-name grammar (biomarkers/_names.py): building, parsing, the day a name is known at."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import biomarkers as bm
from biomarkers._names import (
    FeatureName,
    clean_entity,
    feature_name,
    is_feature_name,
    known_at_day,
    parse_feature_name,
)
from biomarkers.exceptions import SchemaError
from biomarkers.features import build_feature_table
from tests.features.conftest import make_study

pytestmark = pytest.mark.filterwarnings("ignore::biomarkers.exceptions.BelowDetectionLimitWarning")


@pytest.mark.parametrize(
    ("name", "parts", "day"),
    [
        ("cytokine:IL6@D0", ("cytokine", None, "IL6", "value", None, "D0"), 0),
        ("cytokine:IL-6@D28-D0", ("cytokine", None, "IL-6", "delta", "D0", "D28"), 28),
        ("olink:IL6@slope(D0..D28)", ("olink", None, "IL6", "slope", "D0", "D28"), 28),
        ("flow:Treg@auc(D0..D7)", ("flow", None, "Treg", "auc", "D0", "D7"), 7),
        (
            "pseudobulk:CD14_mono:S100A8@D7",
            ("pseudobulk", "CD14_mono", "S100A8", "value", None, "D7"),
            7,
        ),
        ("geneset:CD4_T:TREG@D7-D0", ("geneset", "CD4_T", "TREG", "delta", "D0", "D7"), 7),
        ("clinical:age", ("clinical", None, "age", "value", None, None), np.nan),
        ("flow:CD4@D-7", ("flow", None, "CD4", "value", None, "D-7"), -7),
        ("flow:CD4@D0-D-7", ("flow", None, "CD4", "delta", "D-7", "D0"), 0),
        ("clinical:meld@Day 3", ("clinical", None, "meld", "value", None, "Day 3"), 3),
    ],
)
def test_parse_parts_day_and_round_trip(name, parts, day):
    f = parse_feature_name(name)
    assert (f.modality, f.cell_type, f.entity, f.kind, f.start, f.visit) == parts
    assert str(f) == name
    np.testing.assert_equal(f.day(), float(day))
    np.testing.assert_equal(known_at_day(name), float(day))


def test_a_change_is_known_at_its_later_visit_whatever_the_order():
    # the builders write V2-V1 with V2 the later visit; a hand-written V1-V2 is still known at V2
    assert parse_feature_name("cytokine:IL6@D0-D28").day() == 28
    assert parse_feature_name("cytokine:IL6@slope(D28..D0)").day() == 28


def test_visit_labels_with_a_dash_need_the_schedule():
    visits = {"pre-dose": 0, "wk-2": 14}
    value = parse_feature_name("cytokine:IL6@pre-dose", visits)
    assert (value.kind, value.visit, value.day(visits)) == ("value", "pre-dose", 0)
    change = parse_feature_name("cytokine:IL6@wk-2-pre-dose", visits)
    assert (change.kind, change.visit, change.start) == ("delta", "wk-2", "pre-dose")
    assert known_at_day("cytokine:IL6@wk-2-pre-dose", visits) == 14
    # without the schedule, one dash reads as a change between two visits of unknown day
    assert parse_feature_name("cytokine:IL6@pre-dose").kind == "delta"
    assert np.isnan(known_at_day("cytokine:IL6@pre-dose"))


def test_custom_visits_give_the_day():
    visits = {"baseline": 0, "W4": 28}
    assert known_at_day("olink:IL6@W4-baseline", visits) == 28
    assert np.isnan(known_at_day("olink:IL6@W4-baseline"))  # not in the default schedule


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("IL6@D0", "it has 0 ':'"),
        ("a:b:c:d@D0", "it has 3 ':'"),
        ("cytokine:@D0", "the entity is empty"),
        (":IL6@D0", "the modality is empty"),
        ("cytokine:IL6@", "nothing follows '@'"),
        ("cytokine:IL6@D0@D7", "more than one '@'"),
        ("cytokine:IL6@slope(D0)", "neither V, V2-V1"),
        ("cytokine:IL6@D0..D7", "neither V, V2-V1"),
        ("cytokine:IL6@max(D0..D7)", "neither V, V2-V1"),
    ],
)
def test_invalid_names_raise_one_line_naming_the_name_and_the_grammar(name, reason):
    with pytest.raises(SchemaError, match="does not follow the grammar modality:entity@visit") as e:
        parse_feature_name(name)
    message = str(e.value)
    assert repr(name) in message
    assert reason in message
    assert "\n" not in message
    assert not is_feature_name(name)


def test_known_at_day_of_names_outside_the_grammar():
    assert known_at_day("IL6@D28") == 28
    assert known_at_day("IL6@D28-D0") == 28
    assert known_at_day("IL6@slope(D0..D28)") == 28
    assert np.isnan(known_at_day("age"))
    assert np.isnan(known_at_day("IL6@whenever"))


def test_builder_cleans_entities_and_checks_parts():
    assert feature_name("flow", "CD14+ HLA-DR/low", "D0") == "flow:CD14+_HLA-DR_low@D0"
    assert clean_entity(" a:b@c ") == "a_b_c"
    assert feature_name(
        "pseudobulk", "S100A8", "D7", start="D0", kind="delta", cell_type="CD14 mono"
    ) == ("pseudobulk:CD14_mono:S100A8@D7-D0")
    assert (
        feature_name("cytokine", "IL6", "D7", start="D0", kind="auc") == "cytokine:IL6@auc(D0..D7)"
    )
    with pytest.raises(SchemaError, match="a slope needs a first and a last visit"):
        feature_name("cytokine", "IL6", "D7", kind="slope")
    with pytest.raises(SchemaError, match="a value has one visit"):
        feature_name("cytokine", "IL6", "D7", start="D0")
    with pytest.raises(SchemaError, match="kind 'mean' is not one of value, delta, slope, auc"):
        feature_name("cytokine", "IL6", "D7", kind="mean")
    with pytest.raises(SchemaError, match=r"the visit 'D\(7\)' contains '\('"):
        feature_name("cytokine", "IL6", "D(7)")


def test_public_re_exports_are_the_grammar():
    assert bm.features.FeatureName is FeatureName
    assert bm.features.parse_feature_name is parse_feature_name
    assert bm.features.feature_name is feature_name
    assert bm.features.known_at_day is known_at_day


def test_every_name_the_feature_table_builds_parses_to_its_var_row(tmp_path):
    study = make_study(cell_path=tmp_path / "cells.h5ad")
    ft = build_feature_table(
        study,
        visits=["D0", "D7"],
        blocks={
            "clinical": {},
            "cytokines": {},
            "flow": {},
            "composition": {"min_cells": 10},
            "pseudobulk": {"cell_types": ["CD4_T"], "genes": ["FOXP3", "CD3D"], "min_cells": 5},
            "geneset": {"gene_sets": {"TREG": ["FOXP3", "IL2RA", "CTLA4"]}},
            "deltas": True,
            "slope": True,
            "auc": True,
        },
    )
    visits = ft.uns["feature_table"]["params"]["visit_days"]
    kinds = set()
    for name, row in ft.var.iterrows():
        f = parse_feature_name(name, visits)
        assert str(f) == name
        assert (f.modality, f.kind, f.var_visit) == (row["modality"], row["kind"], row["visit"])
        assert f.entity == clean_entity(row["entity"])
        assert (f.cell_type or "") == (row.get("cell_type") or "")
        assert f.day(visits) == row["day"], name
        kinds.add((f.modality, f.kind, f.cell_type is not None))
    assert {
        ("pseudobulk", "delta", True),
        ("geneset", "slope", True),
        ("flow", "auc", False),
    } <= kinds


# ---- round trip: str(parse(name)) == name for every name the grammar can express
_PART = st.text(
    alphabet=st.characters(blacklist_characters=":@", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=8,
)
_PLAIN_VISIT = st.text(
    alphabet=st.characters(blacklist_characters="@()-.", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=6,
)
_DASH_VISIT = st.text(
    alphabet=st.characters(blacklist_characters="@().", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=6,
)


@st.composite
def _names(draw, visit_labels):
    kind = draw(st.sampled_from(["value", "delta", "slope", "auc", "none"]))
    first, last = draw(st.lists(visit_labels, min_size=2, max_size=2, unique=True))
    return FeatureName(
        draw(_PART),
        draw(_PART),
        None if kind == "none" else last,
        start=None if kind in ("value", "none") else first,
        kind="value" if kind == "none" else kind,
        cell_type=draw(st.none() | _PART),
    ), {first: draw(st.integers(-30, 400)), last: draw(st.integers(-30, 400))}


@given(_names(_PLAIN_VISIT))
def test_round_trip_without_a_schedule(case):
    f, _ = case
    assert parse_feature_name(str(f)) == f


@given(_names(_DASH_VISIT))
def test_round_trip_with_the_schedule_and_known_at_day(case):
    f, visits = case
    assert parse_feature_name(str(f), visits) == f
    expected = max((visits[v] for v in f.visits), default=np.nan)
    np.testing.assert_equal(known_at_day(str(f), visits), float(expected))
