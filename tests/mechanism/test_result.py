"""``save(dir) -> list[Path]`` / ``load(dir)`` of the mechanism results."""

from __future__ import annotations

import pandas as pd
import pytest

from biomarkers.exceptions import InputFileError
from biomarkers.mechanism import DEResult, LinksResult


def test_save_returns_every_path_and_load_reads_them_back(tmp_path):
    table = pd.DataFrame(
        {"cell_type": ["T", "B"], "gene": ["IL10", "FOXP3"], "q_value": [0.01, 0.4]}
    )
    dropped = pd.DataFrame({"kind": ["gene"], "id": ["X1"], "reason": ["low counts"]})
    notes = pd.DataFrame({"contrast": ["D7-D0"], "cell_type": ["T"], "message": ["refit"]})
    res = DEResult(table, extra={"dropped": dropped, "notes": notes}, params={"fdr": 0.1})
    written = res.save(tmp_path)
    assert sorted(written) == sorted(tmp_path.iterdir())
    back = DEResult.load(tmp_path)
    assert isinstance(back, DEResult)
    pd.testing.assert_frame_equal(back.table, table)
    pd.testing.assert_frame_equal(back.dropped, dropped)
    pd.testing.assert_frame_equal(back.notes, notes)
    assert back.params == {"fdr": 0.1}
    assert back.n_significant(0.1) == 1


def test_load_with_a_prefix(tmp_path):
    res = LinksResult(pd.DataFrame({"q": [0.2]}), extra={"edges": pd.DataFrame()})
    res.save(tmp_path, prefix="links_d7")
    back = LinksResult.load(tmp_path, prefix="links_d7")
    assert back.edges.empty
    assert list(back.table["q"]) == [0.2]


def test_load_refuses_a_folder_without_the_result(tmp_path):
    with pytest.raises(InputFileError, match=r"no de\.csv; not a folder written by DEResult\.save"):
        DEResult.load(tmp_path)
