"""Write the corpus of malformed inputs used by ``tests/hardening`` (its output is committed).

Run from the repository root::

    .venv/bin/python tests/data/bad/make_corpus.py

Layout: ``_base/`` is a tiny *valid* simulated trial (8 subjects, trimmed to a few analytes and
genes) with a valid ``config.yaml``; ``_panel/`` is a valid locked panel with a valid feature
table. Every other folder is one case: the corrupted file(s), a ``config.yaml`` that points at
``../_base/`` for every file it does not corrupt, and ``case.json``::

    {"command": "validate" | "run" | "score",
     "args": [...],          # arguments after the command, relative to the case folder
     "match": "<regex>",     # what the one-line error must say
     "about": "<what is wrong>"}

Optional fields (round two; see ``tests/hardening/helpers.py``): ``"options"`` (CLI options
appended verbatim, e.g. ``["--set", "backend.n_jobs=0"]``), ``"env"`` (environment variables),
``"exit_code"`` (default 2), ``"out"`` (the ``--out`` path, relative to the case folder) and
``"out_kind"`` (``file``, ``dir``, ``under_file``, ``long_name``: an unusable ``--out`` the harness
prepares). Commands ``report`` and ``simulate`` take no config.

Cases never need network access or randomness beyond the seeded simulator.
"""

from __future__ import annotations

import gzip
import json
import pickle
import shutil
import sys
import tempfile
from pathlib import Path

import yaml
from _patches import assay, clinical, data, setkey

HERE = Path(__file__).resolve().parent
BASE = HERE / "_base"
PANEL = HERE / "_panel"

BASE_FILES = (
    "clinical.csv",
    "labs.csv",
    "samples.csv",
    "dosing.csv",
    "cytokines_long.csv",
    "olink_npx.csv",
    "luminex_xponent.csv",
    "flow.csv",
    "singlecell.h5ad",
)
OPTIONAL_FIELDS = ("options", "env", "exit_code", "out", "out_kind")
KEEP_ANALYTES = ("IL6", "IL10", "TNFa")
KEEP_OLINK = ("IL6", "IL10", "TNF")
N_GENES = 40


# ------------------------------------------------------------------------------------ base
def _trim_lines(text: str, keep) -> str:
    lines = text.splitlines(keepends=True)
    return lines[0] + "".join(line for line in lines[1:] if keep(line))


def make_base() -> None:
    """A valid 8-subject trial: the simulator's files, trimmed to stay small."""
    import anndata as ad

    from biomarkers.datasets import simulate_trial

    with tempfile.TemporaryDirectory() as tmp:
        trial = simulate_trial(tmp, n_subjects=8, seed=0, cells_per_sample=5, scenario="strong")
        src = trial.out_dir
        if BASE.exists():
            shutil.rmtree(BASE)
        BASE.mkdir()
        for name in ("clinical.csv", "labs.csv", "samples.csv", "dosing.csv", "flow.csv"):
            shutil.copyfile(src / name, BASE / name)
        shutil.copyfile(src / "luminex_xponent.csv", BASE / "luminex_xponent.csv")
        text = (src / "cytokines_long.csv").read_text(encoding="utf-8")
        (BASE / "cytokines_long.csv").write_text(
            _trim_lines(text, lambda line: line.split(",")[1] in KEEP_ANALYTES), encoding="utf-8"
        )
        text = (src / "olink_npx.csv").read_text(encoding="utf-8")
        (BASE / "olink_npx.csv").write_text(
            _trim_lines(text, lambda line: line.split(";")[4] in KEEP_OLINK), encoding="utf-8"
        )
        adata = ad.read_h5ad(src / "singlecell.h5ad")
        adata[:, adata.var_names[:N_GENES]].copy().write_h5ad(BASE / "singlecell.h5ad")
    (BASE / "config.yaml").write_text(yaml.safe_dump(base_config("."), sort_keys=False))


