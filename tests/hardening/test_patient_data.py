"""Patient-data safety: identifiers refused at load, no IDs in exports, safe loading, no escapes."""

from __future__ import annotations

import json
import pickle
import re
import subprocess

import numpy as np
import pandas as pd
import pytest

from biomarkers import io
from biomarkers.exceptions import BiomarkersError, ConfigError, PanelFormatError, SchemaError

from .helpers import BASE, CORPUS, invoke

IDENTIFIER_HEADERS = ["name", "Patient Name", "DOB", "date-of-birth", "phone", "MRN", "e-mail"]


def _with_column(text: str, header: str, value: str) -> str:
    lines = text.splitlines()
    out = [f"{lines[0]},{header}"] + [f"{line},{value}" for line in lines[1:]]
    return "\n".join(out) + "\n"


def _files_containing(folder, needles) -> dict[str, list[str]]:
    """File → the needles found in it as whole tokens (bytes search, so binary files count too).

    Embedded base64 images (``data:`` URIs) are left out: random base64 can spell a short ID.
    """
    found = {}
    pattern = re.compile(
        rb"(?<![A-Za-z0-9_-])("
        + b"|".join(re.escape(n.encode()) for n in needles)
        + rb")(?![A-Za-z0-9_])"
    )
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix != ".png":
            data = re.sub(rb"data:[a-z]+/[a-z+.-]+;base64,[A-Za-z0-9+/=]+", b"", path.read_bytes())
            hits = sorted({m.decode() for m in pattern.findall(data)})
            if hits:
                found[str(path.relative_to(folder))] = hits
    return found


# ---- identifiers at load ------------------------------------------------------------------
@pytest.mark.parametrize("header", IDENTIFIER_HEADERS)
@pytest.mark.parametrize(
    ("reader", "file"),
    [
        (io.read_clinical, "clinical.csv"),
        (io.read_labs, "labs.csv"),
        (io.read_samples, "samples.csv"),
    ],
    ids=["clinical", "labs", "samples"],
)
def test_identifier_columns_are_refused_unless_allowed(reader, file, header, tmp_path):
    path = tmp_path / file
    path.write_text(_with_column((BASE / file).read_text(), header, "x123"))
    with pytest.raises(SchemaError, match=rf"{re.escape(header)}.*identifiers.*allow_identifiers"):
        reader(path)
    table = reader(path, allow_identifiers=True)
    assert len(table) == len((BASE / file).read_text().splitlines()) - 1


def test_config_allow_identifiers_lets_them_through(tmp_path, monkeypatch):
    """`data.allow_identifiers: true` is the one switch; files outside the config's folder need
    BIOMARKERS_ALLOWED_ROOTS."""
    import yaml

    monkeypatch.chdir(tmp_path)
    cfg = yaml.safe_load((CORPUS / "clinical_identifiers" / "config.yaml").read_text())
    for key, value in list(cfg["data"].items()):
        if isinstance(value, str):
            cfg["data"][key] = str((CORPUS / "clinical_identifiers" / value).resolve())
    for assay in cfg["data"]["cytokines"].values():
        assay["path"] = str((CORPUS / "clinical_identifiers" / assay["path"]).resolve())
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    result = invoke(["validate", str(path)])
    assert result.exit_code == 2
    assert "outside the allowed folders" in result.stderr
    monkeypatch.setenv("BIOMARKERS_ALLOWED_ROOTS", str(CORPUS))
    result = invoke(["validate", str(path)])
    assert result.exit_code == 2
    assert "look like direct patient identifiers" in result.stderr
    cfg["data"]["allow_identifiers"] = True
    path.write_text(yaml.safe_dump(cfg))
    result = invoke(["validate", str(path)])
    assert result.exit_code == 0, result.output


# ---- no subject IDs in exports --------------------------------------------------------------
def _panel_inputs():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    ids = [f"SUBJ-{i:04d}-ZQ" for i in range(60)]
    X = pd.DataFrame(
        rng.normal(5, 1, size=(60, 3)),
        index=pd.Index(ids, name="subject_id"),
        columns=["cytokine:IL6@D0", "cytokine:TNF@D0", "clinical:meld@D0"],
    )
    y = (X.iloc[:, 0] + rng.normal(size=60) > 5).astype(int).to_numpy()
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    return pipe, X, y, ids


def test_exported_panel_has_no_subject_ids(tmp_path):
    from biomarkers.panel import BiomarkerPanel

    pipe, X, y, ids = _panel_inputs()
    panel = BiomarkerPanel.from_estimator(
        pipe, X=X, y_true=y, y_score=pipe.predict_proba(X)[:, 1], threshold="youden"
    )
    panel.write(tmp_path / "panel")
    assert sorted(p.name for p in (tmp_path / "panel").iterdir()) == [
        "panel.csv",
        "panel.json",
        "panel_card.html",
        "panel_card.md",
    ]
    assert _files_containing(tmp_path / "panel", ids) == {}


def test_scrub_replaces_subject_and_sample_ids():
    from pipelines._privacy import pseudonyms, scrub

    ids = [f"SUBJ-{i:04d}-ZQ" for i in range(12)]
    mapping = pseudonyms(ids)
    df = pd.DataFrame(
        {
            "subject_id": ids,
            "sample_id": [f"{s}-D0-PL" for s in ids],
            "value": np.arange(12.0),
        }
    )
    out = scrub(df, mapping)
    assert out["subject_id"].tolist() == [mapping[s] for s in ids]
    assert out["sample_id"].tolist() == [f"{mapping[s]}-D0-PL" for s in ids]
    assert not any(s in cell for s in ids for cell in out.astype(str).to_numpy().ravel())
    assert df["subject_id"].tolist() == ids  # the input is not mutated


