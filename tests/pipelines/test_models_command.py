"""``biomarkers models`` fits an 80-column terminal; ``--wide`` adds the search spaces."""

from __future__ import annotations

from typer.testing import CliRunner

from biomarkers.models import available_models
from pipelines.cli import app


def _run(*args: str, columns: int = 80) -> list[str]:
    result = CliRunner().invoke(app, ["models", *args], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_models_fits_80_columns_and_lists_every_model():
    lines = _run()
    assert max(map(len, lines)) <= 80, max(lines, key=len)
    assert lines[0].split() == ["name", "task", "description"]
    table = available_models()
    listed = [(line.split()[0], line.split()[1]) for line in lines[1:] if not line.startswith(" ")]
    assert listed == list(zip(table["name"], table["task"], strict=True))
    assert "search_space" not in "\n".join(lines)
    assert "{" not in "\n".join(lines)  # no raw dicts


def test_models_wide_shows_each_search_space_within_the_width():
    lines = _run("--wide")
    assert max(map(len, lines)) <= 80
    text = "\n".join(lines)
    assert "l1_ratio: 0.2, 0.5, 0.8 (3 values)" in text
    assert "max_depth: 2, 3 (2 values)" in text


def test_models_uses_a_wider_terminal_when_there_is_one():
    narrow, wide = _run(columns=80), _run(columns=200)
    assert len(wide) < len(narrow)  # descriptions no longer wrap
    assert max(map(len, wide)) <= 200
