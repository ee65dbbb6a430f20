"""Round two of the input hardening: OS errors on outputs, message truncation, XLSX bounds, and
valid-but-unusual inputs that must keep working (the bad ones are in ``tests/data/bad``)."""

from __future__ import annotations

import errno
import io
import json
import time
import unicodedata
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import ConfigError, InputFileError, SchemaError, one_line

from .helpers import BASE, PANEL, complete_manifests, invoke

SIM_CONFIG = (
    "pipeline: simulate\nname: io2\nseed: 0\noutput: runs\n"
    "simulate: {n_subjects: 4, cells_per_sample: 0}\n"
)
WRITE_ERRORS = {
    "ENOSPC": "the disk is full",
    "EROFS": "read-only",
    "EACCES": "no permission",
    "EDQUOT": "quota",
    "ENAMETOOLONG": "too long",
}


# ---- OS errors while writing outputs: exit 2, one line, the path and the fix ----------------------
def _failing_writes(monkeypatch, code: str, *, spare: tuple[str, ...] = ()):
    """Make every atomic write fail with ``code`` (except files named in ``spare``).

    Patched at the one step every writer goes through, so modules that imported a writer by
    name (``from biomarkers._atomic import write_table``) fail too and nothing leaks.
    """
    from biomarkers import _atomic

    real = _atomic._move_into_place

    def move_into_place(tmp, path):
        if Path(path).name in spare:
            return real(tmp, path)
        if Path(path).suffix == ".csv":  # no file name, as from a write() call
            raise OSError(getattr(errno, code), f"simulated {code}")
        raise OSError(getattr(errno, code), f"simulated {code}", str(path))

    monkeypatch.setattr(_atomic, "_move_into_place", move_into_place)


def _one_error_line(result) -> str:
    assert "Traceback" not in result.output
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


@pytest.mark.parametrize("code", list(WRITE_ERRORS))
def test_write_error_creating_a_run_is_exit_2(code, tmp_path, monkeypatch):
    config = tmp_path / "sim.yaml"
    config.write_text(SIM_CONFIG)
    _failing_writes(monkeypatch, code)
    line = _one_error_line(invoke(["run", str(config), "--out", str(tmp_path / "runs"), "-q"]))
    assert "config.yaml" in line
    assert WRITE_ERRORS[code] in line
    assert not complete_manifests(tmp_path)


def test_disk_full_mid_run_marks_the_run_failed(tmp_path, monkeypatch):
    """ENOSPC on a result file: exit 2, and the manifest (still writable) says failed."""
    config = tmp_path / "sim.yaml"
    config.write_text(SIM_CONFIG)
    _failing_writes(monkeypatch, "ENOSPC", spare=("config.yaml", "manifest.json"))
    line = _one_error_line(invoke(["run", str(config), "--out", str(tmp_path / "runs"), "-q"]))
    assert "the disk is full" in line
    (manifest,) = (tmp_path / "runs").rglob("manifest.json")
    assert json.loads(manifest.read_text())["status"] == "failed"


@pytest.mark.parametrize("code", ["ENOSPC", "EROFS", "EACCES"])
def test_write_error_on_score_out_is_exit_2(code, tmp_path, monkeypatch):
    _failing_writes(monkeypatch, code)
    args = ["score", str(PANEL / "panel.json"), str(PANEL / "features.csv")]
    line = _one_error_line(invoke([*args, "--out", str(tmp_path / "scores.csv"), "-q"]))
    assert "cannot write the outputs" in line
    assert WRITE_ERRORS[code] in line


def test_user_os_error_maps_only_what_a_user_can_fix():
    from pipelines.run import user_os_error

    for code in ("EACCES", "EROFS", "ENOSPC", "ENAMETOOLONG", "ENOTDIR", "EISDIR", "EEXIST"):
        err = user_os_error(OSError(getattr(errno, code), "x", "/out/file.csv"))
        assert isinstance(err, ConfigError), code
        assert "/out/file.csv" in str(err)
    replace = OSError(errno.EISDIR, "Is a directory", "/out/.tmp123", None, "/out/scores.csv")
    assert "/out/scores.csv" in str(user_os_error(replace))  # the destination, not the temp file
    assert user_os_error(OSError(errno.EIO, "I/O error")) is None  # a failing disk is not a typo
    assert user_os_error(ValueError("x")) is None


