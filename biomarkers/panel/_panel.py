from __future__ import annotations

import copy
import itertools
import platform
import warnings
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from biomarkers._atomic import write_json, write_table, write_text
from biomarkers._logging import logger
from biomarkers._names import is_feature_name, known_at_day, parse_feature_name
from biomarkers._signing import sign_document
from biomarkers._validation import check_choice, did_you_mean, format_ids
from biomarkers.exceptions import DataQualityWarning, PanelFormatError, SchemaError
from biomarkers.panel._card import card_context, render_card
from biomarkers.panel._data import feature_matrix, input_names, missing_message, option
from biomarkers.panel._export import export_estimator
from biomarkers.panel._format import (
    FORMAT,
    FORMAT_VERSION,
    checksum,
    load_document,
    validate_document,
)
from biomarkers.panel._migrate import migrate
from biomarkers.panel._replay import load_booster, model_columns, predict
from biomarkers.panel._stacked import block_missing, stacked_predict
from biomarkers.panel._synonyms import match_markers
from biomarkers.panel._threshold import choose_threshold

__all__ = ["BiomarkerPanel", "upgrade_panel"]

_ALLOW_MISSING = (None, "impute_training_median")
#: What a panel is for (``panel.json`` ``purpose.kind``; see docs/panel.md "Purpose").
PURPOSES = ("prognosis", "treatment_selection", "early_response")
_VAR_FIELDS = ("modality", "entity", "visit", "day", "unit", "kind")


def _jsonable(obj: Any) -> Any:
    """Plain JSON types only (numpy scalars → Python, NaN → None, tuples → lists)."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | np.ndarray | pd.Index):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, pd.Timestamp | datetime):
        return obj.isoformat()
    if obj is pd.NA or obj is pd.NaT:
        return None
    msg = (
        f"value {obj!r} ({type(obj).__name__}) cannot be stored in a panel; use plain numbers/text"
    )
    raise SchemaError(msg)


def _versions(*, xgboost: bool) -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    names = ["biomarkers", "numpy", "scipy", "pandas", "scikit-learn"]
    if xgboost:
        names.append("xgboost")
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _outcome_block(outcome: Any, data: Any, classes: list | None) -> dict[str, Any]:
    if outcome is None:
        block: dict[str, Any] = {"name": None, "kind": None}
    elif isinstance(outcome, str):
        outcomes = getattr(data, "uns", {}).get("outcomes", {}) if data is not None else {}
        block = {"name": outcome, **dict(outcomes.get(outcome, {}))}
        block.setdefault("kind", None)
        block.pop("columns", None)
    elif isinstance(outcome, Mapping):
        block = dict(outcome)
    else:  # biomarkers.clinical.Outcome or any object with these attributes
        keys = ("name", "kind", "definition", "assessed_day", "positive", "description")
        block = {k: getattr(outcome, k, None) for k in keys}
    block.setdefault("name", None)
    block.setdefault("kind", None)
    if classes is not None:
        block.setdefault("positive_class", classes[1])
    return _jsonable(block)


def _performance_block(performance: Any) -> dict[str, Any] | None:
    if performance is None:
        return None
    if isinstance(performance, pd.DataFrame):
        performance = {"validation": None, "metrics": performance}
    if isinstance(performance, Mapping) and isinstance(performance.get("metrics"), pd.DataFrame):
        frame = performance["metrics"]
        frame = frame.set_index("metric") if "metric" in frame.columns else frame
        if frame.index.has_duplicates:
            msg = (
                "performance table has several rows per metric "
                f"({format_ids(frame.index[frame.index.duplicated()].unique())}); pass one model"
            )
            raise SchemaError(msg)
        keep = [c for c in ("estimate", "ci_low", "ci_high", "n") if c in frame.columns]
        performance = {
            "validation": performance.get("validation"),
            "metrics": frame[keep].to_dict(orient="index"),
        }
    if not isinstance(performance, Mapping):
        msg = (
            f"performance must be a dict {{'validation': ..., 'metrics': {{name: (estimate, "
            f"ci_low, ci_high)}}}}; got {type(performance).__name__}"
        )
        raise SchemaError(msg)
    metrics_in = performance.get(
        "metrics", {k: v for k, v in performance.items() if k != "validation"}
    )
    metrics: dict[str, Any] = {}
    for key, val in metrics_in.items():
        if isinstance(val, Mapping):
            entry = dict(val)
            if "estimate" not in entry:
                msg = f"performance metric {key!r} needs an 'estimate' (and ci_low, ci_high)"
                raise SchemaError(msg)
        elif isinstance(val, Sequence) and not isinstance(val, str) and len(val) == 3:
            entry = {"estimate": val[0], "ci_low": val[1], "ci_high": val[2]}
        elif isinstance(val, int | float | np.number):
            entry = {"estimate": val, "ci_low": None, "ci_high": None}
        else:
            msg = (
                f"performance metric {key!r}={val!r}: use a number, (estimate, low, high) or a dict"
            )
            raise SchemaError(msg)
        metrics[str(key)] = entry
    return _jsonable({"validation": performance.get("validation"), "metrics": metrics})


def _training_stats(raw: np.ndarray) -> list[dict[str, Any] | None]:
    finite = np.isfinite(raw)
    out: list[dict[str, Any] | None] = []
    with np.errstate(all="ignore"):
        masked = np.where(finite, raw, np.nan)
        lo = np.nanmin(np.where(finite.any(0), masked, 0.0), axis=0)
        hi = np.nanmax(np.where(finite.any(0), masked, 0.0), axis=0)
        med = np.nanmedian(np.where(finite.any(0), masked, 0.0), axis=0)
    for j in range(raw.shape[1]):
        has = bool(finite[:, j].any())
        out.append(
            {
                "min": float(lo[j]) if has else None,
                "max": float(hi[j]) if has else None,
                "median": float(med[j]) if has else None,
                "n": int(finite[:, j].sum()),
                "n_missing": int(np.isnan(raw[:, j]).sum()),
                "n_below": int(np.isneginf(raw[:, j]).sum()),
                "n_above": int(np.isposinf(raw[:, j]).sum()),
                **_spread(masked[:, j]),
            }
        )
    return out


def _spread(x: np.ndarray) -> dict[str, Any]:
    """Mean, SD and 21 quantiles (0, 5, ..., 100 %) of the finite values: drift needs them."""
    x = x[np.isfinite(x)]
    if x.size < 2:
        return {}
    quantiles = np.quantile(x, np.linspace(0.0, 1.0, 21))
    return {"mean": float(x.mean()), "sd": float(x.std(ddof=1)), "quantiles": quantiles.tolist()}


def _feature_meta(name: str, var: pd.DataFrame | None) -> dict[str, Any]:
    meta: dict[str, Any] = dict.fromkeys(_VAR_FIELDS)
    if is_feature_name(name):
        parsed = parse_feature_name(name)
        meta.update(modality=parsed.modality, entity=parsed.entity)
        if parsed.var_visit is not None:
            meta["visit"] = parsed.var_visit
    if var is not None and name in var.index:
        row = var.loc[name]
        for field in (*_VAR_FIELDS, "lod", "uloq", "transform"):
            if field in row.index and not (np.isscalar(row[field]) and pd.isna(row[field])):
                meta[field] = row[field]
    if meta.get("day") is not None:
        meta["day"] = float(meta["day"])
    return meta


def _feature_entry(
    name: str,
    meta: Mapping[str, Any],
    *,
    censoring: Any,
    transform: Any,
    centre: Any,
    scale: Any,
    missing_fill: Any,
    coefficient: Any,
    training: Any,
) -> dict[str, Any]:
    """One entry of the document's ``features`` list (the one place its fields are named)."""
    return {
        "name": name,
        **{f: meta.get(f) for f in _VAR_FIELDS},
        "censoring": censoring,
        "transform": transform,
        "centre": centre,
        "scale": scale,
        "missing_fill": missing_fill,
        "coefficient": coefficient,
        "training": training,
    }


