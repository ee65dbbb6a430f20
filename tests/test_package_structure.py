"""Meta-tests guarding the public API (STYLE.md rule 23)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys

import pytest

import biomarkers

SUBPACKAGES = [name for name in biomarkers._SUBPACKAGES]

# Published clinical formulas take their inputs positionally, as the literature writes them
# (issue #5 fixes these signatures); booleans stay keyword-only there too.
POSITIONAL_EXEMPT = {
    "biomarkers.clinical.meld", "biomarkers.clinical.meld_na", "biomarkers.clinical.meld3",
    "biomarkers.clinical.child_pugh", "biomarkers.clinical.clif_of",
    "biomarkers.clinical.clif_c_aclf", "biomarkers.clinical.clif_c_ad", "biomarkers.clinical.aarc",
}  # fmt: skip


def _public_modules():
    for name in SUBPACKAGES:
        try:
            yield importlib.import_module(f"biomarkers.{name}")
        except ModuleNotFoundError as err:
            if err.name == f"biomarkers.{name}":
                continue
            raise


def test_import_has_no_heavy_side_effects():
    code = (
        "import sys, logging; import biomarkers as bm; "
        "heavy = [m for m in ('scanpy', 'sklearn', 'xgboost', 'torch', 'dask') if m in sys.modules]; "
        "assert not heavy, heavy; "
        "assert logging.getLogger().handlers == [], 'root logger configured'; "
        "print(bm.__version__)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_all_names_exist(name):
    try:
        module = importlib.import_module(f"biomarkers.{name}")
    except ModuleNotFoundError as err:
        if err.name == f"biomarkers.{name}":
            pytest.skip(f"biomarkers.{name} not built")
        raise
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"biomarkers.{name} has no __all__"
    for attr in exported:
        assert hasattr(module, attr), f"biomarkers.{name}.__all__ lists missing {attr!r}"
    assert len(set(exported)) == len(exported), "duplicates in __all__"


def _signature_problems(qualname: str, func) -> list[str]:
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return []
    params = [p for p in sig.parameters.values() if p.name not in ("self", "cls")]
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    problems = []
    if len(positional) > 3 and qualname not in POSITIONAL_EXEMPT:
        problems.append(f"{qualname}: {len(positional)} positional parameters (max 3)")
    for p in positional:
        if isinstance(p.default, bool):
            problems.append(f"{qualname}: boolean parameter {p.name!r} is positional")
    return problems


def test_public_signatures_follow_conventions():
    problems = []
    for module in _public_modules():
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr)
            qualname = f"{module.__name__}.{attr}"
            if inspect.isfunction(obj):
                problems += _signature_problems(qualname, obj)
            elif inspect.isclass(obj) and not issubclass(obj, BaseException):
                for meth_name, meth in vars(obj).items():
                    if meth_name.startswith("_") and meth_name != "__init__":
                        continue
                    if isinstance(meth, classmethod | staticmethod):
                        meth = meth.__func__
                    if inspect.isfunction(meth):
                        problems += _signature_problems(f"{qualname}.{meth_name}", meth)
    assert not problems, "\n".join(problems)


def test_public_api_has_docstrings():
    missing = []
    for module in _public_modules():
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and not inspect.getdoc(obj):
                missing.append(f"{module.__name__}.{attr}")
    assert not missing, missing


def _library_sources():
    """(module name, source text) of every module of the library."""
    for info in pkgutil.walk_packages(biomarkers.__path__, "biomarkers."):
        spec = importlib.util.find_spec(info.name)
        if spec is not None and spec.origin is not None and spec.origin.endswith(".py"):
            with open(spec.origin, encoding="utf-8") as fh:
                yield info.name, fh.read()


def test_library_never_imports_pipelines():
    offenders = [
        name for name, source in _library_sources()
        if "import pipelines" in source or "from pipelines" in source
    ]  # fmt: skip
    assert not offenders, offenders


def test_no_pickle_loading_in_library():
    needles = ("pickle.load", "joblib.load", "allow_pickle=True", "yaml.load(", "eval(")
    offenders = [
        f"{name}: {needle}" for name, source in _library_sources() for needle in needles
        if needle in source
    ]  # fmt: skip
    assert not offenders, offenders
