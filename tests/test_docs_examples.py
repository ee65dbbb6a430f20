"""The examples in the docs run: every config in a ```yaml block validates, every ```python block runs.

A ```python block that cannot run here (it needs real data, a cluster, an optional extra) is
marked by ``<!-- skip-example: reason -->`` on the line just above its fence; the blocks of one
page run in order in one namespace, in a fresh temporary folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from pipelines.config import _JOBS, parse_config

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([*(ROOT / "docs").glob("*.md"), ROOT / "README.md"])
_FENCE = re.compile(r"^```(?P<lang>[a-z]*)[^\n]*\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)
_SKIP = re.compile(r"<!--\s*skip-example:\s*(?P<reason>[^>]+?)\s*-->\s*$")
CONFIG_KEYS = {k for job in _JOBS.values() for k in job.model_fields}
# a fragment (e.g. only `features:`) is checked inside a discover config that loads every input
BASE = {
    "pipeline": "discover",
    "name": "docs",
    "data": {
        "clinical": "clinical.csv",
        "samples": "samples.csv",
        "singlecell": "singlecell.h5ad",
        "cytokines": {"cytokines": {"path": "luminex.csv"}, "olink": {"path": "olink.csv"}},
        "flow": "flow.csv",
    },
    "outcome": {"kind": "transplant_free_survival", "horizon_days": 90},
}


def _blocks(page: Path, lang: str) -> list[tuple[int, str, str | None]]:
    """(line, body, skip reason) of each fenced block of ``lang`` on ``page``."""
    text = page.read_text(encoding="utf-8")
    out = []
    for m in _FENCE.finditer(text):
        if m["lang"] != lang:
            continue
        line = text.count("\n", 0, m.start()) + 1
        before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skip = _SKIP.search(before)
        out.append((line, m["body"], skip["reason"] if skip else None))
    return out


def _yaml_params():
    for page in PAGES:
        for line, body, skip in _blocks(page, "yaml"):
            rel = f"{page.relative_to(ROOT)}:{line}"
            marks = [pytest.mark.skip(reason=skip)] if skip else []
            yield pytest.param(rel, body, id=rel, marks=marks)


# pages whose ```python blocks are fragments using names defined elsewhere (`study`, `pdata`,
# `feature_table`, a dask cluster): not pages of issue 21, left to their owners, who make them
# run or mark them <!-- skip-example: reason --> (strict: an XPASS says the entry can go)
_FRAGMENTS = {
    "docs/clinical.md": "uses `study` without building it",
    "docs/dask.md": "needs dask_jobqueue and a cluster (mark it skip-example)",
    "docs/formats.md": "uses `Study` without importing it",
    "docs/mechanism.md": "uses `pdata` without building it",
    "docs/models.md": "uses `feature_table` without building it",
    "docs/predictive.md": "uses `feature_table` without building it",
}
# pages whose examples run a full discovery or simulation: minutes, so slow
_SLOW = {"README.md", "docs/simulator.md"}


def _python_pages():
    for page in PAGES:
        if not _blocks(page, "python"):
            continue
        rel = str(page.relative_to(ROOT))
        marks = [pytest.mark.slow] if rel in _SLOW else []
        if rel in _FRAGMENTS:
            marks.append(pytest.mark.xfail(reason=_FRAGMENTS[rel], strict=True))
        yield pytest.param(page, id=rel, marks=marks)


def test_the_fence_parser_sees_the_examples():
    assert len(list(_yaml_params())) >= 3
    assert len(list(_python_pages())) >= 5


@pytest.mark.parametrize(("where", "body"), list(_yaml_params()))
def test_yaml_configs_in_the_docs_validate(where: str, body: str, tmp_path: Path):
    data = yaml.safe_load(body)
    if not isinstance(data, dict) or not set(data) & CONFIG_KEYS:
        pytest.skip(f"{where}: not a config (no top-level config key)")
    if "pipeline" not in data:
        data = {**BASE, **data}
    parse_config(data, base_dir=tmp_path, source=where)


@pytest.mark.filterwarnings("ignore")  # examples show warnings on purpose; errors still fail
@pytest.mark.parametrize("page", list(_python_pages()))
def test_python_examples_in_the_docs_run(page: Path, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": "__docs__"}
    for line, body, skip in _blocks(page, "python"):
        if skip:
            continue
        where = f"{page.relative_to(ROOT)}:{line}"
        try:
            exec(compile(body, where, "exec"), namespace)
        except Exception as err:  # report which block failed, and why
            pytest.fail(f"{where}: {type(err).__name__}: {err}")
    assert os.getcwd() == str(tmp_path)


@pytest.fixture(scope="module")
def small_trial(tmp_path_factory):
    import biomarkers as bm

    folder = tmp_path_factory.mktemp("docs_trial")
    return bm.datasets.simulate_trial(folder, n_subjects=16, seed=0, cells_per_sample=40)


def _trial_data(trial) -> dict:
    p = trial.paths
    return {
        "clinical": str(p["clinical"]),
        "labs": str(p["labs"]),
        "samples": str(p["samples"]),
        "dosing": str(p["dosing"]),
        "singlecell": str(p["singlecell"]),
        "cytokines": {
            "cytokines": {"path": str(p["luminex_xponent"])},
            "olink": {"path": str(p["olink_npx"])},
        },
        "flow": str(p["flow"]),
    }


@pytest.mark.filterwarnings("ignore::biomarkers.exceptions.BelowDetectionLimitWarning")
@pytest.mark.parametrize(
    ("where", "body"),
    [p for p in _yaml_params() if "features:" in p.values[1] and "pipeline:" not in p.values[1]],
)
def test_features_examples_build_on_the_simulated_trial(where, body, small_trial, monkeypatch):
    """A ``features:`` example is not only valid YAML: its blocks, genes and options exist."""
    from pipelines.validate import dry_run

    monkeypatch.setenv("BIOMARKERS_ALLOWED_ROOTS", str(small_trial.paths["clinical"].parent))
    data = {**BASE, "data": _trial_data(small_trial), **yaml.safe_load(body)}
    cfg = parse_config(data, base_dir=small_trial.paths["clinical"].parent, source=where)
    assert dry_run(cfg, source=where)


# pages citing a file users do not have (not pages of issue 21; left to their owners)
_CITES_MISSING: set[str] = set()
# a cited document: docs/<page>.md or an upper-case project file (README.md, DESIGN.md, ...)
_CITATION = re.compile(r"(?<![\w/.-])(docs/[\w-]+\.md|[A-Z][A-Z_]+\.md)\b")


@pytest.mark.parametrize(
    "page",
    [
        pytest.param(
            p,
            id=p.name,
            marks=[pytest.mark.xfail(reason="cites DOMAIN.md", strict=True)]
            if p.name in _CITES_MISSING
            else [],
        )
        for p in PAGES
    ],
)
def test_docs_cite_only_files_that_exist(page: Path):
    text = page.read_text(encoding="utf-8")
    missing = sorted(
        {
            name
            for name in _CITATION.findall(text)
            if not any((base / name).exists() for base in (ROOT, ROOT / "docs", page.parent))
        }
    )
    assert not missing, f"{page.relative_to(ROOT)} cites {missing}, which are not in the repository"
