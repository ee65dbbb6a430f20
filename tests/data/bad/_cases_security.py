"""Round-two corpus cases (security: paths inside files, panel keys and numbers, identifiers, YAML bombs).

``cases(base_text)`` returns ``{name: spec}`` in the format of ``make_corpus.cases()``;
``base_text(name)`` reads a file of the valid ``_base`` trial.

Classes that need more than the harness offers are tested in ``tests/hardening/test_security.py``
(``--out`` pointed at an input, formulas in written CSVs) and ``tests/panel/test_signing.py``
(signed panels: they need ``BIOMARKERS_PANEL_KEY`` in the environment).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

PANEL_JSON = Path(__file__).resolve().parent / "_panel" / "panel.json"


def cases(base_text: Callable[[str], str]) -> dict[str, dict]:
    """Every case of this class."""
    return {
        **_manifest_paths(),
        **_panels(),
        **_identifiers(base_text),
        **_yaml(base_text),
    }


# ------------------------------------------------------------------ paths inside files
def _manifest(entry: str, about: str) -> dict:
    def patch(cfg):
        cfg["data"]["singlecell"] = "manifest.csv"
        return cfg

    return {
        "files": {"manifest.csv": f"path,sample_id,subject_id,visit\n{entry},S1,P001,D0\n"},
        "patch": patch,
        "match": r"manifest .*manifest\.csv, row 2: path = .* is outside the allowed folders",
        "about": about,
    }


def _manifest_paths() -> dict[str, dict]:
    return {
        "sc_manifest_dotdot_escape": _manifest(
            "../../../../../../../../tmp/x.h5", "a 10x manifest path climbing out with ../.."
        ),
        "sc_manifest_just_outside": _manifest(
            "../../sample.h5", "a manifest path one folder above the allowed roots"
        ),
        "sc_manifest_absolute_file": _manifest(
            "/etc/hostname", "an absolute manifest path to a system file"
        ),
        "sc_manifest_absolute_root": _manifest(
            "/", "an absolute manifest path to the root folder (read as a 10x folder)"
        ),
        "sc_manifest_inside_then_out": _manifest(
            "sub/../../../../../etc/passwd", "a path that starts inside the folder, then escapes"
        ),
    }


# ------------------------------------------------------------------ panel JSON
def _score(panel_text: str, match: str, about: str) -> dict:
    return {
        "files": {"panel.json": panel_text},
        "command": "score",
        "args": ["panel.json", "../_panel/features.csv"],
        "match": match,
        "about": about,
    }


def _resealed(doc: dict) -> str:
    """``doc`` as JSON with a recomputed checksum (an edit the checksum cannot reveal)."""
    from biomarkers.panel._format import checksum

    return json.dumps({**doc, "checksum": checksum(doc)}, indent=2)


def _duplicated(text: str, key: str) -> str:
    """``text`` with the first ``"key": value`` line repeated just before itself."""
    start = text.index(f'"{key}": ')
    end = text.index("\n", start)
    line = text[start:end].rstrip(",")
    return text[:start] + line + ",\n" + text[start:]


def _panels() -> dict[str, dict]:
    text = PANEL_JSON.read_text(encoding="utf-8")
    doc = json.loads(text)
    dup = r"panel\.json: duplicate key '{}' in the panel JSON"
    out = {
        "panel_duplicate_key_top": _score(
            _duplicated(text, "name"),
            dup.format("name"),
            "the panel name twice at the top level (a reader may see either)",
        ),
        "panel_duplicate_key_model": _score(
            _duplicated(text, "intercept"),
            dup.format("intercept"),
            "the model intercept twice",
        ),
        "panel_duplicate_key_feature": _score(
            _duplicated(text, "scale"),
            dup.format("scale"),
            "a feature's scale twice (nested object)",
        ),
    }
    nested = json.dumps(doc, indent=None).replace(
        '{"op": "divide", "value": 1.5}', '{"op": "divide", "value": 9.0, "value": 1.5}', 1
    )
    out["panel_duplicate_key_op"] = _score(
        nested, dup.format("value"), "a preprocessing step's value twice (deepest level)"
    )
    flat = json.dumps(doc)
    for name, old, new, about in [
        ("panel_coefficient_1e400", '"coefficients": [0.8', '"coefficients": [1e400', "1e400"),
        ("panel_intercept_minus_1e400", '"intercept": -0.2', '"intercept": -1e400', "-1e400"),
        ("panel_threshold_infinity", '"value": 0.5', '"value": Infinity', "Infinity"),
        ("panel_threshold_nan", '"value": 0.5', '"value": NaN', "NaN"),
    ]:
        assert old in flat, old
        out[name] = _score(
            flat.replace(old, new, 1),
            r"panel\.json: not valid JSON \((number .* out of range|non-standard JSON constant)",
            f"a number out of range in a panel ({about})",
        )
    zero = json.loads(text)
    zero["features"][0]["scale"] = 0
    out["panel_scale_zero"] = _score(
        _resealed(zero),
        r"panel\.json: invalid panel at \$\.features\[0\]\.scale: scale 0",
        "a feature scale of 0 (scores would be ±inf), checksum recomputed",
    )
    divide = json.loads(text)
    ops = divide["model"]["inputs"][0]["ops"]
    next(op for op in ops if op["op"] == "divide")["value"] = 0
    out["panel_divide_by_zero"] = _score(
        _resealed(divide),
        r"panel\.json: invalid panel at \$\.model\.inputs\[0\]\.ops\[\d\]: divide by 0",
        "a preprocessing step dividing by 0, checksum recomputed",
    )
    out["panel_signature_malformed"] = _score(
        _resealed({**json.loads(text), "signature": "sha1:0123abcd"}),
        r"panel\.json: invalid panel at \$\.signature",
        "a signature field that is not hmac-sha256:<64 hex>",
    )
    return out


# ------------------------------------------------------------------ identifiers
def _with_column(text: str, column: str, values: Callable[[int], str], *, at: int = 1) -> str:
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        cells = line.split(",")
        cells.insert(at, column if i == 0 else values(i))
        out.append(",".join(cells))
    return "\n".join(out) + "\n"


def _verhoeff_number(stem: str) -> str:
    from biomarkers.io._identifiers import _verhoeff_ok

    return next(stem + d for d in "0123456789" if _verhoeff_ok(stem + d))


def _identifiers(base_text: Callable[[str], str]) -> dict[str, dict]:
    clin = base_text("clinical.csv")
    out: dict[str, dict] = {}

    def table(key: str, name: str, text: str, match: str, about: str) -> dict:
        def patch(cfg):
            cfg["data"][key] = name
            return cfg

        return {"files": {name: text}, "patch": patch, "match": match, "about": about}

    named = r"{}\.csv.*column\(s\) '{}' look like direct patient identifiers.*allow_identifiers"
    for case, column, value in [
        ("clinical_id_patientname", "PatientName", "Jane Doe"),
        ("clinical_id_dateofbirth", "DateOfBirth", "1960-01-01"),
        ("clinical_id_social_security", "Social Security Number", "078-05-1120"),
        ("clinical_id_aadhaar_column", "AadhaarNo", "xxxx"),
        ("clinical_id_abha_column", "ABHA_ID", "xxxx"),
        ("clinical_id_nhs_number", "NHSNumber", "943 476 5919"),
        ("clinical_id_passport", "passport.no", "X1234567"),
    ]:
        out[case] = table(
            "clinical",
            "clinical.csv",
            _with_column(clin, column, lambda i, v=value: v),
            named.format("clinical", column.replace(".", r"\.")),
            f"a direct identifier column spelt {column!r}",
        )
    labs = base_text("labs.csv")
    out["labs_id_patient_dot_name"] = table(
        "labs",
        "labs.csv",
        _with_column(labs, "Patient.Name", lambda i: "J. Doe"),
        named.format("labs", r"Patient\.Name"),
        "a dotted patient-name column in the labs table",
    )
    samples = base_text("samples.csv")
    out["samples_id_mobile_camel"] = table(
        "samples",
        "samples.csv",
        _with_column(samples, "MobilePhone", lambda i: "+91 98765 43210"),
        named.format("samples", "MobilePhone"),
        "a CamelCase phone column in the samples table",
    )
    valued = r"clinical\.csv.*column '{}' holds values that look like {}"
    for case, column, values, kind in [
        ("clinical_id_email_values", "contact", lambda i: f"pt{i}@example.org", "e-mail"),
        (
            "clinical_id_aadhaar_values",
            "ref_no",
            lambda i: _verhoeff_number(f"2345678901{i % 10}"),
            "Aadhaar",
        ),
        ("clinical_id_abha_values", "health_ref", lambda i: f"91-1234-5678-{i:04d}", "ABHA"),
    ]:
        out[case] = table(
            "clinical",
            "clinical.csv",
            _with_column(clin, column, values),
            valued.format(column, kind),
            f"{kind} values in a column with an innocent name ({column!r})",
        )
    return out


# ------------------------------------------------------------------ YAML
def _bomb(indent: str, levels: int = 9, width: int = 10) -> str:
    lines = [f"{indent}a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"{indent}a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _yaml(base_text: Callable[[str], str]) -> dict[str, dict]:
    config = base_text("config.yaml")
    assert "outcome:\n" in config and "models:\n" in config

    def case(text: str, match: str, about: str) -> dict:
        return {"config_text": text, "match": rf"config\.yaml: .*{match}", "about": about}

    flat_bomb = "".join(
        f"  c{i}: &c{i} [" + ", ".join([f"*c{i - 1}" if i else "x"] * 10) + "]\n" for i in range(9)
    )
    return {
        "cfg_yaml_alias_bomb_outcome": case(
            config.replace("outcome:\n", "outcome:\n" + _bomb("  "), 1),
            "expands to more than 100,000 values",
            "a billion-laughs alias bomb inside the known outcome: section",
        ),
        "cfg_yaml_alias_bomb_models": case(
            config.replace("models:\n", "models:\n" + flat_bomb + "  covariates: *c8\n", 1),
            "expands to more than 100,000 values",
            "an alias bomb feeding models.covariates (a list the models would read)",
        ),
        "cfg_yaml_many_aliases": case(
            config + "anchors:\n  a: &a 1\n  many: [" + ", ".join(["*a"] * 150) + "]\n",
            "more than 100 alias uses",
            "150 alias uses: harmless in size, over the alias budget",
        ),
        "cfg_yaml_deep_nesting": case(
            config + "deep: " + "[" * 3000 + "]" * 3000 + "\n",
            "nested deeper than 50 levels",
            "3,000 levels of nesting (an internal RecursionError before)",
        ),
        "cfg_yaml_deep_mappings": case(
            config + "deep:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(60)),
            "nested deeper than 50 levels",
            "60 levels of block mappings",
        ),
        "cfg_yaml_recursive_alias": case(
            config + "loop: &loop [1, *loop]\n",
            "alias refers to the node that contains it",
            "an alias inside the node it names (a cycle)",
        ),
    }
