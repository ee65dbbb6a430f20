"""Every malformed input of ``tests/data/bad`` gives exit 2 and one clear line, and harms nothing.

Most cases run in this process through Typer's CliRunner (imports are paid once); a handful run as
real subprocesses to pin the exit code and the absence of a traceback end to end.
"""

from __future__ import annotations

import json
import re

import pytest

from .helpers import (
    BASE,
    PANEL,
    case_names,
    cli_args,
    complete_manifests,
    invoke,
    load_case,
    run_cli,
    tree_hashes,
)

#: Cases where the toolkit misbehaves today: the exact bug, for the lead to fix (then drop the entry)
BUGS: dict[str, str] = {}

#: Every field a ``case.json`` may have (see ``tests/data/bad/make_corpus.py``)
CASE_FIELDS = {
    "command", "args", "match", "about", "folder",
    "options", "env", "exit_code", "out", "out_kind",
}  # fmt: skip

SUBPROCESS_CASES = (
    "cfg_python_tag",
    "clinical_garbage_age",
    "h5ad_not_hdf5",
    "panel_pickle",
    "run_reader_error",
    "out_run_folder_is_a_file",
    "report_manifest_not_json",
    "clinical_xlsx_bomb",
)


def _params(names):
    return [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=BUGS[n])) if n in BUGS else n
        for n in names
    ]


def test_corpus_is_large_and_described():
    names = case_names()
    assert len(names) >= 40
    for name in names:
        meta = load_case(name)
        assert meta["command"] in {"validate", "run", "score", "report", "simulate"}, name
        assert set(meta) <= CASE_FIELDS, (name, set(meta) - CASE_FIELDS)
        re.compile(meta["match"])
        assert meta["about"], name


def test_base_trial_is_valid(tmp_path, monkeypatch):
    """Every case corrupts one thing of this valid base; if the base failed, cases would lie."""
    monkeypatch.chdir(tmp_path)
    result = invoke(["validate", str(BASE / "config.yaml")])
    assert result.exit_code == 0, result.output
    assert "valid discover config" in result.stdout


def test_base_panel_scores(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "scores.csv"
    args = ["score", str(PANEL / "panel.json"), str(PANEL / "features.csv"), "--out", str(out)]
    result = invoke(args)
    assert result.exit_code == 0, result.output
    assert out.is_file()


_WARNING_LINE = re.compile(r"^\S.*:\d+: \w*Warning: ")


def _message_lines(stderr: str) -> list[str]:
    """stderr without Python warnings (``file:line: XWarning: text`` + the indented source line)."""
    out, skip = [], False
    for line in stderr.strip().splitlines():
        if _WARNING_LINE.match(line):
            skip = True
            continue
        if skip and line.startswith("  "):
            continue
        skip = False
        out.append(line)
    return out


def _check(meta, *, exit_code, stderr, tmp_path, before):
    assert "Traceback" not in stderr
    expected = meta.get("exit_code", 2)
    assert exit_code == expected, f"exit {exit_code}: {stderr.strip()[-400:]}"
    lines = _message_lines(stderr)
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}: {lines}"
    assert lines[0].startswith("error: "), lines[0]
    assert re.search(meta["match"], lines[0]), lines[0]
    assert tree_hashes(meta["folder"], BASE, PANEL) == before, "an input file was modified"
    assert not complete_manifests(tmp_path), "a failed run left a manifest saying complete"
    assert not (tmp_path / "HACKED").exists()
    assert not (tmp_path / "scores.csv").exists()
    if meta["command"] == "run":
        for path in tmp_path.rglob("manifest.json"):
            assert json.loads(path.read_text())["status"] == "failed"


@pytest.mark.parametrize("name", _params(case_names()))
def test_bad_input_exits_2_with_one_line(name, tmp_path, monkeypatch):
    meta = load_case(name)
    monkeypatch.chdir(tmp_path)
    before = tree_hashes(meta["folder"], BASE, PANEL)
    result = invoke(cli_args(meta, tmp_path), env=meta.get("env"))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        pytest.fail(f"uncaught {type(result.exception).__name__}: {result.exception}")
    _check(meta, exit_code=result.exit_code, stderr=result.stderr, tmp_path=tmp_path, before=before)


@pytest.mark.parametrize("name", _params(SUBPROCESS_CASES))
def test_bad_input_in_a_real_process(name, tmp_path):
    meta = load_case(name)
    before = tree_hashes(meta["folder"], BASE, PANEL)
    proc = run_cli(cli_args(meta, tmp_path), cwd=tmp_path, env=meta.get("env"))
    _check(meta, exit_code=proc.returncode, stderr=proc.stderr, tmp_path=tmp_path, before=before)
