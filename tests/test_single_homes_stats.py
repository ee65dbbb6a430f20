"""Meta-test: statistics, choice checks and gene sets each have exactly one home.

``biomarkers/_stats.py`` owns multiple testing and net benefit, ``biomarkers/_validation.py``
owns ``check_choice`` and ``biomarkers/features/_genesets.py`` owns gene sets; every table
names its q-value column ``q_value``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(p for folder in ("biomarkers", "pipelines") for p in (ROOT / folder).rglob("*.py"))
STATS = ROOT / "biomarkers" / "_stats.py"


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _definitions(name: str) -> list[str]:
    found = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [
            _rel(path)
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name
        ]
    return found


def _grep(pattern: str, *, skip: tuple[str, ...] = ()) -> list[str]:
    rx = re.compile(pattern)
    hits = []
    for path in SOURCES:
        if _rel(path) in skip:
            continue
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if rx.search(line):
                hits.append(f"{_rel(path)}:{lineno}: {line.strip()}")
    return hits


def test_sources_found():
    assert STATS in SOURCES
    assert len(SOURCES) > 50


@pytest.mark.parametrize(
    ("name", "home"),
    [
        ("bh_qvalues", "biomarkers/_stats.py"),
        ("net_benefit", "biomarkers/_stats.py"),
        ("decision_curve_table", "biomarkers/_stats.py"),
        ("check_choice", "biomarkers/_validation.py"),
        ("read_gmt", "biomarkers/features/_genesets.py"),
        ("bundled_gene_sets", "biomarkers/features/_genesets.py"),
    ],
)
def test_one_definition(name, home):
    assert _definitions(name) == [home]


def test_no_other_multiple_testing_code():
    skip = ("biomarkers/_stats.py",)
    assert _grep(r"multipletests|false_discovery_control|fdr_bh", skip=skip) == []
    # a hand-written BH step-up: p * m / rank
    assert _grep(r"\*\s*m\s*/\s*(np\.)?arange|/\s*np\.arange\(1,", skip=skip) == []
    # no other function documents itself as Benjamini-Hochberg
    for path in SOURCES:
        if path == STATS:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                doc = ast.get_docstring(node) or ""
                assert "Hochberg" not in doc, f"{_rel(path)}: {node.name} looks like a BH copy"


def test_no_other_net_benefit_code():
    # net benefit weighs false positives by the threshold odds t / (1 - t)
    odds = r"/\s*\(1\s*-\s*(t|thr|threshold|thresholds|pt)\w*(\[[^\]]*\])?\)"
    assert _grep(odds, skip=("biomarkers/_stats.py",)) == []


def test_q_value_column_is_named_q_value_everywhere():
    old = r"[\"'](qvalue\w*|padj|q|fdr_q|q_interaction|q_prognostic)[\"']"
    # mechanism/_de.py reads pydeseq2's own result column res["padj"] (kept as padj_deseq2)
    hits = [h for h in _grep(old) if 'res["padj"]' not in h]
    assert hits == []


def test_one_gene_set_collection_is_bundled():
    data = [
        _rel(p)
        for p in (ROOT / "biomarkers").rglob("*")
        if p.suffix in {".gmt", ".csv"} and ("gene" in p.name or "module" in p.name)
    ]
    assert data == ["biomarkers/features/data/immune_gene_sets.csv"]
    assert not (ROOT / "biomarkers" / "mechanism" / "_gene_sets.py").exists()