def base_config(prefix: str = "../_base") -> dict:
    """The valid discover config of the base trial, with paths under ``prefix``."""
    p = f"{prefix}/" if prefix != "." else ""
    return {
        "pipeline": "discover",
        "name": "hardening",
        "seed": 0,
        "output": "runs",
        "data": {
            "clinical": f"{p}clinical.csv",
            "labs": f"{p}labs.csv",
            "samples": f"{p}samples.csv",
            "dosing": f"{p}dosing.csv",
            "singlecell": f"{p}singlecell.h5ad",
            "cytokines": {
                "cytokines": {"path": f"{p}cytokines_long.csv", "format": "auto"},
                "olink": {"path": f"{p}olink_npx.csv", "format": "auto"},
            },
            "flow": f"{p}flow.csv",
        },
        "outcome": {"kind": "transplant_free_survival", "horizon_days": 90},
        "features": {"visits": ["D0"]},
        "models": {
            "models": ["enet"],
            "n_splits": 2,
            "n_repeats": 1,
            "inner_cv": 2,
            "n_permutations": 2,
            "n_bootstraps": 10,
        },
        "predictive": {"enabled": False},
        "panel": {"enabled": False},
    }


def make_panel() -> None:
    """A valid two-marker panel and a feature table it can score."""
    import pandas as pd

    from biomarkers.panel import BiomarkerPanel

    if PANEL.exists():
        shutil.rmtree(PANEL)
    meta = {
        "cytokine:IL6@D0": {"unit": "pg/mL", "transform": "log2", "centre": 4.0, "scale": 1.5},
        "clinical:meld@D0": {"unit": "points", "centre": 25.0, "scale": 6.0},
    }
    panel = BiomarkerPanel.from_weights(
        {"cytokine:IL6@D0": 0.8, "clinical:meld@D0": 0.5},
        intercept=-0.2,
        features_meta=meta,
        threshold=0.5,
        name="hardening panel",
    )
    panel.write(PANEL)
    table = pd.DataFrame(
        {
            "subject_id": ["S01", "S02", "S03", "S04"],
            "cytokine:IL6@D0": [12.5, 40.1, 3.2, 150.0],
            "clinical:meld@D0": [22.0, 31.0, 18.5, 35.0],
        }
    )
    table.to_csv(PANEL / "features.csv", index=False, lineterminator="\n")


# ------------------------------------------------------------------------------------ cases
def _base_text(name: str) -> str:
    return (BASE / name).read_text(encoding="utf-8")


def _replace_col(text: str, column: str, row: int, value: str, sep: str = ",") -> str:
    """Set ``column`` of data row ``row`` (0-based) to ``value``."""
    lines = text.splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(sep)
    j = header.index(column)
    cells = lines[row + 1].rstrip("\n").split(sep)
    cells[j] = value
    lines[row + 1] = sep.join(cells) + "\n"
    return "".join(lines)


def _drop_col(text: str, column: str, sep: str = ",") -> str:
    out = []
    j = text.splitlines()[0].split(sep).index(column)
    for line in text.splitlines():
        cells = line.split(sep)
        del cells[j]
        out.append(sep.join(cells))
    return "\n".join(out) + "\n"