def test_write_guard_error_is_exit_2_not_internal(tmp_path, monkeypatch):
    """A real unwritable target (a folder named like the output file), no monkeypatching."""
    (tmp_path / "scores.csv").mkdir()
    args = ["score", str(PANEL / "panel.json"), str(PANEL / "features.csv")]
    line = _one_error_line(invoke([*args, "--out", str(tmp_path / "scores.csv"), "-q"]))
    assert "scores.csv" in line


# ---- messages never carry a whole huge value --------------------------------------------------
def test_one_line_truncates_and_flattens():
    assert one_line("a\nb\t c") == "a b c"
    assert len(one_line("x" * 10**7)) == 160
    assert one_line("x" * 200).endswith("…")


@pytest.mark.parametrize(
    ("size", "match"),
    [(100_000, r"column 'age': value '9{100}x+…' is not a number"), (5_000_000, "longer than")],
)
def test_a_huge_cell_in_a_csv_gives_a_short_message(size, match, tmp_path):
    import csv

    from biomarkers.io import read_clinical

    # the csv module's limit is process-wide and scipy's ARFF reader (used by scikit-survival's
    # bundled data sets) raises it for good: pin the default for this test
    limit = csv.field_size_limit(131_072)

    clin = (BASE / "clinical.csv").read_text().splitlines()
    cells = clin[1].split(",")
    cells[2] = "9" * 100 + "x" * size  # age
    path = tmp_path / "clinical.csv"
    path.write_text("\n".join([clin[0], ",".join(cells), *clin[2:]]) + "\n")
    try:
        with pytest.raises((SchemaError, InputFileError), match=match) as info:
            read_clinical(path)
    finally:
        csv.field_size_limit(limit)
    assert len(str(info.value)) < 600


# ---- XLSX bounds ----------------------------------------------------------------------------
def _workbook(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        df.to_excel(xl, index=False)
    return buf.getvalue()


def test_xlsx_bomb_of_150_mb_is_refused_fast(tmp_path):
    """≈150 KB on disk, 150 MB declared: refused from the zip directory, before openpyxl."""
    from biomarkers.io import read_clinical

    clin = pd.read_csv(BASE / "clinical.csv", dtype=str)
    path = tmp_path / "clinical.xlsx"
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_workbook(clin))) as src, zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            out.writestr(info, src.read(info))
        out.writestr("xl/sharedStrings2.xml", b" " * (150 * 2**20), zipfile.ZIP_DEFLATED)
    path.write_bytes(buf.getvalue())
    assert path.stat().st_size < 500_000
    start = time.perf_counter()
    with pytest.raises(InputFileError, match=r"expands \d+-fold to 150 MB"):
        read_clinical(path)
    assert time.perf_counter() - start < 2.0


def test_xlsx_that_understates_its_size_is_still_bounded(tmp_path, monkeypatch):
    """The declared sizes pass; the bytes really decompressed are counted and stop the read."""
    from biomarkers.io import read_clinical

    clin = pd.read_csv(BASE / "clinical.csv", dtype=str)
    path = tmp_path / "clinical.xlsx"
    path.write_bytes(_workbook(clin))
    monkeypatch.setattr("biomarkers.io._xlsx._check_declared", lambda *a: None)
    monkeypatch.setenv("BIOMARKERS_XLSX_MAX_MB", "0.001")
    with pytest.raises(InputFileError, match="decompresses to more than"):
        read_clinical(path)


