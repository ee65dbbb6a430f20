from __future__ import annotations

from pathlib import Path

import pytest

from biomarkers.exceptions import ConfigError, InputFileError
from pipelines.config import apply_overrides, load_config, parse_config, read_yaml

DISCOVER = """
pipeline: discover
name: t1
seed: 3
output: out
data:
  clinical: clinical.csv
outcome: {kind: transplant_free_survival, horizon_days: 90}
"""


def _write(tmp_path: Path, text: str, name: str = "cfg.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture
def discover_cfg(tmp_path):
    (tmp_path / "clinical.csv").write_text("subject_id,arm\nS1,SMT\n")
    return _write(tmp_path, DISCOVER)


def test_valid_config_resolves_relative_paths(discover_cfg, tmp_path):
    cfg = load_config(discover_cfg)
    assert cfg.pipeline == "discover"
    assert cfg.data.clinical == (tmp_path / "clinical.csv").resolve()
    assert cfg.output == (tmp_path / "out").resolve()
    assert cfg.backend.n_jobs == 1
    assert cfg.models.models == ["enet", "xgboost"]


def test_typo_key_suggests_the_right_one(tmp_path):
    path = _write(tmp_path, DISCOVER.replace("seed: 3", "sead: 3"))
    with pytest.raises(ConfigError, match=r"unknown key 'sead'; did you mean 'seed'\?"):
        load_config(path, check_files=False)


def test_nested_typo_names_the_section(tmp_path):
    text = DISCOVER + "models:\n  n_repeat: 2\n"
    with pytest.raises(
        ConfigError, match=r"unknown key models\.'n_repeat'; did you mean 'n_repeats'"
    ):
        load_config(_write(tmp_path, text), check_files=False)


def test_wrong_type_names_key_and_value(tmp_path):
    text = DISCOVER + "models:\n  n_repeats: many\n"
    with pytest.raises(ConfigError, match=r"models\.n_repeats: .*got 'many'"):
        load_config(_write(tmp_path, text), check_files=False)


def test_missing_input_file_names_the_path(tmp_path):
    path = _write(tmp_path, DISCOVER)
    with pytest.raises(
        InputFileError, match=r"data\.clinical: input file not found: .*clinical\.csv"
    ):
        load_config(path)


def test_python_tag_is_refused(tmp_path):
    path = _write(tmp_path, DISCOVER + "extra: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(ConfigError, match="Python-specific YAML tags"):
        read_yaml(path)


def test_duplicate_keys_are_refused(tmp_path):
    path = _write(tmp_path, DISCOVER + "seed: 4\n")
    with pytest.raises(ConfigError, match=r"duplicate key 'seed' at line"):
        read_yaml(path)


def test_unknown_pipeline_suggests(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown pipeline 'discovr'; did you mean 'discover'"):
        parse_config({"pipeline": "discovr", "name": "x"})


def test_overrides_parse_yaml_values():
    data = apply_overrides(
        {"models": {"n_repeats": 10}}, ["models.n_repeats=2", "seed=7", "a.b=[1, 2]"]
    )
    assert data == {"models": {"n_repeats": 2}, "seed": 7, "a": {"b": [1, 2]}}


def test_override_without_equals_is_refused():
    with pytest.raises(ConfigError, match=r"expected key\.path=value"):
        apply_overrides({}, ["models.n_repeats"])


def test_override_unknown_key_is_refused(discover_cfg):
    with pytest.raises(ConfigError, match=r"did you mean 'n_repeats'"):
        load_config(discover_cfg, overrides=["models.n_repeatz=2"])


def test_absolute_path_outside_allowed_roots_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("BIOMARKERS_ALLOWED_ROOTS", raising=False)
    monkeypatch.chdir(tmp_path)
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    path = _write(sub, DISCOVER.replace("clinical.csv", "/etc/hostname"))
    with pytest.raises(ConfigError, match=r"outside the allowed folders"):
        load_config(path)


def test_bad_run_name_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"name: String should match pattern"):
        parse_config({"pipeline": "simulate", "name": "../escape"})


def test_non_mapping_yaml(tmp_path):
    with pytest.raises(ConfigError, match="must be a YAML mapping"):
        read_yaml(_write(tmp_path, "- a\n- b\n"))


def test_every_config_in_configs_validates(repo_root):
    configs = sorted((repo_root / "configs").glob("*.yaml"))
    assert configs, "no configs found"
    for path in configs:
        cfg = load_config(path, check_files=False)
        assert cfg.name


def test_config_reference_is_up_to_date(repo_root):
    from pipelines.config import reference_markdown

    documented = (repo_root / "docs" / "config.md").read_text()
    assert documented == reference_markdown(), (
        "regenerate: python -m pipelines.config > docs/config.md"
    )


@pytest.mark.parametrize(
    ("override", "old", "new"),
    [
        ("models.names=[enet]", "models.names", "models.models"),
        ("models.n_inner=2", "models.n_inner", "models.inner_cv"),
        ("predictive.methods=[interaction]", "predictive.methods", "predictive.method"),
        ("mechanism.de_contrasts=[]", "mechanism.de_contrasts", "mechanism.contrasts"),
        ("mechanism.cell_types=[Treg]", "mechanism.cell_types", "mechanism.cell_type"),
    ],
)
def test_renamed_keys_name_the_new_key(discover_cfg, override, old, new):
    with pytest.raises(ConfigError, match=rf"key {old} was renamed to {new}; rename it"):
        load_config(discover_cfg, overrides=[override], check_files=False)


def test_renamed_simulate_key_names_the_new_key():
    data = {"pipeline": "simulate", "name": "s", "simulate": {"subjects": 8}}
    with pytest.raises(ConfigError, match=r"simulate.subjects was renamed to simulate.n_subjects"):
        parse_config(data)


def test_new_key_names_feed_the_job(discover_cfg):
    cfg = load_config(
        discover_cfg,
        overrides=["models.models=[enet]", "models.inner_cv=4", "predictive.method=[t_learner]"],
        check_files=False,
    )
    assert (cfg.models.models, cfg.models.inner_cv, cfg.predictive.method) == (
        ["enet"], 4, ["t_learner"],
    )  # fmt: skip