def _document(
    *,
    name: str,
    description: str | None,
    outcome: dict[str, Any],
    population: Mapping[str, Any],
    features: list[dict[str, Any]],
    model: dict[str, Any],
    threshold: dict[str, Any] | None,
    performance: Any,
    provenance: Mapping[str, Any] | None,
    purpose: Any = None,
) -> dict[str, Any]:
    """The panel JSON document (format, version, software, blocks); the one builder of it."""
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "description": description,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "software": _versions(xgboost=model["type"] == "xgboost"),
        "outcome": outcome,
        "population": _jsonable(population),
        "features": _jsonable(features),
        "model": _jsonable(model),
        "threshold": threshold,
        "performance": _performance_block(performance),
        "provenance": _jsonable(dict(provenance or {})),
    }
    block = _purpose_block(purpose)
    if block is not None:  # panels without a stated purpose keep the version-1 layout
        doc["purpose"] = block
    return doc


def _purpose_block(purpose: Any) -> dict[str, Any] | None:
    """``{"kind": ..., ...}`` from a purpose name or mapping (``None``: not stated)."""
    if purpose is None:
        return None
    block = {"kind": purpose} if isinstance(purpose, str) else dict(purpose)
    check_choice("purpose", block.get("kind"), PURPOSES, source="BiomarkerPanel")
    return _jsonable(block)


def _value_term(model: dict[str, Any], name: str) -> tuple[int | None, dict[str, Any]]:
    """Position and summary (centre, scale, transform, fill) of the value term of a feature."""
    for k, term in enumerate(model["inputs"]):
        if term["feature"] != name or any(op["op"].startswith("indicator") for op in term["ops"]):
            continue
        info: dict[str, Any] = {}
        for op in term["ops"]:
            if op["op"] == "subtract":
                info.setdefault("centre", op["value"])
            elif op["op"] == "divide":
                info.setdefault("scale", op["value"])
            elif op["op"] == "log":
                info.setdefault("transform", op["value"])
            elif op["op"] == "fill_missing":
                info.setdefault("missing_fill", op["value"])
        return k, info
    return None, {}


