"""Power curves and the HTML report of a power study."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from biomarkers._atomic import write_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from biomarkers.design._result import PowerResult

__all__ = ["power_curves", "write_power_report"]


def _axes(table: pd.DataFrame, grid_keys: list[str]) -> tuple[str, str | None]:
    """x: n_subjects when it varies (else the first varying key); hue: the next varying key."""
    varying = [k for k in grid_keys if k in table and table[k].nunique() > 1]
    x = "n_subjects" if "n_subjects" in varying else (varying[0] if varying else "n_subjects")
    rest = [k for k in varying if k != x]
    return x, rest[0] if rest else None


def power_curves(
    table: pd.DataFrame, grid_keys: list[str], *, metrics: list[str] | None = None
) -> Figure:
    """One panel per metric: estimate against the grid's x key, a line per hue key value.

    The shaded band is the Monte-Carlo interval of each point (Wilson for probabilities).
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    metrics = metrics or [m for m in table["metric"].unique() if not m.startswith("de_fdp")]
    x, hue = _axes(table, grid_keys)
    ncol = min(3, max(1, len(metrics)))
    nrow = int(np.ceil(len(metrics) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), squeeze=False)
    palette = sns.color_palette("colorblind")
    for ax, metric in zip(axes.flat, metrics, strict=False):
        sub = table[table["metric"] == metric]
        groups = sub.groupby(hue, sort=True) if hue else [(None, sub)]
        for i, (level, g) in enumerate(groups):
            g = g.groupby(x, sort=True)[["estimate", "mc_low", "mc_high"]].mean().reset_index()
            label = f"{hue} = {level}" if hue else None
            sns.lineplot(data=g, x=x, y="estimate", marker="o", ax=ax, color=palette[i % 10],
                         label=label)  # fmt: skip
            ax.fill_between(g[x].astype(float), g["mc_low"].astype(float),
                            g["mc_high"].astype(float), color=palette[i % 10], alpha=0.2)  # fmt: skip
        ax.set_title(metric, fontsize=9)
        ax.set_xlabel(x)
        ax.set_ylabel("")
        if metric.startswith(("p_", "treatment_power")) or "rate" in metric or "recall" in metric:
            ax.set_ylim(-0.02, 1.02)
        if hue and ax.get_legend() is not None:
            ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _wide(result: PowerResult) -> pd.DataFrame:
    """Estimate [MC interval] per grid point (rows) × metric (columns), for the report."""
    t = result.table
    cell = t.apply(lambda r: f"{r['estimate']:.2f} [{r['mc_low']:.2f}, {r['mc_high']:.2f}]",
                   axis=1)  # fmt: skip
    keys = [k for k in result.grid_keys if t[k].nunique() > 1] or result.grid_keys[:1]
    wide = t.assign(cell=cell).pivot_table(index=keys, columns="metric", values="cell",
                                           aggfunc="first", sort=False)  # fmt: skip
    return wide.reset_index()


def write_power_report(result: PowerResult, directory: str | os.PathLike, *, title: str) -> Path:
    """Write ``report.html`` and ``figures/power_curves.png`` into ``directory``."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    import biomarkers

    d = Path(directory)
    (d / "figures").mkdir(parents=True, exist_ok=True)
    fig = result.plot()
    fig.savefig(d / "figures" / "power_curves.png", dpi=110)
    env = Environment(loader=PackageLoader("biomarkers.design", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))  # fmt: skip
    desc = result.table.drop_duplicates("metric")[["metric", "description", "interval"]]
    html = env.get_template("power.html.j2").render(
        title=title,
        version=biomarkers.__version__,
        settings=result.settings,
        replicates=result.replicates,
        n_done=len(result.records),
        complete=result.complete,
        curves=_png(fig),
        summary=_wide(result).to_html(index=False, classes="tbl", border=0),
        metrics=desc.to_html(index=False, classes="tbl", border=0),
        sample_sizes=None if result.sample_sizes is None
        else result.sample_sizes.to_html(index=False, classes="tbl", border=0),
    )  # fmt: skip
    return write_text(d / "report.html", html)