def test_valid_xlsx_with_cached_formula_values_reads(tmp_path):
    """A formula saved by Excel (with its value) is fine: only value-less formulas are refused."""
    from openpyxl import load_workbook

    from biomarkers.io import read_clinical

    clin = pd.read_csv(BASE / "clinical.csv", dtype=str)
    path = tmp_path / "clinical.xlsx"
    path.write_bytes(_workbook(clin))
    wb = load_workbook(path)
    wb.active["C2"] = "=60+4"
    wb.save(path)
    # give the formula a cached value, as Excel does when it saves
    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    sheet = "xl/worksheets/sheet1.xml"
    assert b"<f>60+4</f><v /></c>" in parts[sheet]
    parts[sheet] = parts[sheet].replace(b"<f>60+4</f><v /></c>", b"<f>60+4</f><v>64</v></c>")
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    assert read_clinical(path).loc["P001", "age"] == 64


# ---- valid but unusual inputs keep working ----------------------------------------------------
def test_bom_and_crlf_clinical_reads_like_the_plain_file(tmp_path):
    from biomarkers.io import read_clinical

    text = (BASE / "clinical.csv").read_text()
    path = tmp_path / "clinical.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    pd.testing.assert_frame_equal(read_clinical(path), read_clinical(BASE / "clinical.csv"))


def _with_ids(text: str, ids: dict[str, str]) -> str:
    for old, new in ids.items():
        text = text.replace(f"{old},", f"{new},").replace(f"{old}-", f"{new}-")
    return text


ACCENTED = {"P001": "José", "P002": "患者02", "P003": "Zoë-Ø", "P004": "Łukasz"}


def test_accented_and_cjk_ids_read_and_match_across_tables(tmp_path):
    from biomarkers.io import read_clinical, read_labs

    for name in ("clinical.csv", "labs.csv"):
        (tmp_path / name).write_text(_with_ids((BASE / name).read_text(), ACCENTED))
    clin = read_clinical(tmp_path / "clinical.csv")
    labs = read_labs(tmp_path / "labs.csv")
    assert set(ACCENTED.values()) <= set(clin.index)
    assert set(labs["subject_id"]) <= set(clin.index)


def test_ids_differing_only_by_normalisation_match_after_nfc(tmp_path):
    """Clinical typed on one system (NFC), labs exported by another (NFD): the same subjects."""
    from biomarkers.io import read_clinical, read_labs

    nfd = {k: unicodedata.normalize("NFD", v) for k, v in ACCENTED.items()}
    (tmp_path / "clinical.csv").write_text(_with_ids((BASE / "clinical.csv").read_text(), ACCENTED))
    (tmp_path / "labs.csv").write_text(_with_ids((BASE / "labs.csv").read_text(), nfd))
    assert "Jose\u0301" in (tmp_path / "labs.csv").read_text()
    clin = read_clinical(tmp_path / "clinical.csv")
    labs = read_labs(tmp_path / "labs.csv")
    assert "José" in set(labs["subject_id"])
    assert set(labs["subject_id"]) <= set(clin.index)


