"""The result of a power study: replicate records, the per grid point table, saving and loading."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from biomarkers._atomic import write_json, write_table
from biomarkers.design._summary import summarise

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from biomarkers.design._grid import GridPoint

__all__ = ["FORMAT", "PowerResult"]

#: Format name and version of ``power.json`` / the replicate files.
FORMAT = {"name": "biomarkers.power", "version": 1}


def _records(folder: Path, points: list[GridPoint], replicates: int) -> pd.DataFrame:
    rows = []
    for point in points:
        for r in range(replicates):
            path = folder / "replicates" / point.id / f"r{r:05d}.json"
            if path.is_file():
                stored = json.loads(path.read_text(encoding="utf-8"))
                params = {k: (";".join(v) if isinstance(v, list) else v)
                          for k, v in stored["params"].items()}  # fmt: skip
                rows.append({"point_id": point.id, **params, "replicate": r, **stored["record"]})
    return pd.DataFrame(rows)


@dataclass(kw_only=True)
class PowerResult:
    """Records and Monte-Carlo summaries of a power study.

    Attributes
    ----------
    table
        One row per grid point × metric: ``point_id``, the grid keys, ``metric, estimate,
        mc_low, mc_high, k, n, interval, failed, description`` (``power.csv``).
    records
        One row per finished replicate: ``point_id``, grid keys, ``replicate, seed`` and the
        scores (``replicates.csv``).
    grid_keys
        The grid keys (columns shared by both tables); list-valued keys (``assays``,
        ``visits``) are joined with ``;``.
    settings
        Analyses, FDR, top k, fast, scenario and seed of the study.
    replicates
        Replicates asked per grid point; ``complete`` says whether all are stored.
    grid_points
        Points of the grid.
    """

    table: pd.DataFrame
    records: pd.DataFrame
    grid_keys: list[str]
    settings: dict[str, Any]
    replicates: int
    grid_points: int
    folder: Path | None = None
    sample_sizes: pd.DataFrame | None = field(default=None)

    @classmethod
    def from_folder(cls, folder, *, points, replicates, alpha, settings) -> PowerResult:
        """Summarise the replicates stored in a study folder."""
        records = _records(Path(folder), points, replicates)
        keys = list(points[0].params) if points else []
        table = summarise(records, keys, alpha=alpha) if len(records) else pd.DataFrame()
        return cls(table=table, records=records, grid_keys=keys,
                   settings={**settings, "alpha": alpha}, replicates=replicates,
                   grid_points=len(points), folder=Path(folder))  # fmt: skip

    @property
    def complete(self) -> bool:
        """Whether every replicate of every grid point is stored."""
        return self.grid_points > 0 and len(self.records) == self.replicates * self.grid_points

    def to_frame(self) -> pd.DataFrame:
        """The per grid point × metric table (a copy)."""
        return self.table.copy()

    def save(self, directory: str | os.PathLike) -> list[Path]:
        """Write ``power.csv``, ``replicates.csv`` and ``power.json``; return their paths."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        meta = {**FORMAT, "grid_keys": self.grid_keys, "settings": self.settings,
                "replicates": self.replicates, "grid_points": self.grid_points,
                "complete": self.complete}  # fmt: skip
        paths = [write_table(d / "power.csv", self.table),
                 write_table(d / "replicates.csv", self.records),
                 write_json(d / "power.json", meta)]  # fmt: skip
        if self.sample_sizes is not None:
            paths.append(write_table(d / "sample_size.csv", self.sample_sizes))
        return paths

    @classmethod
    def load(cls, directory: str | os.PathLike) -> PowerResult:
        """Read a result written by :meth:`save`."""
        d = Path(directory)
        meta = json.loads((d / "power.json").read_text(encoding="utf-8"))
        ss = d / "sample_size.csv"
        return cls(table=pd.read_csv(d / "power.csv"), records=pd.read_csv(d / "replicates.csv"),
                   grid_keys=meta["grid_keys"], settings=meta["settings"],
                   replicates=meta["replicates"], grid_points=meta["grid_points"], folder=d,
                   sample_sizes=pd.read_csv(ss) if ss.is_file() else None)  # fmt: skip

    def plot(self, metrics: list[str] | None = None) -> Figure:
        """Power curves: one panel per metric, estimate ± Monte-Carlo interval (seaborn)."""
        from biomarkers.design._report import power_curves

        return power_curves(self.table, self.grid_keys, metrics=metrics)

    def report(self, directory: str | os.PathLike, *, title: str = "Power study") -> Path:
        """Write ``report.html`` (tables, curves, analytic sample sizes) into ``directory``."""
        from biomarkers.design._report import write_power_report

        return write_power_report(self, directory, title=title)

    def _repr_html_(self) -> str:
        head = (f"<p><b>PowerResult</b>: {self.records['point_id'].nunique() if len(self.records) else 0} "
                f"grid points, {len(self.records)} replicates</p>")  # fmt: skip
        return head + self.table.to_html(index=False, max_rows=40)

    def __repr__(self) -> str:
        n = len(self.records)
        return f"PowerResult({n} replicates, {len(self.table)} rows; complete={self.complete})"
