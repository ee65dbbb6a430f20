"""``biomarkers.settings`` refuses unknown names and checks the values it is given."""

from __future__ import annotations

from pathlib import Path

import pytest

from biomarkers import settings
from biomarkers._settings import Settings
from biomarkers.exceptions import ConfigError, SettingsError


@pytest.fixture
def fresh():
    return Settings()


def test_misspelt_setting_is_refused_with_the_closest_name(fresh):
    with pytest.raises(SettingsError, match=r"no setting 'progres'; did you mean 'progress'\?"):
        fresh.progres = False
    assert not hasattr(fresh, "progres")


def test_settings_error_is_both_a_config_and_an_attribute_error(fresh):
    with pytest.raises(AttributeError):
        fresh.n_job = 2
    with pytest.raises(ConfigError):
        fresh.n_job = 2


def test_global_settings_refuse_unknown_attributes():
    with pytest.raises(SettingsError, match="progress"):
        settings.progres = False  # the typo of the issue


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("verbosity", 0),
        ("verbosity", 2),
        ("n_jobs", None),
        ("n_jobs", 1),
        ("n_jobs", 4),
        ("n_jobs", -1),
        ("random_state", 0),
        ("random_state", 12345),
        ("progress", False),
    ],
)
def test_known_settings_take_valid_values(fresh, name, value):
    setattr(fresh, name, value)
    assert getattr(fresh, name) == value


def test_figdir_becomes_a_path(fresh):
    fresh.figdir = "out/figs"
    assert fresh.figdir == Path("out/figs")


@pytest.mark.parametrize(
    ("name", "value", "match"),
    [
        ("verbosity", 3, r"verbosity=3 must be 0 \(quiet\)"),
        ("verbosity", "debug", "verbosity='debug'"),
        ("n_jobs", 0, r"n_jobs=0 must be None \(1 process\), -1"),
        ("n_jobs", -2, "n_jobs=-2"),
        ("n_jobs", 2.0, "n_jobs=2.0"),
        ("n_jobs", True, "n_jobs=True"),
        ("random_state", -1, "random_state=-1 must be an int >= 0"),
        ("random_state", None, "random_state=None"),
        ("figdir", 3, "figdir=3 must be a folder path"),
        ("progress", "no", "progress='no' must be True or False"),
    ],
)
def test_bad_values_are_refused_with_the_allowed_ones(fresh, name, value, match):
    before = getattr(fresh, name)
    with pytest.raises(ConfigError, match=match):
        setattr(fresh, name, value)
    assert getattr(fresh, name) == before


def test_constructor_checks_values_too():
    with pytest.raises(ConfigError, match="verbosity=5"):
        Settings(verbosity=5)
