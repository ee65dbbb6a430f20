"""The handle returned by :func:`~biomarkers.datasets.simulate_trial`."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from biomarkers.datasets._truth import Truth

__all__ = ["SimulatedTrial"]


@dataclass
class SimulatedTrial:
    """A simulated trial on disk.

    Attributes
    ----------
    paths
        File name (``"clinical"``, ``"labs"``, ``"luminex_xponent"``, ``"singlecell"``, ...) -> path.
    truth
        The planted effects (also in ``paths["truth"]``).
    out_dir
        The trial folder.
    """

    paths: dict[str, Path]
    truth: Truth
    out_dir: Path

    def __repr__(self) -> str:
        return (
            f"SimulatedTrial(out_dir={str(self.out_dir)!r}, scenario={self.truth.scenario!r}, "
            f"n_subjects={self.truth.n_subjects}, files={len(self.paths)})"
        )

    def study(
        self, *, cytokines: tuple[str, ...] = ("luminex_xponent", "olink_npx"), backed: bool = False
    ):
        """Read the simulated files into a :class:`biomarkers.study.Study` with the real readers.

        Parameters
        ----------
        cytokines
            Which cytokine files become assays (``luminex_xponent`` → ``cytokines``,
            ``olink_npx`` → ``olink``; also ``cytokines_long``, ``bioplex_export``, ``msd_export``).
        backed
            Open the single-cell ``.h5ad`` backed (on disk).

        Examples
        --------
        >>> import tempfile, biomarkers as bm
        >>> trial = bm.datasets.simulate_trial(tempfile.mkdtemp(), n_subjects=8, cells_per_sample=5)
        >>> trial.study().summary().arms["n_subjects"].tolist()
        [4, 4]
        """
        from biomarkers.study import Study

        names = {"luminex_xponent": "cytokines", "olink_npx": "olink", "cytokines_long": "cytokines_long",
                 "bioplex_export": "bioplex", "msd_export": "msd"}  # fmt: skip
        p = self.paths
        return Study.from_files(
            clinical=p["clinical"], labs=p["labs"], samples=p["samples"], dosing=p["dosing"],
            flow=p["flow"], singlecell=p.get("singlecell"), backed=backed,
            cytokines={names.get(c, c): p[c] for c in cytokines},
        )  # fmt: skip

    def to_frame(self) -> pd.DataFrame:
        """One row per file: ``name``, ``path`` (relative to ``out_dir``) and ``bytes``."""
        return pd.DataFrame(
            {
                "name": list(self.paths),
                "path": [str(p.relative_to(self.out_dir)) for p in self.paths.values()],
                "bytes": [p.stat().st_size for p in self.paths.values()],
            }
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(k)}</td><td><code>{html.escape(str(p.relative_to(self.out_dir)))}</code></td></tr>"
            for k, p in self.paths.items()
        )
        return (
            f"<div><b>SimulatedTrial</b> in <code>{html.escape(str(self.out_dir))}</code>"
            f"{self.truth._repr_html_()}<table><tr><th>name</th><th>file</th></tr>{rows}</table></div>"
        )
