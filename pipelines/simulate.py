"""The ``simulate`` job: write the simulated ACLF-MSC trial (DESIGN.md §8)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from biomarkers import _atomic
from biomarkers.exceptions import ConfigError

if TYPE_CHECKING:
    from pipelines.config import SimulateConfig
    from pipelines.run import RunFolder

__all__ = ["run_simulate", "simulate_to"]


def simulate_to(
    out: str | os.PathLike,
    *,
    n_subjects: int = 100,
    seed: int = 0,
    cells_per_sample: int = 200,
    scenario: str = "default",
    cohort: str = "development",
    phase3: dict[str, Any] | None = None,
    missing_assays: dict[str, float] | None = None,
) -> Path:
    """Simulate a trial into ``out`` atomically: written to a temporary sibling, then renamed.

    A folder that already exists and is not empty is refused, so a previous trial is never
    overwritten or mixed with a new one.
    """
    from biomarkers.datasets import simulate_trial

    out = Path(out)
    _atomic.check_output(out, directory=True)
    if out.exists() and any(out.iterdir()):
        msg = f"{out} already exists and is not empty; choose another --out or delete it"
        raise ConfigError(msg)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        simulate_trial(
            tmp, n_subjects=n_subjects, seed=seed, cells_per_sample=cells_per_sample,
            scenario=scenario, cohort=cohort, phase3=phase3, missing_assays=missing_assays,
        )  # fmt: skip
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def parse_missing_assays(items: list[str] | None) -> dict[str, float] | None:
    """``["singlecell=0.3", "flow=0.15"]`` (the CLI's ``--missing-assay``) → a dict."""
    if not items:
        return None
    out = {}
    for item in items:
        assay, sep, frac = item.partition("=")
        try:
            out[assay.strip()] = float(frac)
        except ValueError:
            sep = ""
        if not sep:
            msg = f"--missing-assay {item!r}: write ASSAY=FRACTION, e.g. --missing-assay flow=0.15"
            raise ConfigError(msg) from None
    return out


def run_simulate(cfg: SimulateConfig, run: RunFolder) -> dict[str, Any]:
    """Write the simulated trial into ``<run folder>/trial/``."""
    s = cfg.simulate
    path = simulate_to(
        run.resolve("trial"), n_subjects=s.n_subjects, seed=cfg.seed,
        cells_per_sample=s.cells_per_sample, scenario=s.scenario, cohort=s.cohort,
        phase3=s.phase3, missing_assays=s.missing_assays,
    )  # fmt: skip
    for file in sorted(path.rglob("*")):
        if file.is_file():
            run.add_output(str(file.relative_to(run.path)))
    return {
        "trial": str(path), "subjects": s.n_subjects, "scenario": s.scenario, "cohort": s.cohort,
    }  # fmt: skip