def test_accented_ids_validate_end_to_end(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for path in BASE.iterdir():
        if path.suffix == ".csv":
            (tmp_path / path.name).write_text(_with_ids(path.read_text(), ACCENTED))
        elif path.suffix == ".h5ad":
            import anndata as ad

            adata = ad.read_h5ad(path)
            for col in ("sample_id", "subject_id"):
                adata.obs[col] = (
                    adata.obs[col].astype(str).map(lambda s: _with_ids(s + ",", ACCENTED)[:-1])
                )
            adata.write_h5ad(tmp_path / path.name)
        else:
            (tmp_path / path.name).write_bytes(path.read_bytes())
    result = invoke(["validate", str(tmp_path / "config.yaml")])
    assert result.exit_code == 0, result.output


def _adata(x) -> object:
    import anndata as ad

    obs = pd.DataFrame(
        {"sample_id": ["P001-D0-PB"] * x.shape[0], "subject_id": ["P001"] * x.shape[0]},
        index=[f"c{i}" for i in range(x.shape[0])],
    )
    return ad.AnnData(x, obs=obs, var=pd.DataFrame(index=[f"g{j}" for j in range(x.shape[1])]))


def test_csc_float32_integer_counts_are_accepted(tmp_path):
    import scipy.sparse as sp

    from biomarkers.io import read_singlecell

    rng = np.random.default_rng(0)
    x = sp.csc_matrix(rng.poisson(2, size=(30, 12)).astype(np.float32))
    _adata(x).write_h5ad(tmp_path / "sc.h5ad")
    adata = read_singlecell(tmp_path / "sc.h5ad")
    assert adata.uns["counts_layer"] == "X"


def test_counts_near_2_to_the_62_are_accepted(tmp_path):
    from biomarkers.io import read_singlecell

    x = np.full((4, 3), 2**62 - 1, dtype=np.int64)
    _adata(x).write_h5ad(tmp_path / "sc.h5ad")
    assert read_singlecell(tmp_path / "sc.h5ad").uns["counts_layer"] == "X"


def _scores(table: Path, tmp_path: Path) -> pd.DataFrame:
    out = tmp_path / f"scores_{table.stem}.csv"
    result = invoke(["score", str(PANEL / "panel.json"), str(table), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return pd.read_csv(out)


@pytest.mark.parametrize("variant", ["reordered_extra", "semicolon", "bom_crlf", "tab"])
def test_unusual_but_valid_scoring_tables_score_the_same(variant, tmp_path):
    table = pd.read_csv(PANEL / "features.csv", dtype={"subject_id": str})
    path = tmp_path / ("table.tsv" if variant == "tab" else "table.csv")
    if variant == "reordered_extra":
        table["site"] = "Leeds"
        table[list(reversed(table.columns))].to_csv(path, index=False)
    elif variant == "semicolon":
        table.to_csv(path, sep=";", index=False)
    elif variant == "bom_crlf":
        path.write_bytes(
            b"\xef\xbb\xbf" + table.to_csv(index=False, lineterminator="\r\n").encode()
        )
    else:
        table.to_csv(path, sep="\t", index=False)
    pd.testing.assert_frame_equal(
        _scores(path, tmp_path), _scores(PANEL / "features.csv", tmp_path)
    )


def test_100000_subject_clinical_table_reads_in_seconds(tmp_path):
    """Measured for docs/hardening.md: the whole read with every check."""
    from biomarkers.io import read_clinical

    n = 100_000
    rng = np.random.default_rng(0)
    death = rng.integers(0, 2, n)
    follow = rng.integers(30, 120, n)
    df = pd.DataFrame(
        {
            "subject_id": [f"S{i:06d}" for i in range(n)],
            "arm": rng.choice(["ucMSC+SMT", "SMT"], n),
            "age": rng.integers(18, 80, n),
            "sex": rng.choice(["F", "M"], n),
            "weight_kg": rng.normal(70, 10, n).round(1),
            "death": death,
            "death_day": np.where(death == 1, follow, np.nan),
            "transplant": 0,
            "last_followup_day": follow,
        }
    )
    path = tmp_path / "clinical.csv"
    df.to_csv(path, index=False)
    start = time.perf_counter()
    clin = read_clinical(path)
    elapsed = time.perf_counter() - start
    assert len(clin) == n
    assert elapsed < 15, f"{elapsed:.1f} s"


def test_nfd_sample_ids_in_an_assay_file_match_the_sample_table(tmp_path):
    from biomarkers.io import read_cytokines, read_samples

    ids = {"P001": "José"}
    nfd = {"P001": unicodedata.normalize("NFD", "José")}
    (tmp_path / "samples.csv").write_text(_with_ids((BASE / "samples.csv").read_text(), ids))
    (tmp_path / "cyto.csv").write_text(_with_ids((BASE / "cytokines_long.csv").read_text(), nfd))
    samples = read_samples(tmp_path / "samples.csv")
    cyto = read_cytokines(tmp_path / "cyto.csv")
    assert "José-D0-PL" in set(cyto["sample_id"])
    assert set(cyto["sample_id"]) <= set(samples.index)
