"""Meta-test: the visit schedule and the feature-name grammar each have one home (issue 16).

An AST scan of ``biomarkers/`` and ``pipelines/``: one definition of ``DEFAULT_VISITS`` and of
``resolve_visits`` (in ``biomarkers/io/_visits.py``), no other literal copy of the default
schedule, and no module but ``biomarkers/_names.py`` taking feature names apart (splitting or
partitioning on ``"@"``, a regular expression containing ``@``, ``.str.split(":")``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
VISITS_HOME = "biomarkers/io/_visits.py"
GRAMMAR_HOME = "biomarkers/_names.py"
PARSER_ALLOW_LIST = {GRAMMAR_HOME}

_SPLITS = {"split", "rsplit", "partition", "rpartition"}
_REGEX_FUNCS = {"compile", "search", "match", "fullmatch", "sub", "subn", "findall", "finditer"}
_STR_REGEX = {"replace", "extract", "extractall", "contains", "match", "fullmatch", "findall"}


def _modules(root: Path = REPO) -> dict[str, ast.Module]:
    files = [
        *sorted((root / "biomarkers").rglob("*.py")),
        *sorted((root / "pipelines").rglob("*.py")),
    ]
    return {p.relative_to(root).as_posix(): ast.parse(p.read_text(encoding="utf-8")) for p in files}


def _assigned_names(tree: ast.Module) -> list[str]:
    out = []
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        out += [t.id for t in targets if isinstance(t, ast.Name)]
    return out


def _is_default_schedule(node: ast.AST) -> bool:
    """A dict literal mapping D0, D7 and D28 to whole numbers: a copy of the default schedule."""
    if not isinstance(node, ast.Dict):
        return False
    days = {
        k.value: v.value
        for k, v in zip(node.keys, node.values, strict=True)
        if isinstance(k, ast.Constant) and isinstance(v, ast.Constant)
    }
    return all(isinstance(days.get(label), int) for label in ("D0", "D7", "D28"))


def _parses_names(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return False
    first = node.args[0] if node.args else None
    text = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else ""
    attr, owner = node.func.attr, node.func.value
    on_str_accessor = isinstance(owner, ast.Attribute) and owner.attr == "str"
    on_re = isinstance(owner, ast.Name) and owner.id == "re"
    if attr in _SPLITS and text == "@":
        return True
    if attr in _SPLITS and text == ":" and on_str_accessor:
        return True
    return "@" in text and (
        (on_re and attr in _REGEX_FUNCS) or (on_str_accessor and attr in _STR_REGEX)
    )


def find_visit_schedules(root: Path = REPO) -> tuple[list[str], list[str], list[str]]:
    """Files defining DEFAULT_VISITS, files defining (_)resolve_visits, files with a schedule literal."""
    defaults, resolvers, literals = [], [], []
    for path, tree in _modules(root).items():
        defaults += [path for name in _assigned_names(tree) if name == "DEFAULT_VISITS"]
        resolvers += [
            path
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and node.name.lstrip("_") == "resolve_visits"
        ]
        literals += [path for node in ast.walk(tree) if _is_default_schedule(node)]
    return defaults, resolvers, literals


def _reads_day_from_label(node: ast.AST) -> bool:
    """``label.lstrip("D")`` / ``removeprefix("D")``: a private day-from-visit-label parser."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return False
    first = node.args[0] if node.args else None
    is_d = isinstance(first, ast.Constant) and first.value in ("D", "d", "Dd", "Day")
    return node.func.attr in {"lstrip", "strip", "removeprefix"} and is_d


def find_day_parsers(root: Path = REPO) -> list[str]:
    """``path:line`` of every call outside the visits module that reads a day off a label."""
    return [
        f"{path}:{node.lineno}"
        for path, tree in _modules(root).items()
        if path != VISITS_HOME
        for node in ast.walk(tree)
        if _reads_day_from_label(node)
    ]


def find_name_parsers(root: Path = REPO) -> list[str]:
    """``path:line`` of every call outside the allow-list that takes a feature name apart."""
    return [
        f"{path}:{node.lineno}"
        for path, tree in _modules(root).items()
        if path not in PARSER_ALLOW_LIST
        for node in ast.walk(tree)
        if _parses_names(node)
    ]


def test_one_definition_of_the_default_visits_and_of_resolve_visits():
    defaults, resolvers, literals = find_visit_schedules()
    assert defaults == [VISITS_HOME]
    assert resolvers == [VISITS_HOME]
    assert literals == [VISITS_HOME]
    assert find_day_parsers() == []


def test_feature_names_are_parsed_only_by_the_grammar():
    assert find_name_parsers() == []


@pytest.mark.parametrize(
    ("source", "caught"),
    [
        ('entity, visit = name.rsplit("@", 1)', True),
        ('head, _, when = name.partition("@")', True),
        ('DAY = re.compile(r"@D(\\d+)$")', True),
        ('key = names.str.replace(r"@[^@]+$", "", regex=True)', True),
        ('short = long["feature"].str.split(":", n=1).str[-1]', True),
        ('module, func = spec.split(":")', False),
        ('label = f"{modality}:{entity}@{visit}"', False),
    ],
)
def test_the_scan_catches_parsers(source, caught):
    tree = ast.parse(source)
    assert any(_parses_names(node) for node in ast.walk(tree)) is caught
