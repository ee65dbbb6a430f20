"""Round-two corpus cases (user mistakes that must be exit 2, values that must not be mangled silently, crash safety).

``cases(base_text)`` returns ``{name: spec}`` in the format of ``make_corpus.cases()``;
``base_text(name)`` reads a file of the valid ``_base`` trial.

Classes: unusable outputs (a file where a folder goes, a folder where a file goes, names too
long), bad seeds / workers / thresholds, damaged run manifests, infinite numbers in every
reader, duplicate column names, empty IDs, XLSX formulas without values, XLSX bombs and huge
cells, non-UTF-8 vendor files, death after the last follow-up, IDs equal after NFC.
"""

from __future__ import annotations

import io
import json
import unicodedata
import zipfile
from collections.abc import Callable

from _patches import assay, clinical, data, setkey


def _xlsx_with(header: list[str], rows: list[list[object]]) -> bytes:
    """A one-sheet workbook written by openpyxl (formulas are saved without a cached value)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _csv_grid(text: str, sep: str = ",") -> tuple[list[str], list[list[str]]]:
    lines = text.splitlines()
    return lines[0].split(sep), [ln.split(sep) for ln in lines[1:]]


def _bomb(base: bytes, *, member_mb: int) -> bytes:
    """A valid workbook plus one highly compressible part of ``member_mb`` megabytes of zeros."""
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            out.writestr(info, src.read(info))
        out.writestr(
            zipfile.ZipInfo("xl/media/padding.bin", date_time=(2026, 1, 1, 0, 0, 0)),
            b"\0" * (member_mb * 2**20),
            compress_type=zipfile.ZIP_DEFLATED,
            compresslevel=9,
        )
    return buf.getvalue()


def _replace_in_xlsx(data: bytes, old: str, new: str) -> bytes:
    """Rewrite the parts of a workbook with ``old`` replaced (openpyxl caps cells at 32,767 chars)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            part = src.read(info).replace(old.encode(), new.encode())
            out.writestr(info, part, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def _nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def cases(base_text: Callable[[str], str]) -> dict[str, dict]:
    """Every case of this class."""
    from make_corpus import _drop_col, _h5ad, _replace_col, base_config

    del base_config
    clin = base_text("clinical.csv")
    labs = base_text("labs.csv")
    samples = base_text("samples.csv")
    cyto = base_text("cytokines_long.csv")
    olink = base_text("olink_npx.csv")
    lumi = base_text("luminex_xponent.csv")
    flow = base_text("flow.csv")
    table = (_here() / "_panel" / "features.csv").read_text(encoding="utf-8")
    lines = clin.splitlines(keepends=True)

    def lab(content, name="labs.csv"):
        return {"files": {name: content}, "patch": data("labs", name)}

    def score(files, tbl="table.csv", **extra):
        return {
            "files": files, "command": "score", "args": ["../_panel/panel.json", tbl], **extra,
        }  # fmt: skip

    c: dict[str, dict] = {}

    # ---- outputs that cannot be written: exit 2 naming the path and the fix -----------------
    c["out_run_folder_is_a_file"] = {
        "command": "run", "out_kind": "file",
        "match": r"cannot write .*taken.*(not a folder|is a file)",
        "about": "run --out names an existing file, not a folder",
    }  # fmt: skip
    c["out_run_below_a_file"] = {
        "command": "run", "out_kind": "under_file",
        "match": r"cannot write .*taken.*(not a folder|is a file)",
        "about": "run --out is a path below an existing file",
    }  # fmt: skip
    c["out_run_name_too_long"] = {
        "command": "run", "out_kind": "long_name",
        "match": r"cannot write .*nnnn.*too long",
        "about": "run --out with a 300-character folder name (ENAMETOOLONG)",
    }  # fmt: skip
    c["out_score_is_a_folder"] = {
        **score({"table.csv": table}, out_kind="dir"),
        "match": r"cannot write .*taken.*folder; give a file name",
        "about": "score --out names an existing folder",
    }
    c["out_score_below_a_file"] = {
        **score({"table.csv": table}, out_kind="under_file"),
        "match": r"cannot write .*taken.*not a folder",
        "about": "score --out is a path below an existing file",
    }
    c["out_score_name_too_long"] = {
        **score({"table.csv": table}, out_kind="long_name"),
        "match": r"cannot write .*too long",
        "about": "score --out with a 300-character file name",
    }
    c["out_simulate_is_a_file"] = {
        "command": "simulate", "args": [], "out_kind": "file",
        "options": ["--subjects", "4", "--cells-per-sample", "0"],
        "match": r"cannot write .*taken",
        "about": "simulate --out names an existing file",
    }  # fmt: skip

    # ---- seeds, workers, thresholds ---------------------------------------------------------
    c["cfg_negative_seed"] = {
        "patch": setkey("seed", -1),
        "match": r"seed: .*greater than or equal to 0.*-1",
        "about": "a negative seed (numpy refuses it deep inside a run)",
    }
    c["cfg_negative_seed_run"] = {
        "patch": setkey("seed", -7),
        "command": "run",
        "match": r"seed: .*greater than or equal to 0",
        "about": "a negative seed given to run",
    }
    c["cfg_n_jobs_zero"] = {
        "patch": setkey("backend.n_jobs", 0),
        "match": r"backend\.n_jobs: .*0 workers",
        "about": "n_jobs: 0 (joblib would fail mid-run)",
    }
    c["cli_set_n_jobs_zero"] = {
        "options": ["--set", "backend.n_jobs=0"],
        "match": r"backend\.n_jobs: .*0 workers",
        "about": "--set backend.n_jobs=0 on the command line",
    }
    c["cli_set_negative_seed"] = {
        "command": "run",
        "options": ["--set", "seed=-3"],
        "match": r"seed: .*greater than or equal to 0",
        "about": "--set seed=-3 given to run",
    }
    c["simulate_negative_seed"] = {
        "command": "simulate", "args": [], "options": ["--seed", "-1"],
        "match": r"--seed -1: a seed must be an integer >= 0",
        "about": "simulate --seed -1",
    }  # fmt: skip
    c["cfg_threshold_nan"] = {
        "patch": setkey("panel", {"enabled": True, "threshold": float("nan")}),
        "match": r"panel\.threshold.*finite",
        "about": "threshold: .nan (no subject would ever be flagged)",
    }
    c["cfg_threshold_inf"] = {
        "patch": setkey("panel", {"enabled": True, "threshold": float("inf")}),
        "match": r"panel\.threshold.*finite",
        "about": "threshold: .inf",
    }
    c["cfg_threshold_dict_nan"] = {
        "patch": setkey("panel", {"enabled": True, "threshold": {"enet": float("nan")}}),
        "match": r"panel\.threshold.*finite",
        "about": "a per-model threshold of .nan",
    }

    # ---- damaged run folders given to report ------------------------------------------------
    manifest = {"format": "biomarkers.run", "format_version": 1, "status": "complete"}
    c["report_manifest_not_json"] = {
        "files": {"run/manifest.json": "{this is not json"},
        "command": "report", "args": ["run"],
        "match": r"manifest\.json: damaged run manifest",
        "about": "a run folder whose manifest.json is not JSON",
    }  # fmt: skip
    c["report_manifest_truncated"] = {
        "files": {"run/manifest.json": json.dumps(manifest)[:25]},
        "command": "report", "args": ["run"],
        "match": r"manifest\.json: damaged run manifest",
        "about": "a manifest cut short (disk full while copying)",
    }  # fmt: skip
    c["report_manifest_a_list"] = {
        "files": {"run/manifest.json": "[1, 2, 3]\n"},
        "command": "report", "args": ["run"],
        "match": r"manifest\.json: damaged run manifest \(a JSON list",
        "about": "a manifest that is valid JSON but not an object",
    }  # fmt: skip
    c["report_manifest_binary"] = {
        "files": {"run/manifest.json": b"\x80\x04\x95binary\xff"},
        "command": "report", "args": ["run"],
        "match": r"manifest\.json: damaged run manifest",
        "about": "a binary file named manifest.json",
    }  # fmt: skip
    c["report_not_a_run_folder"] = {
        "files": {"run/notes.txt": "no manifest here\n"},
        "command": "report", "args": ["run"],
        "match": r"no manifest\.json",
        "about": "report on a folder that is not a run",
    }  # fmt: skip

    # ---- infinite numbers, in every reader --------------------------------------------------
    for name, col, value in (
        ("clinical_inf_age", "age", "inf"),
        ("clinical_minus_inf_weight", "weight_kg", "-inf"),
        ("clinical_1e400_weight", "weight_kg", "1e400"),
        ("clinical_infinity_word", "age", "Infinity"),
    ):
        c[name] = {
            **clinical(_replace_col(clin, col, 2, value)),
            "match": rf"clinical\.csv, row 4, column '{col}': value '{value}' is infinite",
            "about": f"{value} in the clinical column {col}",
        }
    c["labs_inf_bilirubin"] = {
        **lab(_replace_col(labs, "bilirubin_mg_dl", 3, "inf")),
        "match": r"labs\.csv, row 5, column 'bilirubin_mg_dl': value 'inf' is infinite",
        "about": "inf in a lab value",
    }
    c["labs_1e400_inr"] = {
        **lab(_replace_col(labs, "inr", 1, "1e400")),
        "match": r"labs\.csv, row 3, column 'inr': value '1e400' is infinite",
        "about": "1e400 (overflows to inf) in a lab value",
    }
    c["cytokines_1e400"] = {
        "files": {"cyto.csv": _replace_col(cyto, "value", 4, "1e400")},
        "patch": assay("cytokines", "cyto.csv"),
        "match": r"cyto\.csv.*row 6.*'value': value '1e400' is infinite",
        "about": "1e400 in a long cytokine file (parsed as a plain number, so as inf)",
    }
    c["cytokines_inf"] = {
        "files": {"cyto.csv": _replace_col(cyto, "value", 4, "-inf")},
        "patch": assay("cytokines", "cyto.csv"),
        "match": r"cyto\.csv.*row 6.*'-inf'",
        "about": "-inf in a long cytokine file",
    }
    c["cytokines_inf_dilution"] = {
        "files": {"cyto.csv": _replace_col(cyto, "dilution", 2, "inf")},
        "patch": assay("cytokines", "cyto.csv"),
        "match": r"cyto\.csv.*'dilution'.*infinite",
        "about": "an infinite dilution factor",
    }
    c["olink_npx_1e400"] = {
        "files": {"olink.csv": _replace_col(olink, "NPX", 2, "1e400", sep=";")},
        "patch": assay("olink", "olink.csv"),
        "match": r"olink\.csv.*1e400.*infinite",
        "about": "1e400 as an Olink NPX value",
    }
    c["flow_inf_frequency"] = {
        "files": {"flow.csv": _replace_col(flow, "frequency", 1, "inf")},
        "patch": data("flow", "flow.csv"),
        "match": r"flow\.csv.*'inf'",
        "about": "inf as a population frequency",
    }
    c["flow_1e400_count"] = {
        "files": {"flow.csv": _replace_col(flow, "count", 1, "1e400")},
        "patch": data("flow", "flow.csv"),
        "match": r"flow\.csv.*'count'.*infinite",
        "about": "1e400 as an event count",
    }
    c["h5ad_inf_counts"] = {
        "files": {"sc.h5ad": _h5ad(_inf_counts)},
        "patch": data("singlecell", "sc.h5ad"),
        "match": r"sc\.h5ad: X holds infinite values",
        "about": "an infinite count in a float count matrix (inf == floor(inf) passed as an integer)",
    }
    c["score_inf_marker"] = {
        **score({"table.csv": _replace_col(table, "cytokine:IL6@D0", 1, "inf")}),
        "match": r"table\.csv, row 3, column 'cytokine:IL6@D0': value 'inf' is infinite",
        "about": "inf in a marker column of a table to score",
    }

    # ---- duplicate column names (pandas would rename the second to x.1) ------------------------
    c["clinical_two_arm_columns"] = {
        **clinical(
            "".join(
                ln.rstrip("\n") + f",{'arm' if i == 0 else 'SMT'}\n" for i, ln in enumerate(lines)
            )
        ),
        "match": r"clinical\.csv: column 'arm' appears twice in the header \(columns 2 and 16\)",
        "about": "two arm columns (the second would be read as arm.1 and ignored)",
    }
    labs_lines = labs.splitlines(keepends=True)
    c["labs_two_value_columns"] = {
        **lab(
            "".join(
                ln.rstrip("\n") + (",inr\n" if i == 0 else ",9.9\n")
                for i, ln in enumerate(labs_lines)
            )
        ),
        "match": r"labs\.csv: column 'inr' appears twice",
        "about": "a lab column twice (which value is right?)",
    }
    cyto_lines = cyto.splitlines(keepends=True)
    c["cytokines_two_value_columns"] = {
        "files": {
            "cyto.csv": "".join(
                ln.rstrip("\n") + (",value\n" if i == 0 else ",1.0\n")
                for i, ln in enumerate(cyto_lines)
            )
        },
        "patch": assay("cytokines", "cyto.csv"),
        "match": r"cyto\.csv: column 'value' appears twice",
        "about": "two value columns in a long cytokine file",
    }
    table_lines = table.splitlines(keepends=True)
    c["score_marker_column_twice"] = {
        **score(
            {
                "table.csv": "".join(
                    ln.rstrip("\n") + (",cytokine:IL6@D0\n" if i == 0 else ",1.0\n")
                    for i, ln in enumerate(table_lines)
                )
            }
        ),
        "match": r"table\.csv: column 'cytokine:IL6@D0' appears twice",
        "about": "a panel marker column twice in the table to score",
    }
    header, rows = _csv_grid(clin)
    c["clinical_xlsx_two_arm_columns"] = {
        **clinical(_xlsx_with([*header, "arm"], [[*r, "SMT"] for r in rows]), name="clinical.xlsx"),
        "match": r"clinical\.xlsx: column 'arm' appears twice in the header of sheet",
        "about": "an XLSX with two arm columns",
    }
    flow_lines = flow.splitlines(keepends=True)
    c["flow_two_frequency_columns"] = {
        "files": {
            "flow.csv": "".join(
                ln.rstrip("\n") + (",frequency\n" if i == 0 else ",1.0\n")
                for i, ln in enumerate(flow_lines)
            )
        },
        "patch": data("flow", "flow.csv"),
        "match": r"flow\.csv: column 'frequency' appears twice",
        "about": "two frequency columns in a flow table",
    }

    # ---- empty IDs ---------------------------------------------------------------------------
    c["clinical_empty_subject_id"] = {
        **clinical(_replace_col(clin, "subject_id", 3, "")),
        "match": r"clinical\.csv: column 'subject_id' is empty at row\(s\) '5'",
        "about": "a subject without an ID",
    }
    c["score_empty_subject_id"] = {
        **score({"table.csv": _replace_col(table, "subject_id", 2, "")}),
        "match": r"table\.csv: column 'subject_id' is empty at row\(s\) '4'",
        "about": "a row to score without a subject ID (was scored as subject 'nan')",
    }
    c["score_blank_subject_id"] = {
        **score({"table.csv": _replace_col(table, "subject_id", 0, "   ")}),
        "match": r"table\.csv: column 'subject_id' is empty at row\(s\) '2'",
        "about": "a subject ID of spaces only",
    }
    c["samples_empty_sample_id"] = {
        "files": {"samples.csv": _replace_col(samples, "sample_id", 2, "")},
        "patch": data("samples", "samples.csv"),
        "match": r"samples\.csv: column 'sample_id' is empty",
        "about": "a sample without an ID",
    }

    # ---- XLSX: formulas without values, bombs, huge cells -----------------------------------------
    formula_rows = [list(r) for r in rows]
    j = header.index("age")
    formula_rows[1][j] = "=40+22"
    c["clinical_xlsx_formula_no_value"] = {
        **clinical(_xlsx_with(header, formula_rows), name="clinical.xlsx"),
        "match": r"clinical\.xlsx, sheet 'Sheet', cell C3: formula =40\+22 has no saved value",
        "about": "an XLSX formula saved without its cached value (read as empty)",
    }
    lab_header, lab_rows = _csv_grid(labs)
    lab_rows = [list(r) for r in lab_rows]
    lab_rows[0][lab_header.index("inr")] = "=B2*2"
    c["labs_xlsx_formula_no_value"] = {
        **lab(_xlsx_with(lab_header, lab_rows), name="labs.xlsx"),
        "match": r"labs\.xlsx, sheet 'Sheet', cell E2: formula =B2\*2 has no saved value",
        "about": "a lab value that is an unevaluated formula",
    }
    plain = _xlsx_with(header, [list(r) for r in rows])
    c["clinical_xlsx_bomb"] = {
        **clinical(_bomb(plain, member_mb=60), name="clinical.xlsx"),
        "match": r"clinical\.xlsx: part 'xl/media/padding\.bin' expands \d+-fold to 60 MB",
        "about": "a decompression bomb: a ~60 KB workbook expanding to 60 MB",
    }
    c["clinical_xlsx_over_size_limit"] = {
        **clinical(plain, name="clinical.xlsx"),
        "env": {"BIOMARKERS_XLSX_MAX_MB": "0.005"},
        "match": r"clinical\.xlsx: the workbook declares \d+ MB of uncompressed content, more than the 0 MB limit",
        "about": "a workbook larger than a lowered BIOMARKERS_XLSX_MAX_MB",
    }
    huge = [list(r) for r in rows]
    huge[0][header.index("etiology")] = "HUGECELL"
    c["clinical_xlsx_huge_cell"] = {
        **clinical(
            _replace_in_xlsx(_xlsx_with(header, huge), "HUGECELL", "A" * (3 * 2**20)),
            name="clinical.xlsx",
        ),
        "match": r"clinical\.xlsx: a cell holds more than 1024 KB of text \(starts 'A{20,40}…'\)",
        "about": "a 3 MB cell (the message shows its first characters only)",
    }
    c["clinical_xlsx_bad_size_limit"] = {
        **clinical(plain, name="clinical.xlsx"),
        "env": {"BIOMARKERS_XLSX_MAX_MB": "lots"},
        "match": r"BIOMARKERS_XLSX_MAX_MB='lots' must be a positive number",
        "about": "a size limit that is not a number",
    }

    # ---- non-UTF-8 vendor files: refused naming the line, the byte and the cp1252 reading -------
    c["clinical_cp1252_micro"] = {
        **clinical(clin.replace("alcohol", "alcohol µ", 1).encode("cp1252")),
        "match": r"clinical\.csv, line 2: not UTF-8 text \(byte 0xb5; .*cp1252.*µ",
        "about": "a cp1252 clinical table with µ",
    }
    c["cytokines_latin1_unit"] = {
        "files": {"cyto.csv": cyto.replace("pg/mL", "µg/mL").encode("latin-1")},
        "patch": assay("cytokines", "cyto.csv"),
        "match": r"cyto\.csv, line 2: not UTF-8 text \(byte 0xb5",
        "about": "a Latin-1 cytokine file with µg/mL units",
    }
    c["olink_cp1252_eszett"] = {
        "files": {"olink.csv": olink.replace("Pass", "Gemäß", 3).encode("cp1252")},
        "patch": assay("olink", "olink.csv"),
        "match": r"olink\.csv, line 2: not UTF-8 text \(byte 0xe4",
        "about": "a cp1252 Olink file with ä/ß in the QC column",
    }
    c["luminex_greek_alpha"] = {
        "files": {"xponent.csv": lumi.encode("cp1253")},
        "patch": assay("cytokines", "xponent.csv", "xponent"),
        "match": r"xponent\.csv, line \d+: not UTF-8 text \(byte 0xe1",
        "about": "an xPONENT export saved in Greek cp1253 (TNF-α, IL-1β): was read with U+FFFD",
    }
    c["flow_latin1_population"] = {
        "files": {"flow.csv": flow.replace("lymphocytes", "lymphocytes ß", 1).encode("latin-1")},
        "patch": data("flow", "flow.csv"),
        "match": r"flow\.csv, line 2: not UTF-8 text \(byte 0xdf",
        "about": "a Latin-1 flow table",
    }
    c["labs_latin1_late_line"] = {
        **lab((labs.rstrip("\n").removesuffix(",none") + ",légère\n").encode("latin-1")),
        "match": r"labs\.csv, line \d+: not UTF-8 text \(byte 0xe9",
        "about": "a single Latin-1 byte far into the file (after the lines sniffed for the header)",
    }

    # ---- clinical consistency ----------------------------------------------------------------------
    dead = _replace_col(_replace_col(clin, "death", 0, "1"), "death_day", 0, "120")
    c["clinical_death_after_followup"] = {
        **clinical(dead),
        "match": r"clinical\.csv, row 2 \(subject 'P001'\): death_day 120 is after last_followup_day 94",
        "about": "a death recorded after the last follow-up",
    }
    moved = _replace_col(_replace_col(clin, "transplant", 0, "1"), "transplant_day", 0, "95")
    c["clinical_transplant_after_followup"] = {
        **clinical(moved),
        "match": r"clinical\.csv, row 2 \(subject 'P001'\): transplant_day 95 is after last_followup_day 94",
        "about": "a transplant after the last follow-up",
    }

    # ---- IDs equal after Unicode NFC normalisation -------------------------------------------------
    nfc = _replace_col(_replace_col(clin, "subject_id", 0, "José"), "subject_id", 1, _nfd("José"))
    c["clinical_duplicate_after_nfc"] = {
        **clinical(nfc),
        "match": r"clinical\.csv: duplicate subject_id: 'José' \(rows 2, 3\)",
        "about": "two subject IDs that differ only by Unicode normalisation (NFC vs NFD)",
    }
    c["score_duplicate_after_nfc"] = {
        **score(
            {
                "table.csv": _replace_col(
                    _replace_col(table, "subject_id", 0, "Zoë"), "subject_id", 1, _nfd("Zoë")
                )
            }
        ),
        "match": r"table\.csv: duplicate subject_id: 'Zoë' \(rows 2, 3\)",
        "about": "two IDs to score that are the same after NFC normalisation",
    }
    del _drop_col
    return c


def _here():
    from pathlib import Path

    return Path(__file__).resolve().parent


def _inf_counts(adata):
    import numpy as np
    import scipy.sparse as sp

    x = adata.X.toarray().astype(np.float32)
    x[0, 0] = np.inf
    adata.X = sp.csr_matrix(x)
    return adata
