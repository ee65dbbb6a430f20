"""The tutorial notebooks: stored clean, and each runs top to bottom without an error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = [
    "01_quickstart",
    "02_singlecell_features",
    "03_cytokine_panels",
    "04_predictive_biomarkers",
    "05_mechanism_of_action",
    "06_scoring_new_patients",
]

# Notebooks that currently fail because of a library bug (not a notebook bug). Each is written
# against the intended API; remove the entry when the bug is fixed (strict=False so the test
# turns green by itself, then XPASS shows it can go).
KNOWN_FAILURES: dict[str, str] = {}  # notebook stem -> reason, while a library bug blocks it


def _params():
    for path in NOTEBOOKS:
        marks = []
        if path.stem in KNOWN_FAILURES:
            marks.append(pytest.mark.xfail(reason=KNOWN_FAILURES[path.stem], strict=False))
        yield pytest.param(path, id=path.stem, marks=marks)


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def test_all_tutorials_present():
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_clean(path: Path):
    nb = _read(path)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "a tutorial without code"
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.outputs]
    counted = [
        i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.execution_count is not None
    ]
    assert not dirty, f"{path.name}: cells {dirty} have stored outputs; clear them"
    assert not counted, f"{path.name}: cells {counted} have execution counts; clear them"
    assert nb.cells[0].cell_type == "markdown"
    assert nb.cells[0].source.startswith("# ")
    source = "\n".join(c.source for c in code)
    # no hidden global state, no shell escapes, no network
    assert not re.search(r"\b(np\.random|random)\.seed\(", source)
    assert not re.search(r"^\s*!", source, flags=re.MULTILINE)
    assert "http://" not in source
    assert "https://" not in source


@pytest.mark.parametrize("path", list(_params()))
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # the kernel inherits TMPDIR: the notebooks' tempfile.mkdtemp() folders land in tmp_path
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    nb = _read(path)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as err:
        # the last lines name the exception and its message
        tail = "\n".join(str(err).strip().splitlines()[-3:])
        pytest.fail(f"{path.name}: a cell raised\n{tail}")
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors
    # every figure the tutorial makes is rendered, not only its repr
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            text = out.get("data", {}).get("text/plain", "")
            if text.startswith("<Figure"):
                assert "image/png" in out["data"], f"{path.name}: a figure was not rendered"


def test_in_sync_with_generator(tmp_path: Path):
    """The stored notebooks are exactly what ``notebooks/_build.py`` writes (edit the sources there)."""
    import importlib.util
    import sys

    if not (Path(sys.executable).with_name("ruff")).exists():
        pytest.skip("ruff is not installed next to the interpreter; the generator formats with it")
    spec = importlib.util.spec_from_file_location("_nb_build", NOTEBOOK_DIR / "_build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    written = build.main(out_dir=tmp_path)
    assert sorted(p.stem for p in written) == EXPECTED
    stale = [p.name for p in written if p.read_bytes() != (NOTEBOOK_DIR / p.name).read_bytes()]
    assert not stale, f"rerun `python notebooks/_build.py`: {stale} differ from their sources"
