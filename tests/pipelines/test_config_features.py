"""The ``features:`` section of a job config: checked against the block registry and the data."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from biomarkers.exceptions import ConfigError
from pipelines.config import load_config

CONFIG = """
pipeline: discover
name: f
output: runs
data:
  clinical: clinical.csv
  labs: labs.csv
  samples: samples.csv
  cytokines:
    cytokines: {{path: cytokines_long.csv, format: auto}}
outcome: {{kind: transplant_free_survival, horizon_days: 90}}
features:
  visits: [D0]
{blocks}
"""


@pytest.fixture(scope="module")
def trial(tmp_path_factory) -> Path:
    from biomarkers.datasets import simulate_trial

    out = tmp_path_factory.mktemp("features_trial")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        simulate_trial(out, n_subjects=12, seed=0, cells_per_sample=0, tenx_samples=0)
    return out


def _config(trial: Path, blocks: str = "") -> Path:
    path = trial / "config.yaml"
    path.write_text(CONFIG.format(blocks=blocks))
    return path


@pytest.mark.filterwarnings("ignore::biomarkers.exceptions.BiomarkersWarning")
def test_default_blocks_build_on_a_study_without_flow(trial):
    from pipelines.discover import build_outcome, build_table, load_study

    cfg = load_config(_config(trial))  # what `biomarkers validate` checks first
    study = load_study(cfg)
    table = build_table(cfg, study, build_outcome(cfg, study))
    assert dict(table.uns["blocks"]) == {"clinical": 7, "cytokines": 12, "deltas": 0}
    assert "flow" not in set(table.var["modality"])


def test_unknown_block_is_refused_when_the_config_loads(trial):
    with pytest.raises(ConfigError, match=r"unknown block 'olnk'; did you mean 'olink'"):
        load_config(_config(trial, "  blocks: {olnk: {}}"))
    with pytest.raises(ConfigError, match=r"features\.cytokines: unknown option 'transfrom'"):
        load_config(_config(trial, "  blocks: {cytokines: {transfrom: log2}}"))


def test_block_whose_assay_the_config_does_not_load_is_refused(trial):
    with pytest.raises(
        ConfigError,
        match=r"config\.yaml: features\.flow: the study has no assay 'flow'; available: cytokines",
    ):
        load_config(_config(trial, "  blocks: {clinical: {}, flow: {}}"))
    with pytest.raises(ConfigError, match=r"features\.pseudobulk: the study has no single-cell"):
        load_config(_config(trial, "  blocks: [pseudobulk]"))


def test_an_assay_named_in_data_is_a_block(trial):
    text = CONFIG.format(blocks="  blocks: {msd: {transform: log2}}").replace(
        "cytokines: {path", "msd: {path"
    )
    path = trial / "config.yaml"
    path.write_text(text)
    cfg = load_config(path)
    assert cfg.features.blocks == {"msd": {"transform": "log2"}}
