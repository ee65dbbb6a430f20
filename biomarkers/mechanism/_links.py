"""Cross-modal correlations across subjects (Spearman/Pearson with BH-FDR)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from biomarkers._stats import bh_qvalues
from biomarkers._validation import check_choice, format_ids
from biomarkers.exceptions import SchemaError
from biomarkers.mechanism._result import LinksResult

__all__ = ["links"]

_SOURCE = "links"
_COLUMNS = ["feature_a", "modality_a", "feature_b", "modality_b", "rho", "p", "q_value", "n"]


def links(
    tables: Mapping[str, pd.DataFrame] | Any,
    *,
    method: str = "spearman",
    fdr: float = 0.1,
    outcome: pd.Series | str | None = None,
    subject_key: str = "subject_id",
    min_n: int = 5,
    design_table: pd.DataFrame | None = None,
    change: tuple[str, str] = ("D7", "D0"),
    visit_key: str = "visit",
) -> LinksResult:
    """Correlate features across modalities, subject by subject, with BH-FDR.

    Every feature of one modality is correlated with every feature of every *other* modality
    (pairs within a modality are not tested), and every feature with ``outcome`` when given.
    Subjects missing either value are left out pair by pair (``n`` says how many were used).
    Typical inputs are on-treatment changes (e.g. D7 − D0) of composition, cytokines and
    pseudobulk programme scores, and baseline panel markers.

    Per-sample inputs are turned into one row per subject first: the on-treatment change
    ``value[change[0]] − value[change[1]]`` (default D7 − D0) of every feature.

    Parameters
    ----------
    tables
        ``{modality: table}`` where a table is a DataFrame with one row per subject (index =
        subject ID, or a ``subject_key`` column) and numeric feature columns, or a per-sample
        table (a DataFrame with ``subject_key`` and ``visit_key`` columns, or indexed by
        sample IDs found in ``design_table``; an assay AnnData samples × analytes; the
        composition AnnData of :func:`biomarkers.features.composition`, whose
        ``layers['clr']`` is used); or a FeatureTable AnnData (subjects × features, split into
        modalities by ``var['modality']``).
    method
        ``"spearman"`` (default; ``±inf`` censored values rank lowest/highest) or
        ``"pearson"`` (``±inf`` treated as missing).
    fdr
        q-value threshold for :attr:`LinksResult.edges`.
    outcome
        A Series indexed by subject (its name is the feature name), a
        :class:`biomarkers.clinical.Outcome` (its label column; ``event`` for survival), or
        with a FeatureTable the name of an ``obs`` column; correlated with every feature
        (modality ``outcome``).
    subject_key
        Column holding subject IDs when a table is not indexed by them.
    min_n
        Pairs with fewer complete subjects are not tested.
    design_table
        Per-sample design (indexed by sample ID, with ``subject_key`` and ``visit_key``) for
        per-sample tables that lack these columns.
    change
        ``(visit, reference visit)`` of the change computed from per-sample tables.
    visit_key
        Column holding the visit label.

    Returns
    -------
    :class:`LinksResult` with ``.table`` (every tested pair: ``feature_a, modality_a,
    feature_b, modality_b, rho, p, q_value, n``; ``p`` from the t-distribution with ``n − 2``
    degrees of freedom as in :func:`scipy.stats.spearmanr`; ``q_value`` BH over all pairs; sorted by
    ``p``) and ``.edges`` (rows with ``q_value ≤ fdr``).

    Examples
    --------
    >>> res = links({"composition": comp_delta, "cytokine": cyto_delta})  # doctest: +SKIP
    >>> res.edges  # doctest: +SKIP
    """
    from scipy import stats

    check_choice("method", method, ["spearman", "pearson"])
    blocks = _blocks(
        tables,
        subject_key=subject_key,
        visit_key=visit_key,
        design_table=design_table,
        change=change,
    )
    if outcome is not None:
        blocks["outcome"] = _outcome(outcome, tables)
    if len(blocks) < 2:
        msg = (
            f"{_SOURCE}: need at least 2 modalities (or 1 and an outcome), got "
            f"{format_ids(list(blocks))}"
        )
        raise SchemaError(msg)
    subjects = sorted(set().union(*(b.index for b in blocks.values())))
    names, mods, cols = [], [], []
    for mod, block in blocks.items():
        block = block.reindex(subjects)
        for c in block.columns:
            names.append(str(c))
            mods.append(mod)
            cols.append(block[c].to_numpy(float))
    x = np.column_stack(cols)
    if method == "pearson":
        x = np.where(np.isfinite(x), x, np.nan)
    mods_arr = np.asarray(mods)
    ii, jj = np.triu_indices(len(names), k=1)
    keep = mods_arr[ii] != mods_arr[jj]
    ii, jj = ii[keep], jj[keep]
    rho, n = _pairwise(x, ii, jj, method=method)
    p = np.full(len(rho), np.nan)
    ok = (n >= max(min_n, 3)) & np.isfinite(rho)
    dof = n[ok] - 2
    r = np.clip(rho[ok], -1.0, 1.0)
    with np.errstate(divide="ignore"):
        t = r * np.sqrt(dof / np.maximum((1.0 - r) * (1.0 + r), 0.0))
    p[ok] = 2 * stats.t.sf(np.abs(t), dof)
    table = pd.DataFrame(
        {
            "feature_a": np.asarray(names)[ii],
            "modality_a": mods_arr[ii],
            "feature_b": np.asarray(names)[jj],
            "modality_b": mods_arr[jj],
            "rho": np.where(n >= max(min_n, 3), rho, np.nan),
            "p": p,
            "q_value": bh_qvalues(p),
            "n": n,
        }
    )
    table = table.sort_values(["p", "feature_a", "feature_b"], na_position="last")
    table = table.reset_index(drop=True)
    edges = table[table["q_value"] <= fdr].reset_index(drop=True)
    params = {"method": method, "fdr": fdr, "min_n": min_n, "modalities": list(blocks)}
    return LinksResult(table, extra={"edges": edges}, params=params)


def _pairwise(
    x: np.ndarray, ii: np.ndarray, jj: np.ndarray, *, method: str
) -> tuple[np.ndarray, np.ndarray]:
    """Correlation and number of complete subjects for each pair (ii, jj)."""
    from scipy import stats

    present = ~np.isnan(x)
    n = (present[:, ii] & present[:, jj]).sum(axis=0)
    rho = np.full(len(ii), np.nan)
    complete = present.all(axis=0)
    fast = complete[ii] & complete[jj]
    if fast.any():
        # every subject observed: one correlation matrix of (ranked) columns
        idx = np.flatnonzero(complete)
        sub = x[:, idx]
        if method == "spearman":
            sub = stats.rankdata(sub, axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.corrcoef(sub, rowvar=False)
        pos = np.full(x.shape[1], -1)
        pos[idx] = np.arange(len(idx))
        corr = np.atleast_2d(corr)
        rho[fast] = corr[pos[ii[fast]], pos[jj[fast]]]
    for k in np.flatnonzero(~fast):
        m = present[:, ii[k]] & present[:, jj[k]]
        if m.sum() < 3:
            continue
        a, b = x[m, ii[k]], x[m, jj[k]]
        if method == "spearman":
            a, b = stats.rankdata(a), stats.rankdata(b)
        if np.ptp(a) == 0 or np.ptp(b) == 0:
            continue
        rho[k] = np.corrcoef(a, b)[0, 1]
    return rho, n


def _blocks(
    tables: Any,
    *,
    subject_key: str,
    visit_key: str,
    design_table: pd.DataFrame | None,
    change: tuple[str, str],
) -> dict[str, pd.DataFrame]:
    if hasattr(tables, "obs") and hasattr(tables, "var") and "modality" in tables.var.columns:
        x = tables.X.toarray() if hasattr(tables.X, "toarray") else np.asarray(tables.X, float)
        df = pd.DataFrame(x, index=tables.obs_names.astype(str), columns=tables.var_names)
        mods = tables.var["modality"].astype(str)
        return {m: df.loc[:, (mods == m).to_numpy()] for m in mods.unique()}
    if not isinstance(tables, Mapping):
        msg = (
            f"{_SOURCE}: tables must be a dict {{modality: table}} or a FeatureTable, got "
            f"{type(tables).__name__}"
        )
        raise SchemaError(msg)
    out = {}
    for mod, table in tables.items():
        df = _as_frame(table, subject_key=subject_key, visit_key=visit_key)
        if (
            visit_key not in df.columns
            and subject_key not in df.columns
            and design_table is not None
        ):
            design = design_table
            if df.index.astype(str).isin(design.index.astype(str)).all():
                design = design.copy()
                design.index = design.index.astype(str)
                df = df.copy()
                df.index = df.index.astype(str)
                for col in (subject_key, visit_key):
                    if col in design.columns:
                        df[col] = design.loc[df.index, col].to_numpy()
        if visit_key in df.columns and subject_key in df.columns:
            df = _change(df, subject_key=subject_key, visit_key=visit_key, change=change, mod=mod)
        elif subject_key in df.columns:
            df = df.set_index(subject_key)
        df = df.select_dtypes(include="number")
        df.index = df.index.astype(str)
        if df.index.has_duplicates:
            dup = df.index[df.index.duplicated()].unique()
            msg = (
                f"{_SOURCE}: table {mod!r} has several rows for subject(s) "
                f"{format_ids(list(dup))}; give one row per subject (e.g. a change D7 − D0) or "
                f"per-sample rows with {subject_key!r} and {visit_key!r}"
            )
            raise SchemaError(msg)
        if df.shape[1] == 0:
            msg = f"{_SOURCE}: table {mod!r} has no numeric feature columns"
            raise SchemaError(msg)
        out[str(mod)] = df
    return out


def _as_frame(table: Any, *, subject_key: str, visit_key: str) -> pd.DataFrame:
    if isinstance(table, pd.DataFrame):
        return table
    if hasattr(table, "obs") and hasattr(table, "X"):
        layer = table.layers.get("clr", table.X)
        x = layer.toarray() if hasattr(layer, "toarray") else np.asarray(layer, float)
        df = pd.DataFrame(x, index=table.obs_names.astype(str), columns=table.var_names)
        for col in (subject_key, visit_key):
            if col in table.obs.columns:
                df[col] = table.obs[col].astype(str).to_numpy()
        return df
    msg = f"{_SOURCE}: a table is a {type(table).__name__}, expected a DataFrame or an AnnData"
    raise SchemaError(msg)


def _change(
    df: pd.DataFrame, *, subject_key: str, visit_key: str, change: tuple[str, str], mod: str
) -> pd.DataFrame:
    """One row per subject: value at ``change[0]`` minus value at ``change[1]``."""
    later, ref = (str(v) for v in change)
    visits = df[visit_key].astype(str)
    missing = [v for v in (later, ref) if v not in set(visits)]
    if missing:
        msg = (
            f"{_SOURCE}: table {mod!r} has no {visit_key} {missing[0]!r} for change={change!r}; "
            f"visits: {format_ids(sorted(set(visits)))}"
        )
        raise SchemaError(msg)
    num = df.select_dtypes(include="number").columns.difference([subject_key, visit_key])
    subj = df[subject_key].astype(str)
    a = df.loc[(visits == later).to_numpy(), num].groupby(subj[visits == later]).mean()
    b = df.loc[(visits == ref).to_numpy(), num].groupby(subj[visits == ref]).mean()
    return a.sub(b)  # aligned on subjects; NaN where a subject lacks one of the visits


def _outcome(outcome: Any, tables: Any) -> pd.DataFrame:
    if isinstance(outcome, str):
        if not hasattr(tables, "obs") or outcome not in tables.obs.columns:
            msg = (
                f"{_SOURCE}: outcome={outcome!r} names no obs column of a FeatureTable; "
                "pass a Series indexed by subject"
            )
            raise SchemaError(msg)
        series = tables.obs[outcome].copy()
        series.index = series.index.astype(str)
    elif hasattr(outcome, "table") and hasattr(outcome, "name"):
        # biomarkers.clinical.Outcome: binary/continuous label column, or the survival event
        tab = outcome.table
        col = outcome.name if outcome.name in tab.columns else None
        if col is None:
            col = "event" if "event" in tab.columns else tab.columns[0]
        series = tab[col].rename(str(outcome.name)).copy()
        series.index = series.index.astype(str)
    elif isinstance(outcome, pd.Series):
        series = outcome.copy()
        series.index = series.index.astype(str)
    else:
        msg = f"{_SOURCE}: outcome must be a Series or an obs column name"
        raise SchemaError(msg)
    name = str(series.name) if series.name is not None else "outcome"
    return pd.DataFrame({name: pd.to_numeric(series, errors="coerce").astype(float)})