def test_pseudonyms_never_collide_with_real_ids():
    from pipelines._privacy import pseudonyms

    real = ["P0002", "P0001", "P0003"]
    mapping = pseudonyms(real)
    assert len(set(mapping.values())) == len(real)
    assert not set(mapping.values()) & set(real)


def _discover_run(trial, out, *extra):
    return invoke(
        ["run", str(trial / "config.yaml"), "--out", str(out), "--quiet",
         "--set", "models.n_repeats=1", "--set", "models.n_permutations=5", *extra]
    )  # fmt: skip


FULL = ["--set", "panel.enabled=true", "--set", "predictive.enabled=true",
        "--set", "predictive.n_permutations=2", "--set", "predictive.n_bootstraps=10"]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("steps", ["core", "full"])
@pytest.mark.parametrize("export_ids", [False, True], ids=["no_ids", "export_ids"])
def test_discover_run_folder_has_no_subject_ids(discover_trial, tmp_path, export_ids, steps):
    """Grep every file of a complete discover run for every subject and sample ID of the input.

    ``core`` is discovery + report; ``full`` adds the predictive analysis and the panel export.
    """
    subjects = pd.read_csv(discover_trial / "clinical.csv", dtype=str)["subject_id"].tolist()
    samples = pd.read_csv(discover_trial / "samples.csv", dtype=str)["sample_id"].tolist()
    extra = FULL if steps == "full" else []
    result = _discover_run(
        discover_trial, tmp_path / "runs", "--set", f"export_ids={str(export_ids).lower()}", *extra
    )
    if result.exit_code == 1:
        pytest.xfail(f"the discover job crashes, so IDs cannot be checked: {result.stderr[-300:]}")
    assert result.exit_code == 0, result.stderr
    run_dir = tmp_path / "runs" / "hardening"
    (folder,) = run_dir.iterdir()
    assert json.loads((folder / "manifest.json").read_text())["status"] == "complete"
    leaks = _files_containing(folder, subjects + samples)
    if export_ids:
        assert "oof_predictions.csv" in leaks  # the switch works, so the grep can find IDs
    else:
        assert leaks == {}, f"subject/sample IDs in exported files: {leaks}"


# ---- safe loading -------------------------------------------------------------------------
TAGS = [
    "!!python/object/apply:os.system ['touch {hacked}']",
    "!!python/object/new:os.system ['touch {hacked}']",
    "!!python/name:os.system",
    "!!python/module:os",
    "!!python/object/apply:subprocess.check_output [['touch', '{hacked}']]",
]


@pytest.mark.parametrize("tag", TAGS, ids=lambda t: t.split()[0])
def test_config_loader_never_constructs_python_objects(tag, tmp_path):
    from pipelines.config import load_config

    hacked = tmp_path / "HACKED"
    path = tmp_path / "c.yaml"
    path.write_text(f"pipeline: simulate\nname: s\nseed: {tag.format(hacked=hacked)}\n")
    with pytest.raises(ConfigError, match=r"c\.yaml.*(Python-specific YAML tags|invalid YAML)"):
        load_config(path)
    assert not hacked.exists()


class _Evil:
    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (subprocess.call, (["touch", self.target],))


def test_pickle_named_panel_json_is_never_unpickled(tmp_path):
    from biomarkers.panel import BiomarkerPanel

    hacked = tmp_path / "HACKED"
    path = tmp_path / "panel.json"
    path.write_bytes(pickle.dumps(_Evil(hacked)))
    with pytest.raises(PanelFormatError, match=r"panel\.json"):
        BiomarkerPanel.read(path)
    assert not hacked.exists()


@pytest.mark.parametrize("name", ["clinical.csv", "clinical.parquet", "clinical.xlsx"])
def test_pickle_named_like_a_table_is_never_unpickled(name, tmp_path):
    hacked = tmp_path / "HACKED"
    path = tmp_path / name
    path.write_bytes(pickle.dumps(_Evil(hacked)))
    with pytest.raises(BiomarkersError, match=re.escape(name)):
        io.read_clinical(path)
    assert not hacked.exists()


# ---- output paths -----------------------------------------------------------------------------
@pytest.fixture
def run_folder(tmp_path):
    from pipelines.run import RunFolder

    folder = RunFolder.create(tmp_path / "runs", name="t", config={}, inputs={}, seed=0)
    yield folder
    folder._detach_log()


@pytest.mark.parametrize(
    "relative", ["../escape.csv", "../../escape.csv", "a/../../escape.csv", "/tmp/escape.csv"]
)
def test_results_cannot_escape_the_run_folder(run_folder, relative, tmp_path):
    before = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    with pytest.raises(ConfigError, match="would escape the run folder"):
        run_folder.write_table(relative, pd.DataFrame({"a": [1]}))
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == before


def test_refused_output_is_not_recorded(run_folder):
    with pytest.raises(ConfigError, match="would escape the run folder"):
        run_folder.write_text("../escape.txt", "data")
    assert "../escape.txt" not in run_folder.outputs


def test_symlink_inside_run_folder_cannot_lead_outside(run_folder, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (run_folder.path / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ConfigError, match="would escape the run folder"):
        run_folder.write_text("link/x.txt", "data")
    assert not (outside / "x.txt").exists()


@pytest.mark.parametrize("name", ["../up", "a/b", "/abs", ".hidden", ""])
def test_run_name_cannot_make_a_path(name):
    from pipelines.config import parse_config

    with pytest.raises(ConfigError, match=r"name"):
        parse_config({"pipeline": "simulate", "name": name})
