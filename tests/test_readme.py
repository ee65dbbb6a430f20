"""The README's Python example runs as written."""

from __future__ import annotations

import re

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::biomarkers.exceptions.BiomarkersWarning"),
]


def test_readme_python_example_runs(repo_root, tmp_path, monkeypatch):
    text = (repo_root / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # our own documentation, not user input
    assert (tmp_path / "panel" / "panel.json").is_file()
    assert namespace["result"].performance["metric"].eq("auroc").any()
    # D7 features: the landmark population (alive at D7) leaves fewer markers stable than 8
    assert 1 <= len(namespace["panel"].features) <= 8
