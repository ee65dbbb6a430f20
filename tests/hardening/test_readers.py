"""Reader-level bad inputs that a config cannot express (e.g. which XLSX sheet to read)."""

from __future__ import annotations

import pandas as pd
import pytest

from biomarkers import io
from biomarkers.exceptions import BiomarkersError

from .helpers import BASE


@pytest.fixture
def workbook(tmp_path):
    path = tmp_path / "clinical.xlsx"
    df = pd.read_csv(BASE / "clinical.csv", dtype=str)
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        df.to_excel(xl, sheet_name="Baseline", index=False)
        df.head(2).to_excel(xl, sheet_name="Notes", index=False)
    return path


def test_xlsx_sheet_by_name_reads(workbook):
    table = io.read_clinical(workbook, sheet="Baseline")
    assert len(table) == len(pd.read_csv(BASE / "clinical.csv"))


def test_xlsx_missing_sheet_names_the_sheet_and_the_choices(workbook):
    with pytest.raises(BiomarkersError, match=r"clinical\.xlsx.*'Clinical'.*Baseline.*Notes"):
        io.read_clinical(workbook, sheet="Clinical")


def test_xlsx_sheet_index_out_of_range(workbook):
    with pytest.raises(BiomarkersError, match=r"clinical\.xlsx.*sheet"):
        io.read_clinical(workbook, sheet=5)
