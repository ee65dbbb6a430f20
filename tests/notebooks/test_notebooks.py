"""The tutorial notebooks: stored executed and fresh, and each runs top to bottom in under a minute.

The stored ``.ipynb`` files carry their outputs, the wall time of the run that produced them and a
SHA-256 of their code cells (``metadata.biomarkers``, written by ``python notebooks/_build.py``).
The fast tests check that they are fresh (same cells as the generator, outputs from those cells);
the slow test runs each one again and times it.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = [
    "01_quickstart",
    "02_singlecell_features",
    "03_cytokine_panels",
    "04_predictive_biomarkers",
    "05_mechanism_of_action",
    "06_scoring_new_patients",
]
IDS = [p.stem for p in NOTEBOOKS]


def _read(path: Path):
    return nbformat.read(path, as_version=4)


@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location("_nb_build", NOTEBOOK_DIR / "_build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(build, tmp_path_factory):
    """The generator's notebooks (sources only), written into a temporary folder."""
    if not Path(sys.executable).with_name("ruff").exists():
        pytest.skip("ruff is not installed next to the interpreter; the generator formats with it")
    out = tmp_path_factory.mktemp("generated")
    return {p.stem: _read(p) for p in build.main(out_dir=out)}


def test_all_tutorials_present():
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_stored_notebook_follows_the_rules(path: Path):
    nb = _read(path)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "a tutorial without code"
    assert nb.cells[0].cell_type == "markdown"
    assert nb.cells[0].source.startswith("# ")
    source = "\n".join(c.source for c in code)
    # no hidden global state, no shell escapes, no network
    assert not re.search(r"\b(np\.random|random)\.seed\(", source)
    assert not re.search(r"^\s*!", source, flags=re.MULTILINE)
    assert "http://" not in source
    assert "https://" not in source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_stored_notebook_is_executed_and_fresh(path: Path, build, generated):
    """Outputs are stored, come from the current cells, and the cells are the generator's."""
    nb = _read(path)
    meta = nb.metadata.get("biomarkers") or {}
    fix = f"rerun `python notebooks/_build.py {path.stem[:2]}`"
    stored = [(c.cell_type, c.source) for c in nb.cells]
    assert stored == [(c.cell_type, c.source) for c in generated[path.stem].cells], (
        f"{path.name}: its cells differ from notebooks/_build.py; {fix}"
    )
    assert meta.get("code_sha256") == build.code_sha256(nb), (
        f"{path.name}: the outputs were made by other code cells; {fix}"
    )
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), f"{path.name}: not executed; {fix}"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{path.name}: a stored output is an error"
    assert meta["seconds"] < build.BUDGET_SECONDS, f"{path.name} took {meta['seconds']} s"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_stored_outputs_hold_no_local_paths(path: Path):
    text = path.read_text(encoding="utf-8")
    for local in (str(ROOT), "/tmp/", sys.prefix):
        assert local not in text, f"{path.name}: an output shows the local path {local!r}"


def test_stored_timings_are_in_the_benchmarks_readme():
    readme = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Notebooks", 1)[-1].split("\n## ", 1)[0]
    assert "## Notebooks" in readme
    for path in NOTEBOOKS:
        seconds = _read(path).metadata["biomarkers"]["seconds"]
        assert f"| `{path.name}` | {seconds:.1f} |" in section, path.name


def test_figures_are_rendered_not_only_their_repr():
    for path in NOTEBOOKS:
        for cell in _read(path).cells:
            for out in cell.get("outputs", []):
                text = out.get("data", {}).get("text/plain", "")
                if text.startswith("<Figure"):
                    assert "image/png" in out["data"], f"{path.name}: a figure was not rendered"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs_in_under_a_minute(path: Path, tmp_path: Path, build, monkeypatch):
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    # the kernel inherits TMPDIR: the notebooks' tempfile.mkdtemp() folders land in tmp_path
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    nb = _read(path)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    start = time.perf_counter()
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as err:
        tail = "\n".join(str(err).strip().splitlines()[-3:])
        pytest.fail(f"{path.name}: a cell raised\n{tail}")
    seconds = time.perf_counter() - start
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors
    assert seconds < build.BUDGET_SECONDS, f"{path.name} took {seconds:.0f} s"


def test_the_notebooks_extra_installs_what_the_readme_commands_need():
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    extra = {
        re.split(r"[<>=!\[ ]", line.strip())[0].lower()
        for line in cfg["options.extras_require"]["notebooks"].splitlines()
        if line.strip()
    }
    readme = (NOTEBOOK_DIR / "README.md").read_text(encoding="utf-8")
    assert "python notebooks/_build.py" in readme
    assert "nbconvert" not in readme or "nbconvert" in extra
    # what `python notebooks/_build.py` imports to write and run the notebooks
    assert {"nbformat", "nbclient", "ipykernel"} <= extra
