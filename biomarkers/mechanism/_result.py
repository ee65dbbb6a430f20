"""Result objects of the mechanism analyses: tidy tables that display and save themselves."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from biomarkers._atomic import write_json, write_table
from biomarkers._stats import Q_VALUE
from biomarkers.exceptions import InputFileError

__all__ = [
    "CompositionResult",
    "DEResult",
    "EnrichmentResult",
    "LinksResult",
    "MechanismResult",
    "TrajectoryResult",
]


class MechanismResult:
    """Tidy result of one mechanism analysis.

    Parameters
    ----------
    table
        The main tidy table (one row per tested feature × term).
    extra
        Further named tables (e.g. ``dropped``, ``means``), written beside the main one.
    params
        The parameters of the call (recorded in ``params.json`` by :meth:`save`).

    Attributes
    ----------
    table
        The main tidy table.
    tables
        All tables by name; the main one is ``"table"``.
    params
        Parameters of the call.
    """

    name: ClassVar[str] = "mechanism"
    #: column holding the q-value used for the summary
    q_column: ClassVar[str] = Q_VALUE

    def __init__(
        self,
        table: pd.DataFrame,
        *,
        extra: dict[str, pd.DataFrame] | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        self.table = table
        self.tables: dict[str, pd.DataFrame] = {"table": table, **(extra or {})}
        self.params = dict(params or {})

    def to_frame(self) -> pd.DataFrame:
        """Return a copy of the main tidy table."""
        return self.table.copy()

    def n_significant(self, fdr: float = 0.1) -> int:
        """Number of rows with q-value at or below ``fdr``."""
        if self.q_column not in self.table.columns:
            return 0
        return int((self.table[self.q_column] <= fdr).sum())

    def save(self, directory: str | os.PathLike, *, prefix: str | None = None) -> list[Path]:
        """Write every table as CSV and the parameters as JSON, each file atomically.

        Parameters
        ----------
        directory
            Folder to write into (created if needed).
        prefix
            File-name prefix; defaults to the analysis name (e.g. ``de``).

        Returns
        -------
        The paths written: ``<prefix>.csv`` (main table), ``<prefix>_<name>.csv`` for the other
        tables and ``<prefix>_params.json``.
        """
        directory = Path(directory)
        prefix = prefix or self.name
        written = []
        for key, df in self.tables.items():
            fname = f"{prefix}.csv" if key == "table" else f"{prefix}_{key}.csv"
            written.append(write_table(directory / fname, df))
        params = {k: _jsonable(v) for k, v in self.params.items()}
        written.append(write_json(directory / f"{prefix}_params.json", params))
        return written

    @classmethod
    def load(cls, directory: str | os.PathLike, *, prefix: str | None = None) -> MechanismResult:
        """Read a result written by :meth:`save` into ``directory``.

        Parameters
        ----------
        directory
            The folder :meth:`save` wrote into.
        prefix
            The prefix given to :meth:`save`; defaults to the analysis name.

        Returns
        -------
        The result, with every ``<prefix>_<name>.csv`` beside the main table as a named table and
        the parameters of ``<prefix>_params.json``.
        """
        directory = Path(directory)
        prefix = prefix or cls.name
        main = directory / f"{prefix}.csv"
        if not main.is_file():
            msg = f"{directory}: no {main.name}; not a folder written by {cls.__name__}.save()"
            raise InputFileError(msg)
        extra = {
            p.stem.removeprefix(f"{prefix}_"): _read_csv(p)
            for p in sorted(directory.glob(f"{prefix}_*.csv"))
        }
        params_file = directory / f"{prefix}_params.json"
        params = json.loads(params_file.read_text("utf-8")) if params_file.is_file() else {}
        return cls(_read_csv(main), extra=extra, params=params)

    def _summary(self) -> list[str]:
        lines = [f"{type(self).__name__}: {len(self.table)} rows"]
        if self.q_column in self.table.columns:
            lines.append(f"{self.n_significant(0.1)} with {self.q_column} ≤ 0.1")
        for key, df in self.tables.items():
            if key != "table":
                lines.append(f"{key}: {len(df)} rows")
        return lines

    def _top(self, n: int = 10) -> pd.DataFrame:
        if self.q_column in self.table.columns:
            return self.table.sort_values(self.q_column, na_position="last").head(n)
        return self.table.head(n)

    def __repr__(self) -> str:
        return "; ".join(self._summary())

    def _repr_html_(self) -> str:
        head = "".join(f"<li>{html.escape(line)}</li>" for line in self._summary())
        top = self._top().to_html(index=False, float_format=lambda x: f"{x:.3g}", na_rep="")
        return f"<div><b>{html.escape(type(self).__name__)}</b><ul>{head}</ul>{top}</div>"


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:  # a table without columns is written as an empty file
        return pd.DataFrame()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


class DEResult(MechanismResult):
    """Pseudobulk differential expression, one row per cell type × gene.

    Attributes
    ----------
    table
        ``cell_type, gene, log2fc, lfc_se, stat, pvalue, padj_deseq2, q_value, q_value_global,
        base_mean, n_samples, contrast``.
    dropped
        What the filters removed: ``contrast, cell_type, kind (sample/subject/gene/cell_type), id,
        reason``.
    notes
        pydeseq2's warnings per contrast and cell type (``contrast, cell_type, message``).
    """

    name = "de"

    @property
    def dropped(self) -> pd.DataFrame:
        """Samples, subjects, genes and cell types removed before testing, with the reason."""
        return self.tables["dropped"]

    @property
    def notes(self) -> pd.DataFrame:
        """pydeseq2's warnings about its automatic fallbacks, per cell type."""
        return self.tables["notes"]


class CompositionResult(MechanismResult):
    """Cell-type composition change: mixed-model terms per cell type × visit × arm.

    Attributes
    ----------
    table
        ``cell_type, term, visit, arm, effect, se, ci_low, ci_high, pvalue, q_value, n_obs,
        n_subjects, transform, converged``.
    proportions
        Per-sample proportions and transformed values (long format).
    """

    name = "composition"

    @property
    def proportions(self) -> pd.DataFrame:
        """Per-sample counts, proportions and transformed values (long format)."""
        return self.tables["proportions"]


class TrajectoryResult(MechanismResult):
    """Mixed-model trajectories of cytokines, flow populations or clinical scores.

    Attributes
    ----------
    table
        ``feature, comparison, term, visit, group, effect, se, ci_low, ci_high, pvalue, q_value,
        n_obs, n_subjects, converged``.
    means
        Model-based mean per feature × group × visit with 95% CI, for plotting.
    """

    name = "trajectories"

    @property
    def means(self) -> pd.DataFrame:
        """Model-based means per feature × group × visit with 95% confidence intervals."""
        return self.tables["means"]


class EnrichmentResult(MechanismResult):
    """Gene-set activity (decoupler) per cell type × contrast.

    Attributes
    ----------
    table
        ``cell_type, contrast, source, score, q_value, n_genes, method``.
    """

    name = "enrichment"


class LinksResult(MechanismResult):
    """Cross-modal correlation edges.

    Attributes
    ----------
    table
        Every tested pair: ``feature_a, modality_a, feature_b, modality_b, rho, p, q_value, n``.
    edges
        The pairs with ``q_value`` at or below the requested FDR.
    """

    name = "links"

    @property
    def edges(self) -> pd.DataFrame:
        """The edges that pass the FDR threshold given to :func:`links`."""
        return self.tables["edges"]
