"""Every example config under ``configs/examples/`` validates (the meta-test of rule 23).

``tests/pipelines/test_config.py`` validates ``configs/*.yaml``; the examples live one folder
down and their data are written by a script, so they are validated here without the files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.config import DataConfig, load_config

EXAMPLES = Path(__file__).resolve().parents[2] / "configs" / "examples"
CONFIGS = sorted(EXAMPLES.glob("*.yaml"))
# the issue-17 keys (data.tables, study.allocation, predictive.covariates, cohorts without arm
# labels) come with the pipelines branch: until it is merged these configs cannot validate
needs_issue17_config = pytest.mark.skipif(
    "tables" not in DataConfig.model_fields,
    reason="needs the issue-17 config keys of the pipelines branch (data.tables, ...)",
)


def test_at_least_four_public_data_sets_have_a_config(writer):
    names = {p.stem for p in CONFIGS}
    assert len(names) >= 4
    assert names <= set(writer.DATASETS)  # each config runs on a set the script writes


@needs_issue17_config
@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_example_config_validates(path):
    cfg = load_config(path, check_files=False)
    assert cfg.name == path.stem
    data = Path(cfg.data.clinical)
    # data paths are relative to the config: configs/examples/data/<name>/ (docs/examples.md)
    assert data.parent == (EXAMPLES / "data" / path.stem).resolve()