def _h5ad(mutate) -> bytes:
    """The base single-cell file after ``mutate(adata) -> adata``, as bytes."""
    import anndata as ad

    adata = mutate(ad.read_h5ad(BASE / "singlecell.h5ad"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.h5ad"
        adata.write_h5ad(path)
        return path.read_bytes()


def _float_counts(adata):
    import numpy as np
    import scipy.sparse as sp

    x = adata.X.toarray().astype(np.float32)
    x = x / np.maximum(x.sum(1, keepdims=True), 1) * 1e4
    adata.X = sp.csr_matrix(np.log1p(x))
    return adata


def _negative_counts(adata):
    x = adata.X.toarray()
    x[0, 0] = -3
    import scipy.sparse as sp

    adata.X = sp.csr_matrix(x)
    return adata


def _drop_obs(*columns):
    def mutate(adata):
        for column in columns:
            del adata.obs[column]
        return adata

    return mutate


def _unknown_sample(adata):
    adata.obs["sample_id"] = adata.obs["sample_id"].astype(str)
    adata.obs.iloc[:5, adata.obs.columns.get_loc("sample_id")] = "Z999-D0-PB"
    adata.obs["subject_id"] = adata.obs["subject_id"].astype(str)
    adata.obs.iloc[:5, adata.obs.columns.get_loc("subject_id")] = "Z999"
    return adata


def _xlsx(df_text: str, *, sheet: str = "Sheet1", empty: bool = False) -> bytes:
    import io

    import pandas as pd

    df = pd.read_csv(io.StringIO(df_text), dtype=str)
    if empty:
        df = df.iloc[0:0, 0:0]
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        df.to_excel(xl, sheet_name=sheet, index=False)
    return buf.getvalue()


def cases() -> dict[str, dict]:
    """Every case: files to write, how to build the config, command and expected message."""
    clin = _base_text("clinical.csv")
    labs = _base_text("labs.csv")
    samples = _base_text("samples.csv")
    cyto = _base_text("cytokines_long.csv")
    olink = _base_text("olink_npx.csv")
    lumi = _base_text("luminex_xponent.csv")
    flow = _base_text("flow.csv")
    first_subject = clin.splitlines()[1].split(",")[0]
    lines = clin.splitlines(keepends=True)

    c: dict[str, dict] = {}

    # ---- configs ------------------------------------------------------------------------
    c["cfg_unknown_key"] = {
        "patch": setkey("sead", 1),
        "match": r"unknown key 'sead'; did you mean 'seed'\?",
        "about": "a typo in a top-level key",
    }
    c["cfg_unknown_nested_key"] = {
        "patch": setkey("models.n_repeat", 2),
        "match": r"unknown key models\.'n_repeat'.*did you mean 'n_repeats'",
        "about": "a typo in a nested key",
    }
    c["cfg_wrong_type"] = {
        "patch": setkey("models.n_repeats", "many"),
        "match": r"models\.n_repeats: .*integer.*'many'",
        "about": "a string where an integer is required",
    }
    c["cfg_out_of_range"] = {
        "patch": setkey("backend.n_jobs", -5),
        "match": r"backend\.n_jobs: .*greater than or equal to -1",
        "about": "n_jobs below -1",
    }
    c["cfg_python_tag"] = {
        "config_text": (
            "pipeline: discover\nname: hardening\n"
            "seed: !!python/object/apply:os.system ['touch HACKED']\n"
        ),
        "match": r"Python-specific YAML tags .*not allowed",
        "about": "a !!python tag that would run a shell command with an unsafe loader",
    }
    c["cfg_absolute_outside_roots"] = {
        "patch": data("clinical", "/etc/hostname"),
        "match": r"data\.clinical = /etc/hostname is outside the allowed folders",
        "about": "an absolute input path outside the allowed roots",
    }
    c["cfg_relative_escape"] = {
        "patch": data("clinical", "../../../../../../../../etc/hostname"),
        "match": r"data\.clinical = .*is outside the allowed folders",
        "about": "a ../ input path escaping the allowed roots",
    }
    c["cfg_not_a_mapping"] = {
        "config_text": "- pipeline\n- discover\n",
        "match": r"a config must be a YAML mapping.*got list",
        "about": "a YAML list instead of a mapping",
    }
    c["cfg_empty_file"] = {
        "config_text": "",
        "match": r"a config must be a YAML mapping",
        "about": "an empty config file",
    }
    c["cfg_not_utf8"] = {
        "config_bytes": b"pipeline: discover\nname: caf\xe9\n",
        "match": r"not UTF-8 text",
        "about": "a Latin-1 config",
    }
    c["cfg_invalid_yaml"] = {
        "config_text": "pipeline: discover\nname: [unclosed\nseed: 0\n",
        "match": r"invalid YAML",
        "about": "broken YAML syntax",
    }
    c["cfg_duplicate_key"] = {
        "config_text": yaml.safe_dump(base_config(), sort_keys=False) + "seed: 1\n",
        "match": r"duplicate key 'seed'",
        "about": "the same key twice (the second would silently win)",
    }
    c["cfg_unknown_pipeline"] = {
        "patch": setkey("pipeline", "discovr"),
        "match": r"unknown pipeline 'discovr'; did you mean 'discover'",
        "about": "a misspelt job name",
    }
    c["cfg_missing_input"] = {
        "patch": data("labs", "labs_missing.csv"),
        "match": r"data\.labs: input file not found: .*labs_missing\.csv",
        "about": "an input file that does not exist",
    }
    c["cfg_bad_run_name"] = {
        "patch": setkey("name", "../../escape"),
        "match": r"name: String should match pattern",
        "about": "a run name that would escape the output folder",
    }
    c["cfg_unknown_model"] = {
        "patch": setkey("models.models", ["enet", "randomforrest"]),
        "match": r"randomforrest.*(did you mean|available|one of)",
        "about": "a model name not in the registry (should fail at validate, not mid-run)",
    }
    c["cfg_unknown_outcome_kind"] = {
        "patch": setkey("outcome", {"kind": "transplant_free_survivl", "horizon_days": 90}),
        "match": r"transplant_free_survivl",
        "about": "an outcome rule of an unknown kind (should fail at validate)",
    }
    c["cfg_feature_visit_not_in_study"] = {
        "patch": setkey("features.visits", ["D3"]),
        "match": r"'D3'.*visit",
        "about": "a feature visit the study schedule does not have (should fail at validate)",
    }
    c["cfg_reader_option_unknown_format"] = {
        "patch": assay("cytokines", "../_base/cytokines_long.csv", "luminexx"),
        "match": r"luminexx",
        "about": "an unknown cytokine file format name",
    }

    # ---- clinical table -------------------------------------------------------------------
    c["clinical_empty"] = {
        **clinical(""),
        "match": r"clinical\.csv.*empty",
        "about": "a zero-byte clinical table",
    }
    c["clinical_header_only"] = {
        **clinical(lines[0]),
        "match": r"clinical\.csv.*(no rows|no data|empty|no subjects)",
        "about": "a clinical table with a header and no subjects",
    }
    c["clinical_truncated_header"] = {
        **clinical("subject_id,ar"),
        "match": r"clinical\.csv.*'arm'",
        "about": "a file cut inside its header line",
    }
    c["clinical_truncated_row"] = {
        "files": {"clinical.csv": "".join(lines[:4]) + lines[4][:16]},
        "patch": setkey("data", {"clinical": "clinical.csv"}),
        "match": r"clinical\.csv.*(row|line) 5",
        "about": "a file cut inside its last row (age 46 cut to 4): a partial row must not pass as data",
    }
    c["clinical_not_utf8"] = {
        **clinical(clin.replace("cryptogenic", "cryptog\xe9nic", 1).encode("latin-1")),
        "match": r"clinical\.csv.*(UTF-8|encoding)",
        "about": "a Latin-1 encoded CSV",
    }
    c["clinical_utf16"] = {
        **clinical(clin.encode("utf-16")),
        "match": r"clinical\.csv.*(UTF-8|UTF-16|encoding)",
        "about": "a UTF-16 encoded CSV (as Excel may save it)",
    }
    european = _replace_col(clin, "weight_kg", 0, "59.0").replace(",", ";")
    c["clinical_decimal_comma"] = {
        **clinical(european.replace("59.0", "59,0", 1)),
        "match": r"clinical\.csv.*weight_kg.*59,0",
        "about": "a European export: semicolon-delimited with a decimal comma",
    }
    widths = [
        max(len(cell) for cell in col) + 2
        for col in zip(*(ln.split(",") for ln in lines), strict=True)
    ]
    c["clinical_space_aligned"] = {
        **clinical(
            "".join(
                "".join(
                    cell.strip().ljust(w) for cell, w in zip(ln.split(","), widths, strict=True)
                ).rstrip()
                + "\n"
                for ln in lines
            )
        ),
        "match": r"clinical\.csv.*'subject_id'",
        "about": "a space-aligned text printout instead of a delimited file",
    }
    extra = [*lines]
    extra[2] = extra[2].rstrip("\n") + ",EXTRA\n"
    c["clinical_extra_field"] = {
        **clinical("".join(extra)),
        "match": r"clinical\.csv.*(line|row) 3",
        "about": "one row with a field more than the header (an unquoted comma)",
    }
    extra = [*lines]
    extra[1] = extra[1].rstrip("\n") + ",EXTRA\n"
    c["clinical_extra_field_first_row"] = {
        **clinical("".join(extra)),
        "match": r"clinical\.csv.*(line|row) 2.*(16|fields)",
        "about": "the first data row has a field more than the header (pandas shifts the columns)",
    }
    c["clinical_missing_arm"] = {
        **clinical(_drop_col(clin, "arm")),
        "match": r"clinical\.csv.*'arm'",
        "about": "the required arm column is missing",
    }
    c["clinical_duplicate_subject"] = {
        **clinical(clin + lines[1]),
        "match": rf"clinical\.csv.*duplicate.*{first_subject}",
        "about": "the same subject twice",
    }
    c["clinical_garbage_age"] = {
        **clinical(_replace_col(clin, "age", 2, "sixty-two")),
        "match": r"clinical\.csv.*age.*sixty-two",
        "about": "non-numeric text in a numeric column",
    }
    c["clinical_identifiers"] = {
        **clinical(
            "name,dob,phone,mrn,"
            + lines[0]
            + "".join(
                f"Jane Doe {i},1960-01-0{i % 9 + 1},+44 20 7946 09{i:02d},MRN{i:05d},{line}"
                for i, line in enumerate(lines[1:])
            )
        ),
        "match": r"clinical\.csv.*'name', 'dob', 'phone', 'mrn'.*identifiers.*allow_identifiers",
        "about": "direct identifiers (name, dob, phone, mrn) in the clinical table",
    }
    c["clinical_one_arm"] = {
        **clinical(clin.replace(",SMT,", ",ucMSC+SMT,")),
        "match": r"arm",
        "about": "every subject in one arm (the control arm label is absent)",
    }
    c["clinical_three_arms"] = {
        **clinical(_replace_col(clin, "arm", 0, "placebo")),
        "match": r"3 arms.*placebo",
        "about": "a third arm label",
    }
    c["clinical_pickle"] = {
        **clinical(pickle.dumps({"subject_id": ["P001"], "arm": ["SMT"]})),
        "match": r"clinical\.csv",
        "about": "a pickle saved with a .csv name (must be refused, never unpickled)",
    }
    c["clinical_gzip_as_csv"] = {
        **clinical(gzip.compress(clin.encode(), mtime=0), name="clinical.csv"),
        "match": r"(?i)clinical\.csv.*(gzip|utf-8|binary|compressed|encoding)",
        "about": "a gzip file with a plain .csv name",
    }
    c["clinical_xlsx_empty_sheet"] = {
        **clinical(_xlsx(clin, empty=True), name="clinical.xlsx"),
        "match": r"clinical\.xlsx.*(empty|no rows|no columns|'subject_id')",
        "about": "an XLSX whose first sheet is empty",
    }
    c["clinical_xlsx_not_zip"] = {
        **clinical(clin, name="clinical.xlsx"),
        "match": r"clinical\.xlsx.*(Excel|XLSX|zip)",
        "about": "a CSV renamed .xlsx",
    }

    # ---- labs / samples ---------------------------------------------------------------------
    c["labs_visit_not_in_config"] = {
        "files": {"labs.csv": _replace_col(labs, "visit", 1, "D5")},
        "patch": data("labs", "labs.csv"),
        "match": r"labs.*'?D5'?.*visit",
        "about": "a visit label the study schedule does not define",
    }
    c["labs_unknown_subject"] = {
        "files": {"labs.csv": _replace_col(labs, "subject_id", 0, "Z999")},
        "patch": data("labs", "labs.csv"),
        "match": r"labs.*Z999",
        "about": "a labs row for a subject absent from the clinical table",
    }
    c["labs_garbage_value"] = {
        "files": {"labs.csv": _replace_col(labs, "bilirubin_mg_dl", 3, "high!")},
        "patch": data("labs", "labs.csv"),
        "match": r"labs\.csv.*bilirubin_mg_dl.*high!",
        "about": "non-numeric text in a lab value",
    }
    c["labs_duplicate_visit"] = {
        "files": {"labs.csv": labs + labs.splitlines(keepends=True)[1]},
        "patch": data("labs", "labs.csv"),
        "match": r"labs\.csv.*duplicate",
        "about": "the same subject × visit twice",
    }
    c["samples_unknown_subject"] = {
        "files": {"samples.csv": _replace_col(samples, "subject_id", 1, "Z999")},
        "patch": data("samples", "samples.csv"),
        "match": r"samples.*Z999",
        "about": "a sample whose subject is absent from the clinical table",
    }
    c["samples_duplicate_id"] = {
        "files": {"samples.csv": samples + samples.splitlines(keepends=True)[2]},
        "patch": data("samples", "samples.csv"),
        "match": r"samples.*duplicate",
        "about": "the same sample_id twice",
    }
    c["samples_missing_visit_column"] = {
        "files": {"samples.csv": _drop_col(samples, "visit")},
        "patch": data("samples", "samples.csv"),
        "match": r"samples\.csv.*'visit'",
        "about": "the required visit column is missing",
    }

    # ---- cytokines ------------------------------------------------------------------------
    c["cytokines_sample_not_in_samples"] = {
        "files": {"cyto.csv": cyto.replace("P001-D0-PL", "X001-D0-PL")},
        "patch": assay("cytokines", "cyto.csv"),
        "match": r"X001-D0-PL",
        "about": "cytokine sample IDs absent from the sample table",
    }
    c["cytokines_garbage_value"] = {
        "files": {"cyto.csv": _replace_col(cyto, "value", 5, "12,3abc".replace(",", "."))},
        "patch": assay("cytokines", "cyto.csv"),
        "match": r"cyto\.csv.*(row|line).*12\.3abc",
        "about": "a value that is neither a number nor a censored string",
    }
    c["cytokines_missing_value_column"] = {
        "files": {"cyto.csv": _drop_col(cyto, "value")},
        "patch": assay("cytokines", "cyto.csv", "long"),
        "match": r"cyto\.csv.*'value'",
        "about": "a long cytokine file without its value column",
    }
    c["cytokines_truncated"] = {
        "files": {"cyto.csv": cyto[: len(cyto) // 2].rsplit(",", 3)[0]},
        "patch": assay("cytokines", "cyto.csv"),
        "match": r"cyto\.csv.*(truncated|row|line)",
        "about": "a long cytokine file cut mid-row",
    }
    c["luminex_cut_mid_block"] = {
        "files": {"xponent.csv": lumi[: len(lumi) // 2]},
        "patch": assay("cytokines", "xponent.csv", "xponent"),
        "match": r"xponent\.csv.*(truncated|incomplete|block|DataType)",
        "about": "a Luminex xPONENT export cut in the middle of a DataType block",
    }
    c["luminex_header_only"] = {
        "files": {"xponent.csv": lumi.split("Results")[0]},
        "patch": assay("cytokines", "xponent.csv", "auto"),
        "match": r"xponent\.csv",
        "about": "an xPONENT export with its header blocks and no results",
    }
    olink_lines = olink.splitlines(keepends=True)
    mixed = olink_lines[:5] + [ln.replace(";", ",") for ln in olink_lines[5:10]] + olink_lines[10:]
    c["olink_mixed_delimiters"] = {
        "files": {"olink.csv": "".join(mixed)},
        "patch": assay("olink", "olink.csv"),
        "match": r"olink\.csv.*(delimiter|line 6|row 5|fields)",
        "about": "an Olink NPX file with some rows comma- instead of semicolon-delimited",
    }
    c["olink_npx_garbage"] = {
        "files": {"olink.csv": _replace_col(olink, "NPX", 3, "n/a?", sep=";")},
        "patch": assay("olink", "olink.csv"),
        "match": r"olink\.csv.*n/a\?",
        "about": "junk text in the NPX column",
    }

    # ---- flow -----------------------------------------------------------------------------
    c["flow_negative_frequency"] = {
        "files": {"flow.csv": _replace_col(flow, "frequency", 2, "-12.5")},
        "patch": data("flow", "flow.csv"),
        "match": r"flow\.csv.*frequency.*-12\.5",
        "about": "a negative population frequency",
    }
    c["flow_frequency_over_100"] = {
        "files": {"flow.csv": _replace_col(flow, "frequency", 2, "250")},
        "patch": data("flow", "flow.csv"),
        "match": r"flow\.csv.*frequency.*250",
        "about": "a frequency above 100 % of parent",
    }
    c["flow_missing_population"] = {
        "files": {"flow.csv": _drop_col(flow, "population")},
        "patch": data("flow", "flow.csv"),
        "match": r"flow\.csv.*'population'",
        "about": "the required population column is missing",
    }

    # ---- single cell ------------------------------------------------------------------------
    c["h5ad_not_hdf5"] = {
        "files": {"sc.h5ad": "this is not an HDF5 file\n"},
        "patch": data("singlecell", "sc.h5ad"),
        "match": r"sc\.h5ad.*(HDF5|h5ad)",
        "about": "a text file named .h5ad",
    }
    c["h5ad_empty"] = {
        "files": {"sc.h5ad": b""},
        "patch": data("singlecell", "sc.h5ad"),
        "match": r"sc\.h5ad.*(empty|HDF5)",
        "about": "a zero-byte .h5ad",
    }
    c["h5ad_truncated"] = {
        "files": {"sc.h5ad": (BASE / "singlecell.h5ad").read_bytes()[:20000]},
        "patch": data("singlecell", "sc.h5ad"),
        "match": r"sc\.h5ad.*(truncated|HDF5|corrupt|cannot)",
        "about": "an .h5ad cut short (interrupted copy)",
    }
    c["h5ad_float_counts"] = {
        "files": {"sc.h5ad": _h5ad(_float_counts)},
        "patch": data("singlecell", "sc.h5ad"),
        "match": r"sc\.h5ad.*(integer|raw) counts",
        "about": "normalised, log-transformed floats where raw counts are required",
    }
    c["h5ad_negative_counts"] = {
        "files": {"sc.h5ad": _h5ad(_negative_counts)},
        "patch": data("singlecell", "sc.h5ad"),
        "match": r"sc\.h5ad.*negative",
        "about": "a negative count",
    }
    c["h5ad_no_sample_id"] = {
        "files": {"sc.h5ad": _h5ad(_drop_obs("sample_id", "visit"))},
        "patch": data("singlecell", "sc.h5ad"),
        "match": r"sc\.h5ad.*sample_id",
        "about": "obs with neither sample_id nor subject_id + visit",
    }
    c["h5ad_unknown_sample"] = {
        "files": {"sc.h5ad": _h5ad(_unknown_sample)},
        "patch": data("singlecell", "sc.h5ad"),
        "match": r"Z999",
        "about": "cells from a sample absent from the sample table",
    }

    # ---- run-time problems (need the discover job) ---------------------------------------
    all_alive = clin
    for col in ("death", "transplant"):
        for i in range(len(lines) - 1):
            all_alive = _replace_col(all_alive, col, i, "0")
    for col in ("death_day", "transplant_day"):
        for i in range(len(lines) - 1):
            all_alive = _replace_col(all_alive, col, i, "")
    for i in range(len(lines) - 1):
        all_alive = _replace_col(all_alive, "last_followup_day", i, "90")
    c["run_outcome_one_class"] = {
        "files": {"clinical.csv": all_alive},
        "patch": lambda cfg: {
            **data("clinical", "clinical.csv")(cfg),
            "outcome": {"kind": "transplant_free_survival", "horizon_days": 28, "label": "binary"},
        },
        "command": "run",
        "match": r"(one class|only one|single class|no events|every subject)",
        "about": "a binary outcome where every subject has the same label",
    }
    no_label = clin
    for col in ("death", "transplant"):
        for i in range(len(lines) - 1):
            no_label = _replace_col(no_label, col, i, "0")
    for col in ("death_day", "transplant_day"):
        for i in range(len(lines) - 1):
            no_label = _replace_col(no_label, col, i, "")
    for i in range(len(lines) - 1):
        no_label = _replace_col(no_label, "last_followup_day", i, "3")
    c["run_labels_all_missing"] = {
        "files": {"clinical.csv": no_label},
        "patch": lambda cfg: {
            **data("clinical", "clinical.csv")(cfg),
            "outcome": {"kind": "transplant_free_survival", "horizon_days": 28, "label": "binary"},
        },
        "command": "run",
        "match": r"no subject has a label",
        "about": "every subject censored before the horizon: no binary label at all",
    }
    c["run_too_few_subjects"] = {
        "command": "run",
        "match": r"(too few|not enough|fewer).*(subjects|class|events)",
        "about": "8 subjects cannot fill 2 outer x 2 inner folds with both classes",
    }
    c["run_reader_error"] = {
        **clinical(_replace_col(clin, "age", 2, "sixty-two")),
        "command": "run",
        "match": r"clinical\.csv.*age.*sixty-two",
        "about": "a reader error raised inside `run` (the run folder must say failed)",
    }

    # ---- panels / score ---------------------------------------------------------------------
    doc = json.loads((PANEL / "panel.json").read_text(encoding="utf-8"))
    table = (PANEL / "features.csv").read_text(encoding="utf-8")

    def score(files, panel="../_panel/panel.json", tbl="../_panel/features.csv"):
        return {"files": files, "command": "score", "args": [panel, tbl]}

    c["panel_unknown_version"] = {
        **score({"panel.json": json.dumps({**doc, "format_version": 99})}, panel="panel.json"),
        "match": r"panel\.json.*format_version.*99",
        "about": "a panel file from a future format version",
    }
    c["panel_pickle"] = {
        **score({"panel.json": pickle.dumps(doc)}, panel="panel.json"),
        "match": r"panel\.json.*(pickle|not UTF-8|JSON)",
        "about": "a pickle renamed panel.json (must never be unpickled)",
    }
    tampered = json.loads(json.dumps(doc))
    tampered["model"]["coefficients"][0] = 5.0
    c["panel_tampered"] = {
        **score({"panel.json": json.dumps(tampered)}, panel="panel.json"),
        "match": r"panel\.json.*checksum",
        "about": "a coefficient edited after export",
    }
    c["panel_truncated_json"] = {
        **score({"panel.json": json.dumps(doc)[:300]}, panel="panel.json"),
        "match": r"panel\.json.*JSON",
        "about": "a panel file cut short",
    }
    c["panel_wrong_format_name"] = {
        **score(
            {"panel.json": json.dumps({**doc, "format": "sklearn.pickle"})}, panel="panel.json"
        ),
        "match": r"panel\.json.*format",
        "about": "a JSON file that is not a biomarkers panel",
    }
    c["score_missing_marker"] = {
        **score({"table.csv": _drop_col(table, "clinical:meld@D0")}, tbl="table.csv"),
        "match": r"clinical:meld@D0",
        "about": "the feature table lacks one of the panel's markers",
    }
    c["score_garbage_values"] = {
        **score({"table.csv": _replace_col(table, "cytokine:IL6@D0", 1, "lots")}, tbl="table.csv"),
        "match": r"cytokine:IL6@D0.*lots",
        "about": "non-numeric text in a marker column",
    }
    c["score_no_subject_id"] = {
        **score({"table.csv": _drop_col(table, "subject_id")}, tbl="table.csv"),
        "match": r"table\.csv.*'subject_id'",
        "about": "a feature table without subject IDs",
    }
    c["score_empty_table"] = {
        **score({"table.csv": ""}, tbl="table.csv"),
        "match": r"table\.csv.*empty",
        "about": "a zero-byte feature table",
    }
    c["score_duplicate_subject"] = {
        **score({"table.csv": table + table.splitlines(keepends=True)[1]}, tbl="table.csv"),
        "match": r"table\.csv.*duplicate.*S01",
        "about": "the same subject twice in the table to score",
    }
    c["score_unsupported_suffix"] = {
        **score({"table.xml": "<x/>"}, tbl="table.xml"),
        "match": r"table\.xml.*unsupported",
        "about": "a feature table in an unsupported format",
    }
    c.update(_extra_cases())
    return c


def _extra_cases() -> dict[str, dict]:
    """Round-two cases, one module per class of inputs (``_cases_*.py`` next to this file)."""
    sys.path.insert(0, str(HERE))
    try:
        import _cases_inputs
        import _cases_security
    finally:
        sys.path.remove(str(HERE))
    extra: dict[str, dict] = {}
    for module in (_cases_security, _cases_inputs):
        for name, spec in module.cases(_base_text).items():
            if name in extra:
                raise ValueError(f"corpus case {name!r} is defined twice")
            extra[name] = spec
    return extra


def write_cases() -> list[str]:
    """Write every case folder (removing old ones) and return their names."""
    for old in HERE.iterdir():
        if old.is_dir() and not old.name.startswith(("_", ".")):
            shutil.rmtree(old)
    names = []
    for name, spec in cases().items():
        folder = HERE / name
        folder.mkdir()
        for fname, content in spec.get("files", {}).items():
            target = folder / fname
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8", newline="\n")
        command = spec.get("command", "validate")
        if command in {"validate", "run"}:
            if "config_bytes" in spec:
                (folder / "config.yaml").write_bytes(spec["config_bytes"])
            elif "config_text" in spec:
                (folder / "config.yaml").write_text(spec["config_text"], encoding="utf-8")
            else:
                cfg = spec.get("patch", lambda x: x)(base_config())
                (folder / "config.yaml").write_text(
                    yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8"
                )
        meta = {
            "command": command,
            "args": spec.get("args", ["config.yaml"]),
            "match": spec["match"],
            "about": spec["about"],
            **{k: spec[k] for k in OPTIONAL_FIELDS if k in spec},
        }
        (folder / "case.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        names.append(name)
    return names


def main() -> None:
    """Rebuild ``_base``, ``_panel`` and every case folder."""
    make_base()
    make_panel()
    names = write_cases()
    print(f"{len(names)} cases written to {HERE}", file=sys.stderr)


if __name__ == "__main__":
    main()
