"""One argument vocabulary in mechanism / qc / pl: ``*_key`` columns, ``groupby``, ``n_jobs``."""

from __future__ import annotations

import inspect

import pytest

import biomarkers.mechanism as mech
import biomarkers.pl as pl
import biomarkers.qc as qc
from biomarkers._parallel import resolve_n_jobs
from biomarkers._settings import settings
from biomarkers.exceptions import ConfigError

# the names these concepts had before (issue 16) and other spellings of the same concept
RETIRED = {
    "n_cpus": "n_jobs",
    "n_workers": "n_jobs",
    "workers": "n_jobs",
    "seed": "random_state",
    "group_key": "groupby",
    "group": "groupby",
    "time_key": "visit_key",
    "subject": "subject_key",
    "cell_type_key": "groups_key",
    "celltype_key": "groups_key",
}

FUNCS = [
    (f"{mod.__name__.split('.')[-1]}.{name}", getattr(mod, name))
    for mod in (mech, qc, pl)
    for name in mod.__all__
    if inspect.isfunction(getattr(mod, name))
]


@pytest.mark.parametrize(("label", "func"), FUNCS, ids=[f[0] for f in FUNCS])
def test_no_retired_argument_names(label, func):
    params = inspect.signature(func).parameters
    bad = {p: RETIRED[p] for p in params if p in RETIRED}
    assert bad == {}, f"{label}: rename {bad}"


@pytest.mark.parametrize(
    ("func", "names"),
    [
        (mech.pseudobulk_de, {"n_jobs", "subject_key", "method"}),
        (mech.trajectories, {"visit_key", "groupby", "subject_key", "responder_key"}),
        (mech.links, {"visit_key", "subject_key"}),
        (mech.composition_change, {"sample_key", "groups_key", "subject_key"}),
        (qc.sample_qc, {"sample_key", "groups_key"}),
        (pl.composition, {"arm_key", "visit_key", "subject_key"}),
        (pl.trajectories, {"groupby", "visit_key"}),
        (pl.kaplan_meier, {"groupby"}),
        (pl.volcano, {"groupby"}),
        (pl.umap, {"random_state"}),
    ],
    ids=lambda x: getattr(x, "__name__", ""),
)
def test_shared_vocabulary(func, names):
    assert names <= set(inspect.signature(func).parameters)


def test_backend_means_where_work_runs_not_which_method():
    assert "backend" not in inspect.signature(mech.pseudobulk_de).parameters


def test_resolve_n_jobs(monkeypatch):
    monkeypatch.setattr(settings, "n_jobs", None)
    assert resolve_n_jobs(None) == 1
    assert resolve_n_jobs(3) == 3
    assert resolve_n_jobs(-1) >= 1
    monkeypatch.setattr(settings, "n_jobs", 2)
    assert resolve_n_jobs(None) == 2
    with pytest.raises(ConfigError, match="n_jobs=0 must be None"):
        resolve_n_jobs(0)