class BiomarkerPanel:
    """A locked biomarker panel: markers, preprocessing and model as plain, versioned data.

    Build one from a fitted pipeline with :meth:`from_estimator` (or from published weights with
    :meth:`from_weights`), save it with :meth:`write` (``panel.json`` + ``panel.csv`` + a panel
    card) and score new subjects with :meth:`score`. Reading a panel never executes code: the
    file is JSON validated against the schema shipped with the package (see ``docs/panel.md``).

    Parameters
    ----------
    document
        The content of ``panel.json`` (validated; use the constructors rather than this).

    Examples
    --------
    >>> from biomarkers.panel import BiomarkerPanel
    >>> panel = BiomarkerPanel.from_weights(
    ...     {"cytokine:IL6@D0": 0.8, "clinical:meld@D0": 0.1}, intercept=-3.0, threshold=0.5
    ... )
    >>> panel.features
    ['cytokine:IL6@D0', 'clinical:meld@D0']
    """

    def __init__(self, document: dict[str, Any]) -> None:
        doc = copy.deepcopy(document)
        doc["checksum"] = doc.get("checksum") or checksum(doc)
        validate_document(doc, source="panel")
        self._doc = migrate(doc)  # an older version is read as the current one
        self._booster = None
        self._parent_doc: dict[str, Any] | None = None  # an updated panel's parent (lineage)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        *,
        features: Sequence[str] | None = None,
        X: Any = None,
        var: pd.DataFrame | None = None,
        outcome: Any = None,
        population: Mapping[str, Any] | None = None,
        performance: Any = None,
        threshold: str | float | Mapping[str, float] | None = "youden",
        y_true: Any = None,
        y_score: Any = None,
        provenance: Mapping[str, Any] | None = None,
        name: str = "biomarker panel",
        description: str | None = None,
        purpose: str | Mapping[str, Any] | None = None,
    ) -> BiomarkerPanel:
        """Export a fitted scikit-learn pipeline (or XGBoost model) as a panel.

        Parameters
        ----------
        estimator
            Fitted :class:`~sklearn.pipeline.Pipeline` of supported steps
            (:class:`~biomarkers.features.CensoredValueImputer`, ``SimpleImputer``, scalers,
            ``FunctionTransformer(np.log2)`` & co., selectors with ``get_support()``) ending in a
            linear model, ``CalibratedClassifierCV`` of a linear classifier (sigmoid) or an
            ``XGBClassifier``/``XGBRegressor``. Anything else is refused with
            :class:`~biomarkers.exceptions.PanelFormatError` naming the step.
        features
            Names of the estimator's input columns, in order; default ``feature_names_in_`` or
            the columns of ``X``. Markers the model does not use (zero coefficients, columns
            dropped by a selector or never split on) are left out of the panel.
        X
            The training table the estimator was fitted on (FeatureTable or DataFrame). Only
            per-feature summaries are kept (training range for out-of-range flags, median, counts
            of missing/censored values); it also serves to check that the exported panel
            reproduces the estimator's predictions.
        var
            Feature metadata (FeatureTable ``var``: modality, entity, visit, day, unit, kind,
            lod, uloq); default ``X.var`` for a FeatureTable, else parsed from the names.
        outcome
            Outcome definition: a dict (name, kind, definition, assessed_day, positive,
            description; ``positive`` names class 1, e.g. ``"status = 'Dead'"``, and the card
            counts it: "35 with status = 'Dead'"), a
            :class:`biomarkers.clinical.Outcome`, or the name of an outcome in ``X.uns["outcomes"]``.
        population
            Who the panel is for and was trained on: ``arm``, ``visits``, ``n_subjects``,
            ``n_events``, ``description`` (``setting``, ``eligibility`` also reach the card).
        performance
            Validated performance: ``{"validation": "5×5 nested CV, subject-grouped",
            "metrics": {"auroc": (0.78, 0.70, 0.85), ...}}`` (a tuple is estimate, low, high).
        threshold
            ``"youden"``, ``{"sensitivity": 0.9}``, ``{"specificity": 0.9}`` (chosen on
            ``y_true``/``y_score``), a number, or ``None`` for no decision rule. Applied to the
            probability when the model has one, else to the score.
        y_true, y_score
            Labels and out-of-fold scores (same scale as the threshold) used to choose the
            threshold and to report sensitivity, specificity, PPV and NPV with Wilson 95% CIs.
        provenance
            Input file hashes, config hash, seed, git commit (JSON-serialisable dict).
        name, description
            Human-readable name and description.
        purpose
            What the panel is for: ``"prognosis"``, ``"treatment_selection"`` or
            ``"early_response"``, or a mapping with ``kind`` (one of those) and more detail
            (``arms``, ``treated``, ``control``, ``decision``, ``score``); stored in
            ``panel.json`` and stated on the card. ``None``: not stated.

        Returns
        -------
        BiomarkerPanel

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from sklearn.linear_model import LogisticRegression
        >>> from sklearn.pipeline import make_pipeline
        >>> from sklearn.preprocessing import StandardScaler
        >>> X = pd.DataFrame({"cytokine:IL6@D0": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        ...                   "clinical:meld@D0": [20.0, 25.0, 22.0, 30.0, 28.0, 35.0]})
        >>> y = np.array([0, 0, 1, 0, 1, 1])
        >>> pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
        >>> panel = BiomarkerPanel.from_estimator(
        ...     pipe, X=X, threshold="youden", y_true=y, y_score=pipe.predict_proba(X)[:, 1]
        ... )
        >>> panel.features
        ['cytokine:IL6@D0', 'clinical:meld@D0']
        >>> panel.to_dict()["threshold"]["rule"]
        'youden'
        """
        names = _input_names(estimator, features, X)
        if X is not None and var is None and hasattr(X, "var_names"):
            var = X.var
        raw = None
        if isinstance(X, np.ndarray):
            if X.ndim != 2 or X.shape[1] != len(names):
                msg = f"X has shape {X.shape}; expected (n_subjects, {len(names)}) like features"
                raise SchemaError(msg)
            X = pd.DataFrame(X, columns=names, index=[f"row{i}" for i in range(X.shape[0])])
        if X is not None:
            raw, _ids, missing, _ = feature_matrix(X, names, source="X")
            if missing:
                msg = f"X lacks {len(missing)} of the estimator's features: {format_ids(missing)}"
                raise SchemaError(msg)
        model, censoring = export_estimator(estimator, len(names))
        used = sorted({t["source"] for t in model["inputs"] if t["source"] is not None})
        model["inputs"] = [
            {
                "feature": None if t["source"] is None else names[t["source"]],
                "ops": _jsonable(t["ops"]),
            }
            for t in model["inputs"]
        ]
        stats = _training_stats(raw[:, used]) if raw is not None else [None] * len(used)
        feats = []
        for k, j in enumerate(used):
            fname = names[j]
            meta = _feature_meta(fname, var)
            pos, info = _value_term(model, fname)
            cens = censoring.get(j)
            if cens is not None:
                cens = {**cens, "lod": meta.pop("lod", None), "uloq": meta.pop("uloq", None)}
            else:
                meta.pop("lod", None), meta.pop("uloq", None)
            feats.append(
                _feature_entry(
                    fname,
                    meta,
                    censoring=cens,
                    transform=info.get("transform", meta.get("transform")),
                    centre=info.get("centre"),
                    scale=info.get("scale"),
                    missing_fill=info.get("missing_fill"),
                    coefficient=(
                        model["coefficients"][pos]
                        if model["type"] == "linear" and pos is not None
                        else None
                    ),
                    training=stats[k],
                )
            )
        classes = model.get("classes")
        applies_to = "probability" if model["output"] == "probability" else "score"
        th = _threshold_block(threshold, y_true, y_score, classes=classes, applies_to=applies_to)
        pop = dict(population or {})
        visits = [f["visit"] for f in feats if f.get("visit")]
        if visits:
            pop.setdefault("visits", list(dict.fromkeys(visits)))
        if raw is not None:
            pop.setdefault("n_subjects", int(raw.shape[0]))
        if th is not None and th.get("n") is not None:
            pop.setdefault("n_subjects", th["n"])
            pop.setdefault("n_events", th["n_positive"])
        outcome_block = _outcome_block(outcome, X, classes)
        if outcome_block.get("kind") is None:
            kinds = {"probability": "binary", "decision": "binary", "margin": "survival"}
            cox = "cox" in model["estimator"].lower()
            outcome_block["kind"] = "survival" if cox else kinds.get(model["output"], "continuous")
        doc = _document(
            name=name, description=description, outcome=outcome_block, population=pop,
            features=feats, model=model, threshold=th, performance=performance,
            provenance=provenance, purpose=purpose,
        )  # fmt: skip
        panel = cls(doc)
        if raw is not None:
            panel._self_check(estimator, X, names, raw)
        return panel

    @classmethod
    def from_weights(
        cls,
        weights: Mapping[str, float],
        *,
        intercept: float,
        kind: str = "logistic",
        features_meta: Mapping[str, Mapping[str, Any]] | None = None,
        threshold: str | float | Mapping[str, float] | None = None,
        y_true: Any = None,
        y_score: Any = None,
        outcome: Any = None,
        population: Mapping[str, Any] | None = None,
        performance: Any = None,
        provenance: Mapping[str, Any] | None = None,
        name: str = "published panel",
        description: str | None = None,
        purpose: str | Mapping[str, Any] | None = None,
    ) -> BiomarkerPanel:
        """Build a panel by hand, e.g. to score a published model.

        The score is ``intercept + Σ weight × (f(x) − centre) / scale`` where ``f`` is the
        feature's ``transform`` (``"ln"``, ``"log2"``, ``"log10"``, ``"log1p"``; default none);
        for ``kind="logistic"`` the probability is the inverse logit of the score.

        Parameters
        ----------
        weights
            Feature name → coefficient, in the order the markers should be listed.
        intercept
            Intercept of the linear predictor.
        kind
            ``"logistic"`` (probability = expit(score)) or ``"linear"`` (score only).
        features_meta
            Feature name → ``unit``, ``modality``, ``entity``, ``visit``, ``transform``,
            ``centre``, ``scale``, ``training`` (``{"min", "max", "median", "n"}``).
        threshold
            A number, or a rule (``"youden"``, ``{"sensitivity": s}``, ``{"specificity": s}``)
            chosen on ``y_true``/``y_score``; ``None`` for no decision rule.
        y_true, y_score
            Labels and scores for the threshold rule and its accuracy.
        outcome, population, performance, provenance, name, description, purpose
            As in :meth:`from_estimator`.

        Returns
        -------
        BiomarkerPanel
        """
        if kind not in ("logistic", "linear"):
            msg = f"kind={kind!r} is not 'logistic' or 'linear'"
            raise SchemaError(msg)
        if not weights:
            msg = "weights is empty; give at least one feature → coefficient"
            raise SchemaError(msg)
        meta_in = dict(features_meta or {})
        unknown = [k for k in meta_in if k not in weights]
        if unknown:
            msg = f"features_meta names features without a weight: {format_ids(unknown)}"
            raise SchemaError(msg)
        terms, feats = [], []
        for fname, w in weights.items():
            m = dict(meta_in.get(fname, {}))
            ops: list[dict[str, Any]] = []
            if m.get("transform") not in (None, "none"):
                if m["transform"] not in ("ln", "log2", "log10", "log1p"):
                    msg = (
                        f"feature {fname!r}: transform {m['transform']!r} is not one of ln, "
                        "log2, log10, log1p"
                    )
                    raise SchemaError(msg)
                ops.append({"op": "log", "value": m["transform"]})
            if m.get("centre") is not None:
                ops.append({"op": "subtract", "value": float(m["centre"])})
            if m.get("scale") is not None:
                ops.append({"op": "divide", "value": float(m["scale"])})
            terms.append({"feature": fname, "ops": ops})
            base = _feature_meta(fname, None)
            base.update({k: m[k] for k in _VAR_FIELDS if k in m})
            training = m.get("training")
            if training is not None:
                training = {"min": None, "max": None, "median": None, "n": 0, **dict(training)}
            feats.append(
                _feature_entry(
                    fname,
                    base,
                    censoring=m.get("censoring"),
                    transform=m.get("transform"),
                    centre=m.get("centre"),
                    scale=m.get("scale"),
                    missing_fill=None,
                    coefficient=float(w),
                    training=training,
                )
            )
        logistic = kind == "logistic"
        model = {
            "type": "linear",
            "estimator": "published weights (logistic)" if logistic else "published weights",
            "output": "probability" if logistic else "value",
            "link": "logit" if logistic else "identity",
            "classes": [0, 1] if logistic else None,
            "intercept": float(intercept),
            "coefficients": [float(w) for w in weights.values()],
            "pipeline": ["weights"],
            "inputs": terms,
        }
        applies_to = "probability" if logistic else "score"
        th = _threshold_block(threshold, y_true, y_score, classes=None, applies_to=applies_to)
        doc = _document(
            name=name, description=description,
            outcome=_outcome_block(outcome, None, model["classes"]),
            population=dict(population or {}), features=feats, model=model, threshold=th,
            performance=performance, provenance=provenance, purpose=purpose,
        )  # fmt: skip
        return cls(doc)

    @classmethod
    def read(
        cls, path: str | Path, *, verify_checksum: bool = True, parent: Any = None
    ) -> BiomarkerPanel:
        """Read a panel written by :meth:`write` (the folder or its ``panel.json``).

        Nothing is executed: the file must be UTF-8 JSON (a pickle or other binary file is
        refused), of a known ``format_version``, valid against the shipped JSON Schema and,
        unless ``verify_checksum=False``, unmodified since export.

        Parameters
        ----------
        path
            Folder written by :meth:`write`, or the ``panel.json`` inside it.
        verify_checksum
            Refuse a file whose content no longer matches its ``checksum``.
        parent
            For an updated panel: its parent (folder, ``panel.json`` or panel) to verify the
            lineage against; by default the ``parent_panel.json`` copy beside the file is
            checked when present (see ``docs/panel.md``, "Phase III").

        Returns
        -------
        BiomarkerPanel
        """
        doc = load_document(path, verify_checksum=verify_checksum)
        if not verify_checksum:
            doc["checksum"] = checksum(doc)
        panel = cls(doc)
        from biomarkers.panel._lineage import check_on_read

        panel._parent_doc = check_on_read(doc, path, parent=parent)
        if doc["model"]["type"] == "xgboost":
            try:
                panel._booster = load_booster(doc["model"])
            except Exception as err:  # xgboost raises XGBoostError on a damaged model
                msg = f"{path}: invalid panel at $.model.booster: xgboost cannot load it ({err})"
                raise PanelFormatError(" ".join(msg.split())[:300]) from None
        return panel

    # ------------------------------------------------------------------ accessors
    @property
    def name(self) -> str:
        """Name of the panel."""
        return self._doc["name"]

    @property
    def features(self) -> list[str]:
        """Markers the panel needs, in order."""
        return [f["name"] for f in self._doc["features"]]

    @property
    def purpose(self) -> str | None:
        """What the panel is for (``prognosis``, ``treatment_selection``, ``early_response``)."""
        return (self._doc.get("purpose") or {}).get("kind")

    @property
    def blinded(self) -> bool:
        """Whether the panel comes from a blinded dry run (dummy arms; never for use)."""
        return bool(self._doc.get("blinded", False))

    def mark_blinded(self) -> BiomarkerPanel:
        """A copy of the panel marked ``blinded: true`` (card and ``panel.json``; docs/plan.md).

        A blinded run fits on dummy arms; its panels are dry-run artefacts. :meth:`save`
        refuses to write a blinded treatment-selection panel.
        """
        doc = {k: v for k, v in self._doc.items() if k not in ("checksum", "signature")}
        doc["blinded"] = True
        other = type(self)(doc)
        other._parent_doc = self._parent_doc
        return other

    @property
    def threshold(self) -> float | None:
        """Decision threshold (on the probability, or on the score for models without one)."""
        th = self._doc["threshold"]
        return None if th is None else th["value"]

    @property
    def version(self) -> int:
        """Version of the panel (1 for a panel from discovery; +1 per update)."""
        return int(self._doc.get("version") or 1)

    def evaluate(
        self,
        table: Any,
        outcome: Any,
        *,
        subgroups: Sequence[str] = (),
        lot_key: str | None = None,
        candidates: Sequence[str] = (),
        alpha: float = 0.05,
        n_bootstraps: int = 200,
        allow_missing: str | None = None,
        cohort: str | None = None,
        random_state: int | None = 0,
    ) -> Any:
        """Evaluate the locked panel on a new cohort with observed outcomes (external validation).

        Parameters
        ----------
        table
            The new cohort's features, as :meth:`score` takes them (FeatureTable or DataFrame).
        outcome
            Observed binary outcome: a column of ``table.obs`` / the DataFrame, a Series indexed
            by subject ID, or a :class:`biomarkers.clinical.Outcome`; 1 = the panel's class 1.
        subgroups
            Pre-specified subgroup columns (e.g. ``["arm", "site", "assay_lot"]``).
        lot_key
            Column naming the assay lot, for per-lot drift (default: the first subgroup whose
            name contains ``lot``).
        candidates
            New markers (columns of ``table``) the extension step of the ladder may add.
        alpha
            Level of each likelihood-ratio test of the updating ladder.
        n_bootstraps
            Bootstrap replicates for the CIs of Brier, ICI, E50, E90 and Emax.
        allow_missing
            As in :meth:`score`.
        cohort
            Name of the cohort, for the report.
        random_state
            Seed of the bootstraps and of the membership model.

        Returns
        -------
        biomarkers.panel.PanelEvaluation
            Drift, overall and subgroup performance, calibration curve, decision curve and the
            updating ladder (``.updated_panel`` is the new panel, or ``None`` when the evidence
            says no update is needed). See ``docs/panel.md``, "Phase III: evaluate and update".
        """
        from biomarkers.panel._evaluate import evaluate_panel

        return evaluate_panel(
            self, table, outcome, subgroups=subgroups, lot_key=lot_key, candidates=candidates,
            alpha=alpha, n_bootstraps=n_bootstraps, allow_missing=allow_missing, cohort=cohort,
            random_state=random_state,
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the content of ``panel.json``."""
        return copy.deepcopy(self._doc)

    # ------------------------------------------------------------------ scoring
    def score(
        self, data: Any, *, allow_missing: str | None = None, max_imputed_share: float = 0.5
    ) -> pd.DataFrame:
        """Score subjects with the panel.

        Parameters
        ----------
        data
            FeatureTable (AnnData, ``var_names`` = feature names, ``var["unit"]`` checked when
            present), a wide DataFrame (subjects × features, index or column ``subject_id``;
            units may be given in ``df.attrs["units"]``) or a tidy DataFrame with columns
            ``subject_id, feature, value`` (and optionally ``unit``). Censored values are
            ``-inf``/``+inf`` as in a FeatureTable, missing values NaN.
        allow_missing
            ``None`` (default): a marker absent from ``data``, or a missing value the panel's
            model cannot impute itself, raises :class:`~biomarkers.exceptions.SchemaError`.
            ``"impute_training_median"``: such values are replaced by the training median
            stored in the panel and the subject's ``imputed`` list names them.
            Either way, a panel with a landmark after day 0 (``population.landmark_day``, e.g.
            a D7 panel) never imputes its landmark visit away: a subject with no value for any
            of its landmark-visit markers is not in the panel's population (patients alive and
            event-free at that visit) and gets no score (see Raises and Warns).
        max_imputed_share
            Largest share of the panel's markers that may be missing for one subject (imputed
            by the model or from training medians); a table with a subject above it is refused,
            and so is a table holding none of the markers, whatever ``allow_missing`` says.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``subject_id``: ``score`` (linear predictor / margin; logit of the
            averaged probability for calibrated ensembles), ``probability`` (NaN for models
            without one), ``predicted`` (class label at the threshold; missing without a
            threshold), ``out_of_training_range`` (tuple of the markers outside the training
            min–max), ``imputed`` (tuple of the markers whose value was missing and imputed),
            ``n_imputed`` (how many), ``censored`` (tuple of the markers censored at a limit and substituted),
            ``flagged`` (any of the three non-empty); for a panel with a landmark visit also
            ``not_in_population`` (why a subject outside the panel's population got no score,
            e.g. ``"no D7 visit"``; ``""`` for the scored subjects); when markers were found
            under another spelling (:func:`~biomarkers.panel.match_markers`, e.g. ``IL-6`` for
            ``IL6``) also ``synonyms`` (``panel name=input name`` pairs; a warning says so too).
            A stacked panel scores each subject with the assay blocks they have (a block with
            all its markers NaN or absent is missing; no ``allow_missing`` needed) and adds
            ``missing_blocks``, ``pattern_auroc`` (``_low``, ``_high``), ``auroc_loss``,
            ``pattern_brier``, ``brier_increase`` and ``contribution_<block>``
            (``docs/panel.md``, "Stacked panels and missing assays").

        Raises
        ------
        SchemaError
            A marker is missing or censored without ``allow_missing``/a censoring rule, a unit
            is wrong, no subject has a value at the panel's landmark visit, the input holds
            none of the markers, or a subject misses more than ``max_imputed_share`` of them.

        Warns
        -----
        DataQualityWarning
            Markers were matched through analyte synonyms (which, and as what).
        DataQualityWarning
            Some subjects have no value at the panel's landmark visit: their score is missing
            and ``not_in_population`` says why.

        Examples
        --------
        >>> import pandas as pd
        >>> panel = BiomarkerPanel.from_weights({"cytokine:IL6@D0": 1.0}, intercept=-2.0, threshold=0.5)
        >>> new = pd.DataFrame({"cytokine:IL6@D0": [1.0, 3.0]}, index=["S1", "S2"])
        >>> scores = panel.score(new)
        >>> scores["score"].tolist(), scores["predicted"].tolist()
        ([-1.0, 1.0], [0, 1])
        """
        check_choice("allow_missing", allow_missing, _ALLOW_MISSING, source="BiomarkerPanel.score")
        _check_share(max_imputed_share)
        doc = self._doc
        names = self.features
        source = f"panel {self.name!r}"
        available = input_names(data)
        aliases = _reported_synonyms(match_markers(names, available))
        raw, ids, missing, units = feature_matrix(
            data, names, source="scoring input", aliases=aliases
        )
        self._check_units(units)
        if missing and len(missing) == len(names):
            raise SchemaError(_none_present_message(names, available))
        no_block = block_missing(doc, raw)  # stacked panels: a whole missing block is no gap
        missing = [m for m in missing if not no_block[:, names.index(m)].all()]
        if missing and allow_missing is None:
            raise SchemaError(missing_message(missing, available, source="scoring input"))
        outside, reason = self._not_in_population(raw, ids)
        all_ids, raw, ids, no_block = ids, raw[~outside], ids[~outside], no_block[~outside]
        model = doc["model"]
        handles_missing = self._handles_missing()
        raw = raw.copy()
        nan_mask = np.isnan(raw) & ~no_block
        _check_imputed_share(nan_mask, ids, max_imputed_share)
        needs_fill = nan_mask & ~handles_missing[None, :]
        if needs_fill.any():
            cols = np.flatnonzero(needs_fill.any(axis=0))
            if allow_missing is None:
                j = cols[0]
                who = ids[needs_fill[:, j]]
                msg = (
                    f"scoring input: marker {names[j]!r} is missing (NaN) for subject(s) "
                    f"{format_ids(who)} and {source} has no imputation for it; supply the "
                    f"value or pass {option('allow_missing', 'impute_training_median')}"
                )
                raise SchemaError(msg)
            for j in cols:
                training = doc["features"][j]["training"]
                if training is None or training.get("median") is None:
                    msg = (
                        f"{source} stores no training median for {names[j]!r} (exported without "
                        "X=); cannot impute it, supply the value"
                    )
                    raise SchemaError(msg)
                raw[needs_fill[:, j], j] = training["median"]
        censored = np.isinf(raw)
        no_rule = censored & ~self._handles_censored()[None, :]
        if no_rule.any():
            j = int(np.flatnonzero(no_rule.any(axis=0))[0])
            msg = (
                f"scoring input: marker {names[j]!r} has censored values (±inf) for subject(s) "
                f"{format_ids(ids[no_rule[:, j]])} but {source} has no censoring rule for it; "
                "replace them by numbers"
            )
            raise SchemaError(msg)
        lo = np.array([_train(f, "min") for f in doc["features"]])
        hi = np.array([_train(f, "max") for f in doc["features"]])
        with np.errstate(invalid="ignore"):
            outside = np.isfinite(raw) & ((raw < lo) | (raw > hi))
        if model["type"] == "xgboost" and self._booster is None:
            self._booster = load_booster(model)
        extra = None
        if model["type"] == "stacked":
            score, prob, extra = stacked_predict(doc, raw, ids, no_block)
        else:
            cols = model_columns(model, raw, {n: k for k, n in enumerate(names)})
            score, prob = predict(model, cols, booster=self._booster)
        out = pd.DataFrame({"score": score, "probability": prob}, index=ids)
        out["predicted"] = self._classify(score, prob)
        out["out_of_training_range"] = _name_lists(outside, names)
        out["imputed"] = _name_lists(nan_mask, names)
        out["n_imputed"] = nan_mask.sum(axis=1)
        out["censored"] = _name_lists(censored, names)
        out["flagged"] = outside.any(axis=1) | nan_mask.any(axis=1) | censored.any(axis=1)
        if extra is not None:  # stacked: missing blocks, their cost in AUROC/Brier, contributions
            out["flagged"] |= no_block.any(axis=1)
            out = out.join(extra.set_axis(out.index))
        n_flag = int(out["flagged"].sum())
        if n_flag:
            logger.info("%s: %d of %d subjects flagged", source, n_flag, len(out))
        out = _with_unscored(out, all_ids, reason)
        if aliases:
            out["synonyms"] = ";".join(f"{k}={v}" for k, v in aliases.items())
        return out

    def _landmark_columns(self) -> tuple[np.ndarray, str | None]:
        """Positions of the features known at the panel's landmark visit, and the visit label."""
        pop = self._doc["population"]
        day = pop.get("landmark_day")
        if day is None or day <= 0:
            return np.array([], dtype=int), None
        days = [
            f["day"] if f.get("day") is not None else known_at_day(f["name"])
            for f in self._doc["features"]
        ]
        visit = pop.get("landmark_visit") or f"D{day:g}"
        return np.flatnonzero(np.asarray(days, dtype=float) == float(day)), visit

    def _not_in_population(self, raw: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, str]:
        """Per subject: no value for any landmark-visit marker (warn; refuse when it is all)."""
        cols, visit = self._landmark_columns()
        if not cols.size:
            return np.zeros(len(ids), dtype=bool), ""
        outside = np.isnan(raw[:, cols]).all(axis=1)
        if not len(ids):
            return outside, f"no {visit} visit"
        what = (
            f"no value for any of the {cols.size} {visit} marker(s) of panel {self.name!r}, a "
            f"{visit} panel for patients alive and event-free at {visit}"
        )
        if outside.all():
            msg = (
                f"scoring input: all {len(ids)} subject(s) ({format_ids(ids)}) have {what}; "
                f"score subjects with their {visit} visit, or use a baseline panel"
            )
            raise SchemaError(msg)
        if outside.any():
            warnings.warn(
                f"scoring input: {int(outside.sum())} of {len(ids)} subject(s) have {what} "
                f"({format_ids(ids[outside])}): not in its population, left unscored "
                f"(not_in_population = 'no {visit} visit')",
                DataQualityWarning,
                stacklevel=3,
            )
        return outside, f"no {visit} visit"

    def _probe(self, value: float, *, nan_ok: bool) -> np.ndarray:
        """Per feature: whether every model input made from it turns ``value`` into a number."""
        from biomarkers.panel._replay import apply_ops

        index = {n: k for k, n in enumerate(self.features)}
        out = np.ones(len(self.features), dtype=bool)
        for term in self._doc["model"]["inputs"]:
            if term["feature"] is None:
                continue
            got = apply_ops(np.array([value]), term["ops"])[0]
            if not (np.isfinite(got) or (nan_ok and np.isnan(got))):
                out[index[term["feature"]]] = False
        return out

    def _handles_missing(self) -> np.ndarray:
        """Per feature: whether the model deals with NaN (an imputer, or xgboost's branch)."""
        if self._doc["model"]["type"] == "stacked":  # each block model has its training fills
            return np.ones(len(self.features), dtype=bool)
        return self._probe(np.nan, nan_ok=self._doc["model"]["type"] == "xgboost")

    def _handles_censored(self) -> np.ndarray:
        """Per feature: whether the model substitutes -inf and +inf (a censoring rule)."""
        if self._doc["model"]["type"] == "stacked":  # each block model has its censored fills
            return np.ones(len(self.features), dtype=bool)
        nan_ok = self._doc["model"]["type"] == "xgboost"
        return self._probe(-np.inf, nan_ok=nan_ok) & self._probe(np.inf, nan_ok=nan_ok)

    def _check_units(self, units: dict[str, str]) -> None:
        wrong = []
        for f in self._doc["features"]:
            expected, given = f.get("unit"), units.get(f["name"])
            if expected and given and _norm_unit(expected) != _norm_unit(given):
                wrong.append(f"{f['name']!r} in {given!r} (panel: {expected!r})")
        if wrong:
            msg = (
                f"scoring input: wrong unit for {len(wrong)} marker(s): {'; '.join(wrong[:5])}; "
                "convert the values to the panel's units"
            )
            raise SchemaError(msg)

    def _classify(self, score: np.ndarray, prob: np.ndarray) -> pd.Series:
        th = self._doc["threshold"]
        if th is None:
            return pd.Series([None] * score.shape[0], dtype=object).to_numpy()
        value = prob if th["applies_to"] == "probability" else score
        classes = self._doc["model"].get("classes") or [0, 1]
        labels = np.full(value.shape[0], None, dtype=object)
        labels[value >= th["value"]] = classes[1]
        labels[value < th["value"]] = classes[0]  # NaN compares False both ways: stays None
        return labels

    def _self_check(self, estimator: Any, X: Any, names: list[str], raw: np.ndarray) -> None:
        """Check that the exported panel reproduces the estimator on its training data."""
        frame = pd.DataFrame(raw, columns=names)
        inputs = frame if hasattr(estimator, "feature_names_in_") else raw
        model = self._doc["model"]
        try:
            if model["output"] == "probability":
                expected = estimator.predict_proba(inputs)[:, 1]
            elif model["output"] == "decision":
                expected = estimator.decision_function(inputs)
            else:
                expected = estimator.predict(inputs)
        except ValueError as err:  # e.g. NaN the pipeline cannot take: nothing to compare
            logger.debug("panel self-check skipped: %s", err)
            return
        got = self.score(pd.DataFrame(raw, columns=names, index=[str(i) for i in range(len(raw))]))
        got = got["probability" if model["output"] == "probability" else "score"].to_numpy()
        tol = 1e-5 if model["type"] == "xgboost" else 1e-9
        expected = np.asarray(expected, dtype=float).ravel()
        if not np.allclose(got, expected, rtol=tol, atol=tol, equal_nan=True):
            worst = float(np.nanmax(np.abs(got - expected)))
            msg = (
                f"panel export does not reproduce {type(estimator).__name__} (max difference "
                f"{worst:.3g}); this is a bug in biomarkers.panel, please report it"
            )
            raise RuntimeError(msg)

    def _updated(
        self,
        *,
        step: str,
        intercept: float,
        coefficients: np.ndarray,
        new_markers: Mapping[str, Any] | None,
        evidence: dict[str, Any],
        evaluation: dict[str, Any],
    ) -> BiomarkerPanel:
        """The child of an update (``panel._update``): new version, lineage and evaluation.

        ``new_markers`` (extension) holds ``names``, ``raw`` (subjects × markers), ``mean`` and
        ``sd``: each enters standardised. The parent is not modified.
        """
        from biomarkers.panel._lineage import lineage_block, panel_version

        doc = self.to_dict()
        doc.pop("checksum")
        doc.pop("migrated_from", None)  # the child is written in the current version
        model = doc["model"]
        if new_markers is not None:
            stats = _training_stats(np.asarray(new_markers["raw"], dtype=float))
            for k, fname in enumerate(new_markers["names"]):
                centre, scale = float(new_markers["mean"][k]), float(new_markers["sd"][k])
                ops = [{"op": "subtract", "value": centre}, {"op": "divide", "value": scale}]
                model["inputs"].append({"feature": fname, "ops": ops})
                doc["features"].append(
                    _feature_entry(
                        fname,
                        _feature_meta(fname, None),
                        censoring=None,
                        transform=None,
                        centre=centre,
                        scale=scale,
                        missing_fill=None,
                        coefficient=None,
                        training=stats[k],
                    )
                )
        model["intercept"] = float(intercept)
        model["coefficients"] = [float(c) for c in coefficients]
        for f in doc["features"]:
            pos, _ = _value_term(model, f["name"])
            f["coefficient"] = model["coefficients"][pos] if pos is not None else None
        n = evaluation.get("n_subjects")
        model["estimator"] = f"{model['estimator']}; {step} update on {n} subjects"
        model["pipeline"] = [*model.get("pipeline", []), f"update:{step}"]
        if doc["threshold"]:
            doc["threshold"]["source"] = (
                f"locked threshold of the parent panel (version {self.version}); its accuracy in "
                "the new cohort is in evaluation.metrics"
            )
        doc["version"] = panel_version(self._doc) + 1
        doc["created"] = datetime.now(UTC).isoformat(timespec="seconds")
        doc["lineage"] = lineage_block(self._doc, step=step, evidence=evidence)
        doc["evaluation"] = evaluation
        child = type(self)(_jsonable(doc))
        child._parent_doc = self.to_dict()
        return child

    # ------------------------------------------------------------------ output
    def to_frame(self) -> pd.DataFrame:
        """The markers table (one row per marker), as written to ``panel.csv``.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``feature``: (stacked panels: ``block`` first) modality, entity, visit, unit, model_inputs (how the marker
            enters the model: value, below-limit or missing indicator), coefficient (linear models),
            transform, centre, scale, missing_fill, censoring_rule, lod, training_min,
            training_max, training_median.
        """
        roles: dict[str, list[str]] = {}
        for term in self._doc["model"]["inputs"]:
            ops = {op["op"] for op in term["ops"]}
            role = (
                "below-limit indicator"
                if "indicator_below" in ops
                else ("missing indicator" if "indicator_missing" in ops else "value")
            )
            if term["feature"] is not None:
                roles.setdefault(term["feature"], []).append(role)
        rows = []
        for f in self._doc["features"]:
            cens = f.get("censoring") or {}
            training = f.get("training") or {}
            rows.append(
                {
                    "feature": f["name"],
                    "modality": f.get("modality"),
                    "entity": f.get("entity"),
                    "visit": f.get("visit"),
                    "unit": f.get("unit"),
                    "model_inputs": "; ".join(roles.get(f["name"], [])),
                    "coefficient": f.get("coefficient"),
                    "transform": f.get("transform"),
                    "centre": f.get("centre"),
                    "scale": f.get("scale"),
                    "missing_fill": f.get("missing_fill"),
                    "censoring_rule": cens.get("rule"),
                    "lod": cens.get("lod", cens.get("limit")),
                    "training_min": training.get("min"),
                    "training_max": training.get("max"),
                    "training_median": training.get("median"),
                }
            )
        frame = pd.DataFrame(rows).set_index("feature")
        if self._doc["model"]["type"] == "stacked":  # the assay block each marker belongs to
            blocks = self._doc["model"]["stacked"]["blocks"]
            frame.insert(
                0, "block", frame.index.map({f: b for b, fs in blocks.items() for f in fs})
            )
        return frame

    def summary(self) -> str:
        """A few lines describing the panel (markers, model, threshold, performance)."""
        doc = self._doc
        model, th, perf = doc["model"], doc["threshold"], doc["performance"]
        lines = [
            f"Biomarker panel {self.name!r} ({FORMAT} v{doc['format_version']}, created {doc['created']})",
            f"  outcome: {doc['outcome'].get('name')} ({doc['outcome'].get('kind')})",
            f"  markers ({len(self.features)}): {', '.join(self.features[:8])}"
            + (" …" if len(self.features) > 8 else ""),
            f"  model: {model['estimator']} → {model['output']}",
        ]
        from biomarkers.panel._card import _estimate, _threshold_text

        if th is not None:
            lines.append(f"  threshold: {_threshold_text(th)}")
        if perf:
            metrics = "; ".join(f"{k} {_estimate(v)}" for k, v in perf["metrics"].items())
            lines.append(
                f"  performance ({perf.get('validation') or 'validation not stated'}): {metrics}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<BiomarkerPanel {self.name!r}: {len(self.features)} markers, {self._doc['model']['estimator']}>"

    def _repr_html_(self) -> str:
        import html

        head = "<br>".join(html.escape(line) for line in self.summary().splitlines())
        return f"<div><p>{head}</p>{self.to_frame().to_html(na_rep='–')}</div>"

    def card(self, *, html: bool = False) -> str:
        """The panel card (Markdown, or HTML with ``html=True``) with its TRIPOD+AI items."""
        return render_card(card_context(self._doc, self.to_frame()), html=html)

    def save(self, directory: str | Path, *, overwrite: bool = False) -> list[Path]:
        """Write ``panel.csv``, ``panel_card.md``, ``panel_card.html`` and ``panel.json``.

        Each file is written atomically; ``panel.json`` is written last, so a folder with a
        ``panel.json`` is complete. No subject-level data is written.

        Parameters
        ----------
        directory
            Folder to write into (created if needed).
        overwrite
            Replace an existing ``panel.json``; otherwise refuse.

        Returns
        -------
        list of pathlib.Path
            The paths written, ``panel.json`` last.
        """
        directory = Path(directory)
        target = directory / "panel.json"
        if self.blinded and self.purpose == "treatment_selection":
            msg = (
                f"{target}: a blinded treatment-selection panel is not written: it was fitted on "
                "dummy arms (a blinded dry run); export it from an unblinded run"
            )
            raise PanelFormatError(msg)
        if target.exists() and not overwrite:
            msg = f"{target} already exists; choose another folder or pass overwrite=True"
            raise FileExistsError(msg)
        context = card_context(self._doc, self.to_frame())
        parent = []
        if self._parent_doc is not None:  # an updated panel keeps its parent's exact copy
            from biomarkers.panel._lineage import PARENT_FILE

            parent = [write_json(directory / PARENT_FILE, self._parent_doc)]
        return [
            *parent,
            write_table(directory / "panel.csv", self.to_frame().reset_index()),
            write_text(directory / "panel_card.md", render_card(context, html=False)),
            write_text(directory / "panel_card.html", render_card(context, html=True)),
            write_json(target, sign_document(self._doc)),  # signed when BIOMARKERS_PANEL_KEY is set
        ]

    @classmethod
    def load(cls, directory: str | Path) -> BiomarkerPanel:
        """Read a folder written by :meth:`save` (same as :meth:`read`, checksum verified)."""
        return cls.read(directory)

    def write(self, directory: str | Path, *, overwrite: bool = False) -> Path:
        """Write the panel's files like :meth:`save` and return the path of ``panel.json``."""
        return self.save(directory, overwrite=overwrite)[-1]


def _check_share(value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        msg = (
            f"{option('max_imputed_share', value)} is not a share; use a number from 0 to 1 "
            "(default 0.5)"
        )
        raise SchemaError(msg)


def _reported_synonyms(aliases: dict[str, str]) -> dict[str, str]:
    """Warn once about markers found under another spelling; return the mapping."""
    if aliases:
        pairs = ", ".join(f"{k!r} as {v!r}" for k, v in aliases.items())
        warnings.warn(
            f"scoring input: {len(aliases)} marker(s) matched through analyte synonyms: {pairs} "
            "(column 'synonyms' of the scores)",
            DataQualityWarning,
            stacklevel=4,
        )
    return aliases


def _none_present_message(names: list[str], available: list[str]) -> str:
    hint = did_you_mean(names[0], available)
    return (
        f"scoring input: none of the panel's {len(names)} markers ({format_ids(names)}) is in "
        f"the input{hint}; every subject would get the same training-median score, so it is "
        "refused even with a missing-value fallback: score a table with the panel's markers"
    )


def _check_imputed_share(nan_mask: np.ndarray, ids: np.ndarray, limit: float) -> None:
    """Refuse subjects missing more than ``limit`` of the panel's markers."""
    if not nan_mask.size:
        return
    n = nan_mask.sum(axis=1)
    over = n > limit * nan_mask.shape[1]
    if over.any():
        worst = int(np.argmax(n))
        msg = (
            f"scoring input: {int(over.sum())} of {len(ids)} subject(s) ({format_ids(ids[over])}) "
            f"miss more than {limit:.0%} of the panel's {nan_mask.shape[1]} markers (worst: "
            f"{ids[worst]!r}, {int(n[worst])} missing); their score would be mostly imputed: "
            f"supply the values, leave them out, or raise {option('max_imputed_share', 0.8)}"
        )
        raise SchemaError(msg)


def _with_unscored(out: pd.DataFrame, all_ids: np.ndarray, reason: str) -> pd.DataFrame:
    """All input subjects; those outside the panel's population unscored, with the reason."""
    unscored = ~pd.Index(all_ids).isin(out.index)
    if unscored.any():
        out = out.reindex(pd.Index(all_ids, name=out.index.name))
        tuples = ("out_of_training_range", "imputed", "censored", "missing_blocks")
        for col in (c for c in tuples if c in out.columns):
            out[col] = [() if no else v for v, no in zip(out[col], unscored, strict=True)]
        out["flagged"] = out["flagged"].astype("boolean").fillna(False).astype(bool)
        out["n_imputed"] = out["n_imputed"].astype("Int64")
    if reason:  # a panel with a landmark visit: say who is outside its population
        out["not_in_population"] = np.where(unscored, reason, "")
    return out


def _name_lists(mask: np.ndarray, names: list[str]) -> list[tuple[str, ...]]:
    """Per row, the names of the columns where ``mask`` is true (loops over flagged rows only)."""
    out: list[tuple[str, ...]] = [()] * mask.shape[0]  # the empty tuple is immutable: share it
    rows, cols = np.nonzero(mask)
    if rows.size:
        labels = np.asarray(names, dtype=object)[cols].tolist()
        edges = [0, *(np.flatnonzero(np.diff(rows)) + 1).tolist(), rows.size]
        for a, b in itertools.pairwise(edges):
            out[int(rows[a])] = tuple(labels[a:b])
    return out


def _train(feature: dict[str, Any], key: str) -> float:
    training = feature.get("training") or {}
    value = training.get(key)
    if value is None:
        return -np.inf if key == "min" else np.inf
    return float(value)


def _norm_unit(unit: str) -> str:
    return "".join(str(unit).split()).lower().replace("µ", "u").replace("μ", "u")


def _input_names(estimator: Any, features: Sequence[str] | None, X: Any) -> list[str]:
    fitted = getattr(estimator, "feature_names_in_", None)
    if features is None:
        if fitted is not None:
            features = list(fitted)
        elif X is not None and hasattr(X, "var_names"):
            features = list(X.var_names)
        elif isinstance(X, pd.DataFrame):
            features = [c for c in X.columns if c != "subject_id"]
        else:
            msg = "features= is required: the names of the estimator's input columns, in order"
            raise SchemaError(msg)
    names = [str(f) for f in features]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        msg = f"features has duplicate names {format_ids(dup)}"
        raise SchemaError(msg)
    if fitted is not None and list(map(str, fitted)) != names:
        msg = (
            f"features do not match the estimator's feature_names_in_ (first difference at "
            f"{next(i for i, (a, b) in enumerate(zip(names, fitted, strict=False)) if a != b) if len(names) == len(fitted) else 'length'}); "
            "pass the columns in the order the estimator was fitted on"
        )
        raise SchemaError(msg)
    n_in = getattr(estimator, "n_features_in_", None)
    if n_in is not None and n_in != len(names):
        msg = f"features has {len(names)} names but the estimator was fitted on {n_in} columns"
        raise SchemaError(msg)
    return names


def _threshold_block(
    threshold: Any, y_true: Any, y_score: Any, *, classes: list | None, applies_to: str
) -> dict[str, Any] | None:
    if threshold is None:
        return None
    if (y_true is None) != (y_score is None):
        msg = "pass both y_true and y_score (out-of-fold predictions), or neither"
        raise SchemaError(msg)
    if y_true is None:
        if isinstance(threshold, str) and threshold == "youden":
            logger.info("no threshold set: pass y_true and y_score to choose one by Youden's J")
            return None
        if isinstance(threshold, int | float) and not isinstance(threshold, bool):
            if not np.isfinite(threshold):
                msg = f"threshold {threshold!r} must be a finite number"
                raise SchemaError(msg)
            return {
                "value": float(threshold),
                "rule": "given",
                "target": None,
                "applies_to": applies_to,
            }
        msg = (
            f"threshold={threshold!r} needs y_true and y_score (out-of-fold predictions) to be "
            "chosen; pass them, a fixed number, or threshold=None"
        )
        if not isinstance(threshold, Mapping):
            msg = (
                f"threshold {threshold!r} is not valid; use 'youden', a number, "
                "{'sensitivity': 0.9}, {'specificity': 0.9} or None"
            )
        raise SchemaError(msg)
    positive = classes[1] if classes is not None else None
    y = np.asarray(y_true)
    if positive is not None and not np.isin(positive, y[pd.notna(y)]).any():
        positive = None
    block = choose_threshold(y_true, y_score, rule=threshold, positive=positive)
    block["applies_to"] = applies_to
    block["source"] = (
        "y_true/y_score given at export (honest only if these are held-out, e.g. out-of-fold, "
        "predictions)"
    )
    return _jsonable(block)


def upgrade_panel(source: str | Path, target: str | Path, *, overwrite: bool = False) -> Path:
    """Rewrite a panel of an older format version as a current-version folder.

    Optional: older panels are read and scored as they are. The rewritten ``panel.json`` keeps
    the panel's checksum (its identity) and records ``migrated_from``; the markers table and
    card beside it are written again.

    Parameters
    ----------
    source
        The panel folder or its ``panel.json`` (checksum and signature verified).
    target
        Folder to write the upgraded panel into.
    overwrite
        Replace an existing ``panel.json`` in ``target``.

    Returns
    -------
    pathlib.Path
        The path of the upgraded ``panel.json``.
    """
    return BiomarkerPanel.read(source).write(target, overwrite=overwrite)
