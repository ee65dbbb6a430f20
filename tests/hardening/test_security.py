"""Security (issue 22): outputs never replace inputs, file-held paths stay inside the input roots,
written CSVs carry no spreadsheet formulas, identifiers in any spelling are refused, YAML bombs are
refused before they are built.

Panel signatures and panel-JSON refusals are in ``tests/panel/test_signing.py``.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

from biomarkers import _atomic
from biomarkers.exceptions import ConfigError, SchemaError

from .helpers import BASE, PANEL, complete_manifests, invoke, tree_hashes

# ------------------------------------------------------------------------ outputs vs inputs


def _out_commands() -> set[str]:
    """CLI commands that take an ``--out`` option."""
    import typer.main

    from pipelines.cli import app

    group = typer.main.get_command(app)
    return {
        name
        for name, cmd in group.commands.items()
        if any("--out" in getattr(p, "opts", ()) for p in cmd.params)
    }


#: each CLI command with --out → the inputs its test points --out at (see the tests below)
COVERED = {
    "score": "panel.json, the feature table, a symlink and a hard link to the table",
    "run": "the config and every input file it names",
    "simulate": "reads nothing; a folder that holds a file read by the same process",
    "evaluate": "its config and the panel's panel.json",
    "power": "its config",
    "plan": "its config",
    "upgrade-panel": "the panel folder it reads (tests/panel/test_migrate.py)",
}


def test_every_command_with_out_is_covered():
    missing = _out_commands() - set(COVERED)
    assert not missing, f"add a test pointing --out at the inputs of: {sorted(missing)}"


@pytest.fixture
def panel_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "panel"
    shutil.copytree(PANEL, folder)
    return folder


@pytest.mark.parametrize("target", ["features.csv", "panel.json", "symlink", "hardlink"])
def test_score_refuses_out_over_its_inputs(panel_copy, tmp_path, monkeypatch, target):
    monkeypatch.chdir(tmp_path)
    table = panel_copy / "features.csv"
    out = panel_copy / target
    if target == "symlink":
        out.symlink_to(table)
    elif target == "hardlink":
        os.link(table, out)
    before = tree_hashes(panel_copy)
    result = invoke(["score", str(panel_copy / "panel.json"), str(table), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert re.search(
        r"would overwrite .*(features\.csv|panel\.json).*choose another --out", result.stderr
    )
    assert tree_hashes(panel_copy) == before


def test_score_writes_beside_its_inputs(panel_copy, tmp_path, monkeypatch):
    """The guard refuses only inputs: another file in the same folder is fine."""
    monkeypatch.chdir(tmp_path)
    out = panel_copy / "scores.csv"
    args = ["score", str(panel_copy / "panel.json"), str(panel_copy / "features.csv")]
    result = invoke([*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file()


@pytest.fixture
def base_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "trial"
    shutil.copytree(BASE, folder)
    return folder


def _config_inputs(folder: Path) -> list[str]:
    """The config and every input file it names (as the run manifest lists them)."""
    from pipelines.config import input_paths, load_config

    cfg = load_config(folder / "config.yaml")
    return ["config.yaml", *(str(p.relative_to(folder)) for p in input_paths(cfg).values())]


def test_run_inputs_are_listed():
    assert len(_config_inputs(BASE)) == 9  # config + 8 files: the test below covers each


@pytest.mark.parametrize("name", _config_inputs(BASE))
def test_run_refuses_out_inside_an_input(base_copy, tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    before = tree_hashes(base_copy)
    result = invoke(["run", str(base_copy / "config.yaml"), "--out", str(base_copy / name), "-q"])
    assert result.exit_code == 2, result.output
    assert re.search(rf"would overwrite .*{re.escape(name)}", result.stderr)
    assert tree_hashes(base_copy) == before
    assert not complete_manifests(tmp_path)


def test_simulate_refuses_a_folder_holding_an_input(tmp_path):
    """simulate reads nothing; in a process that read a file, --out may not replace its folder."""
    read = tmp_path / "trial" / "clinical.csv"
    read.parent.mkdir()
    read.write_text("x\n")
    from pipelines.simulate import simulate_to

    with _atomic.guard_inputs():
        _atomic.register_input(read)
        with pytest.raises(ConfigError, match=r"would overwrite .*clinical\.csv"):
            simulate_to(tmp_path / "trial", n_subjects=4)
    assert read.read_text() == "x\n"


def test_guard_is_scoped_to_the_command(tmp_path):
    """Outside a command (plain Python API use) nothing is recorded or refused."""
    path = tmp_path / "t.csv"
    _atomic.write_text(path, "a\n")
    _atomic.register_input(path)
    _atomic.write_text(path, "b\n")
    with _atomic.guard_inputs():
        _atomic.register_input(path)
        with pytest.raises(ConfigError, match="choose another --out"):
            _atomic.write_table(path, pd.DataFrame({"a": [1]}))
    _atomic.write_text(path, "c\n")
    assert path.read_text() == "c\n"


# ------------------------------------------------------------------------ paths inside files


@pytest.mark.parametrize(
    "entry",
    ["../../outside/S1.h5", "/etc/hostname", "{tmp}/elsewhere/S1.h5"],
    ids=["dotdot", "absolute", "tmp"],
)
def test_manifest_paths_are_confined(tmp_path, monkeypatch, entry):
    from biomarkers.io import read_singlecell

    monkeypatch.delenv("BIOMARKERS_ALLOWED_ROOTS", raising=False)
    data = tmp_path / "project" / "data"
    data.mkdir(parents=True)
    monkeypatch.chdir(data)
    elsewhere = tmp_path.parent  # outside the manifest's folder and its parent
    manifest = data / "manifest.csv"
    manifest.write_text(f"path,sample_id\n{entry.format(tmp=elsewhere)},S1\n")
    with pytest.raises(
        ConfigError, match=r"manifest .*row 2: path = .* is outside the allowed folders"
    ):
        read_singlecell(manifest)


def test_manifest_paths_use_the_configs_roots(tmp_path, monkeypatch):
    """Under a config, a manifest may name what the config may name, nothing more."""
    from biomarkers.exceptions import InputFileError
    from biomarkers.io import read_singlecell

    monkeypatch.delenv("BIOMARKERS_ALLOWED_ROOTS", raising=False)
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    manifest = project / "data" / "manifest.csv"
    manifest.write_text("path,sample_id\n../other/x.h5,S1\n")  # inside the manifest's parent
    with pytest.raises(InputFileError, match="not found"):  # allowed on its own: only missing
        read_singlecell(manifest)
    with _atomic.guard_inputs():  # a config in project/cfg/deep/ may not name project/other/
        _atomic.set_input_roots(_atomic.allowed_roots(project / "cfg" / "deep"))
        with pytest.raises(ConfigError, match="outside the allowed folders"):
            read_singlecell(manifest)


def test_manifest_symlink_out_of_the_roots_is_refused(tmp_path, monkeypatch):
    from biomarkers.io import read_singlecell

    outside = tmp_path / "outside"
    outside.mkdir()
    data = tmp_path / "a" / "b" / "data"
    data.mkdir(parents=True)
    (data / "S1.h5").symlink_to(outside / "S1.h5")
    monkeypatch.chdir(data)
    (data / "manifest.csv").write_text("path,sample_id\nS1.h5,S1\n")
    with pytest.raises(ConfigError, match="outside the allowed folders"):
        read_singlecell(data / "manifest.csv")


# ------------------------------------------------------------------------ formulas

HOSTILE = [
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def _formula_cells(path: Path, sep: str = ",") -> list[str]:
    """Cells a spreadsheet would run: leading = + - @ tab CR, unless the cell is a number."""
    with open(path, newline="", encoding="utf-8") as fh:
        cells = [cell for row in csv.reader(fh, delimiter=sep) for cell in row]
    starts = {"=", "+", "-", "@", "\t", "\r"}
    # an all-dash cell (an instrument's "---") has no operand: a spreadsheet cannot run it
    return [c for c in cells if c[:1] in starts and not _number(c) and set(c) != {"-"}]


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_write_table_neutralises_formulas_and_keeps_numbers(tmp_path):
    df = pd.DataFrame(
        {
            "subject_id": HOSTILE,
            "value": [-1.5, 2.0, -3e-4, 1.0, -0.0, 7.0],
            "text": ["-1.5", "+2", "-", "---", "-inf", "=A1"],
            HOSTILE[0]: range(6),
        }
    )
    path = _atomic.write_table(tmp_path / "t.csv", df)
    assert not _formula_cells(path)
    back = pd.read_csv(path)
    assert back["value"].tolist() == [-1.5, 2.0, -3e-4, 1.0, -0.0, 7.0]  # numbers stay numbers
    assert back["text"].tolist() == ["-1.5", "+2", "-", "---", "-inf", "'=A1"]  # numeric text too
    assert back["subject_id"].tolist()[0] == "'" + HOSTILE[0]  # the text is kept, quoted
    assert not _formula_cells(_atomic.write_table(tmp_path / "t.tsv", df), sep="\t")


def test_score_neutralises_hostile_subject_ids(panel_copy, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    table = pd.read_csv(panel_copy / "features.csv", dtype={"subject_id": str})
    n = min(len(table), len(HOSTILE))
    table.loc[: n - 1, "subject_id"] = HOSTILE[:n]
    path = tmp_path / "hostile.csv"
    table.to_csv(path, index=False)
    out = tmp_path / "scores.csv"
    result = invoke(["score", str(panel_copy / "panel.json"), str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert _formula_cells(path)  # the input does hold formulas
    assert not _formula_cells(out)
    scores = pd.read_csv(out)
    assert scores["subject_id"].iloc[0] == "'" + HOSTILE[0]
    assert pd.api.types.is_float_dtype(scores["score"])  # numbers stay numbers
    assert (scores["score"] < 0).any()


def test_run_neutralises_hostile_ids_in_results(base_copy, tmp_path, monkeypatch):
    """A `score` job through `run`, with formula-like subject IDs in every raw file."""
    monkeypatch.chdir(tmp_path)
    subjects = pd.read_csv(base_copy / "clinical.csv", dtype=str)["subject_id"].tolist()
    prefixes = ["=", "+", "@", "-"]
    mapping = {s: prefixes[i % 4] + s for i, s in enumerate(subjects)}
    for name in ("clinical.csv", "labs.csv", "samples.csv", "cytokines_long.csv"):
        text = (base_copy / name).read_text(encoding="utf-8")
        for old, new in mapping.items():
            text = re.sub(rf"(?<![\w=+@-]){old}(?!\d)", new, text)
        (base_copy / name).write_text(text, encoding="utf-8")
    from biomarkers.panel import BiomarkerPanel

    units = {"cytokine:IL6@D0": "log2(pg/mL+1)", "clinical:meld@D0": "score"}
    BiomarkerPanel.from_weights(
        {"cytokine:IL6@D0": 0.8, "clinical:meld@D0": 0.1},
        intercept=-3.0,
        threshold=0.5,
        features_meta={name: {"unit": unit} for name, unit in units.items()},
    ).write(base_copy / "panel")
    cfg = {
        "pipeline": "score",
        "name": "hostile",
        "output": "runs",
        "panel": "panel/panel.json",
        "data": {
            "clinical": "clinical.csv",
            "labs": "labs.csv",
            "samples": "samples.csv",
            "cytokines": {"cytokines": {"path": "cytokines_long.csv", "format": "auto"}},
        },
    }
    import yaml

    (base_copy / "score.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    result = invoke(["run", str(base_copy / "score.yaml"), "--out", str(tmp_path / "runs"), "-q"])
    assert result.exit_code == 0, result.output
    written = sorted((tmp_path / "runs").rglob("*.csv"))
    assert any(p.name == "scores.csv" for p in written)
    text = (next(p for p in written if p.name == "scores.csv")).read_text(encoding="utf-8")
    assert "'=" + subjects[0] in text  # the IDs are there, neutralised
    for path in written:
        assert not _formula_cells(path), path


# ------------------------------------------------------------------------ identifiers

IDENTIFIER_NAMES = [
    "PatientName", "patient_name", "Patient.Name", "PATIENT NAME", "FirstName", "Surname",
    "DateOfBirth", "date-of-birth", "DOB", "BirthDate", "SSN", "Social Security Number",
    "MRN", "MedicalRecordNumber", "NationalID", "Aadhaar", "aadhaar_no", "AadharNumber",
    "ABHA", "ABHA_ID", "ABHANumber", "NHS number", "NHSNumber", "PassportNo", "PhoneNumber",
    "mobile", "Email", "e-mail", "EmailAddress", "HomeAddress", "Postcode", "ZIP", "zip_code",
]  # fmt: skip


@pytest.mark.parametrize("column", IDENTIFIER_NAMES)
def test_identifier_columns_in_any_spelling_are_refused(tmp_path, column):
    from biomarkers.io import read_clinical

    clin = pd.read_csv(BASE / "clinical.csv", dtype=str)
    clin.insert(1, column, "x")
    clin.to_csv(tmp_path / "clinical.csv", index=False)
    with pytest.raises(
        SchemaError, match=rf"{re.escape(repr(column))}.*identifiers.*allow_identifiers"
    ):
        read_clinical(tmp_path / "clinical.csv")
    read_clinical(tmp_path / "clinical.csv", allow_identifiers=True)


def _aadhaar(stem: str) -> str:
    """``stem`` (11 digits) + its Verhoeff check digit."""
    from biomarkers.io._identifiers import _verhoeff_ok

    return next(stem + d for d in "0123456789" if _verhoeff_ok(stem + d))


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (["jane.doe@example.org", "j.smith@hospital.nhs.uk"], "e-mail"),
        ([_aadhaar("23456789012"), _aadhaar("98765432109")], "Aadhaar"),
        (["91-1234-5678-9012", "14-2222-3333-4444"], "ABHA"),
    ],
)
def test_identifier_values_are_refused(tmp_path, values, kind):
    from biomarkers.io import read_clinical

    clin = pd.read_csv(BASE / "clinical.csv", dtype=str)
    clin.insert(1, "contact", [values[i % 2] for i in range(len(clin))])
    clin.to_csv(tmp_path / "clinical.csv", index=False)
    with pytest.raises(SchemaError, match=rf"'contact' holds values that look like {kind}"):
        read_clinical(tmp_path / "clinical.csv")


def test_twelve_digit_codes_without_the_check_digit_pass():
    from biomarkers.io._identifiers import _value_kind

    codes = pd.Series([f"{n:012d}" for n in range(234567890120, 234567890130)])
    from biomarkers.io._identifiers import _verhoeff_ok

    bad = [c for c in codes if not _verhoeff_ok(c)]
    assert len(bad) == 9  # one code in ten has a valid Verhoeff digit
    assert _value_kind(pd.Series(bad)) is None


def _real_columns() -> list[tuple[str, str]]:
    """Every column header of the bundled trial, the test data and the corpus base."""
    import warnings

    from biomarkers.datasets import simulate_trial

    found = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            simulate_trial(tmp, n_subjects=8, seed=0, cells_per_sample=5)
            files = [*Path(tmp).glob("*.csv")]
            found += _headers(files)
    data = Path(__file__).resolve().parents[1] / "data"
    return found + _headers([*data.glob("*.csv"), *BASE.glob("*.csv")])


def _headers(files) -> list[tuple[str, str]]:
    out = []
    for path in files:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            head = fh.readline()
        sep = max(",;\t", key=head.count)
        out += [(path.name, col.strip()) for col in head.rstrip("\r\n").split(sep)]
    return out


def test_no_false_identifiers_on_real_columns():
    from biomarkers.io._identifiers import is_identifier_column

    columns = _real_columns()
    assert len({c for _, c in columns}) > 60
    flagged = [(f, c) for f, c in columns if is_identifier_column(c)]
    assert not flagged


def test_bundled_trial_tables_pass_the_value_check(tmp_path):
    import warnings

    from biomarkers.datasets import simulate_trial
    from biomarkers.io._identifiers import check_identifiers

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        simulate_trial(tmp_path, n_subjects=8, seed=0, cells_per_sample=5)
    for name in ("clinical.csv", "labs.csv", "samples.csv", "dosing.csv", "flow.csv"):
        check_identifiers(pd.read_csv(tmp_path / name, dtype=str), source=name, allow=False)


# ------------------------------------------------------------------------ YAML


def _bomb(levels: int = 9, width: int = 10) -> str:
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines)


def _config_with(tmp_path: Path, extra: str) -> Path:
    """The base config with ``extra`` under an extra top-level key."""
    text = (BASE / "config.yaml").read_text(encoding="utf-8")
    body = "\n".join("  " + line for line in extra.splitlines())
    path = tmp_path / "config.yaml"
    path.write_text(f"{text}\nextra:\n{body}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (_bomb(), r"expands to more than 100,000 values"),
        ("a: &a 1\nx: [" + ", ".join(["*a"] * 101) + "]", r"more than 100 alias uses"),
        ("x: " + "[" * 3000 + "]" * 3000, r"nested deeper than 50 levels"),
        ("x: &r [1, *r]", r"alias refers to the node that contains it"),
    ],
    ids=["bomb", "many_aliases", "deep", "cycle"],
)
def test_yaml_bombs_are_refused_before_they_are_built(tmp_path, extra, match):
    path = _config_with(tmp_path, extra)
    start = time.perf_counter()
    result = invoke(["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert re.search(rf"config\.yaml: line \d+: .*{match}|config\.yaml: .*{match}", result.stderr)
    assert "Traceback" not in result.output
    assert time.perf_counter() - start < 10


def test_yaml_bomb_in_a_known_section(tmp_path):
    """The bomb sits inside ``outcome:`` (a section validated later): refused while parsing."""
    text = (BASE / "config.yaml").read_text(encoding="utf-8")
    bomb = "\n".join("  " + line for line in _bomb().splitlines())
    text = text.replace("outcome:\n", "outcome:\n" + bomb + "\n", 1)
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    from pipelines.config import read_yaml

    with pytest.raises(ConfigError, match="expands to more than 100,000 values"):
        read_yaml(path)


def test_every_yaml_reader_uses_the_shared_loader(tmp_path):
    """Protocol files (eligibility) and --set values go through the same budget."""
    from biomarkers.clinical._eligibility import load_protocol
    from pipelines.config import apply_overrides

    protocol = tmp_path / "protocol.yaml"
    protocol.write_text(_bomb(), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"protocol\.yaml: .*expands to more than"):
        load_protocol(str(protocol))
    with pytest.raises(ConfigError, match="nested deeper than 50"):
        apply_overrides({}, ["x=" + "[" * 60 + "]" * 60])


def test_ordinary_aliases_still_work():
    from biomarkers._yaml import safe_load

    assert safe_load("a: &x {k: 1}\nb: *x\n") == {"a": {"k": 1}, "b": {"k": 1}}


def _evaluate_config(folder: Path) -> Path:
    """configs/evaluate.yaml pointed at the base trial in ``folder``."""
    text = (Path(__file__).resolve().parents[2] / "configs" / "evaluate.yaml").read_text()
    config = folder / "evaluate.yaml"
    config.write_text(
        text.replace("../data/phase3/", "").replace("output: ../runs", "output: runs")
    )
    return config


@pytest.mark.parametrize("target", ["config", "panel.json"])
def test_evaluate_refuses_out_over_its_inputs(base_copy, panel_copy, monkeypatch, target):
    monkeypatch.chdir(base_copy)
    config = _evaluate_config(base_copy)
    out = config if target == "config" else panel_copy / "panel.json"
    before = tree_hashes(base_copy, panel_copy)
    result = invoke(["evaluate", str(panel_copy), "--config", str(config), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "--out" in result.stderr
    assert tree_hashes(base_copy, panel_copy) == before
    assert not complete_manifests(base_copy)


def test_power_refuses_out_over_its_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "power.yaml"
    shutil.copyfile(Path(__file__).resolve().parents[2] / "configs" / "power.yaml", config)
    before = tree_hashes(tmp_path)
    result = invoke(["power", str(config), "--out", str(config), "--replicates", "1"])
    assert result.exit_code == 2, result.output
    assert re.search(r"would overwrite .*power\.yaml.*choose another --out", result.stderr)
    assert tree_hashes(tmp_path) == before


def test_plan_refuses_out_over_its_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "demo.yaml"
    shutil.copyfile(Path(__file__).resolve().parents[2] / "configs" / "demo.yaml", config)
    before = tree_hashes(tmp_path)
    result = invoke(["plan", str(config), "--out", str(config)])
    assert result.exit_code == 2, result.output
    assert "demo.yaml" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert tree_hashes(tmp_path) == before
