"""Meta-test: the import graph of ``biomarkers/`` and ``pipelines/`` has no circles.

Every ``import`` statement counts, also those inside functions (a lazy import still ties two
modules together); only imports under ``if TYPE_CHECKING:`` are left out. Two checks:

* no cycle between modules of the same subpackage (``features._pseudobulk`` ↔
  ``features._pseudobulk_dask`` was one);
* the subpackages themselves form no cycle (an import across subpackages only goes upstream),
  and the library never imports ``pipelines``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("biomarkers", "pipelines")

ALLOWED_CYCLES: set[frozenset[str]] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return skip


def _absolute(node: ast.ImportFrom, name: str, *, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = name.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``name`` imports (a submodule when one is named)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_nodes(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, name, is_package=path.name == "__init__.py")
            subs = {f"{module}.{alias.name}" for alias in node.names} & known
            found.update(subs or {module})
    return {m for m in found if m in known and m != name}


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    known = set(mods)
    return {name: _imports(name, path, known) for name, path in mods.items()}


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(comp)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _subpackage(name: str) -> str:
    parts = name.split(".")
    # top-level modules (``biomarkers._atomic``) are nodes of their own, like subpackages
    return ".".join(parts[:2]) if parts[0] == "biomarkers" else parts[0]


def _within(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Edges between modules of the same subpackage, minus the allowed pairs."""
    out: dict[str, set[str]] = {}
    for a, targets in graph.items():
        out[a] = {
            b
            for b in targets
            if _subpackage(a) == _subpackage(b) and frozenset({a, b}) not in ALLOWED_CYCLES
        }
    return out


def test_the_graph_sees_lazy_imports():
    graph = _graph()
    # pipelines.cli imports its jobs lazily inside the commands: the graph must see that
    assert any(m.startswith("pipelines.") for m in graph["pipelines.cli"])
    assert "biomarkers.features._pseudobulk" in graph["biomarkers.features"]


def test_the_cycle_finder_finds_a_planted_cycle():
    planted = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(planted) == [{"a", "b", "c"}]


def test_no_cycle_within_a_subpackage():
    cycles = _cycles(_within(_graph()))
    assert not cycles, "import circles: " + "; ".join(" <-> ".join(sorted(c)) for c in cycles)


def test_subpackages_import_only_upstream():
    graph = _graph()
    packages: dict[str, set[str]] = {}
    for a, targets in graph.items():
        for b in targets:
            pa, pb = _subpackage(a), _subpackage(b)
            if pa != pb:
                packages.setdefault(pa, set()).add(pb)
    cycles = _cycles(packages)
    assert not cycles, "subpackage circles: " + "; ".join(" <-> ".join(sorted(c)) for c in cycles)


def test_library_never_imports_pipelines():
    graph = _graph()
    bad = {a: b for a, targets in graph.items() if a.startswith("biomarkers") for b in targets
           if b.startswith("pipelines")}  # fmt: skip
    assert not bad
