"""Simulation-based power of the biomarker analyses: the study runner behind ``pipeline: power``."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from biomarkers._atomic import write_json
from biomarkers._logging import logger
from biomarkers._progress import progress
from biomarkers._validation import check_choice
from biomarkers.design._grid import ANALYSES, GridPoint, expand_grid, replicate_seed
from biomarkers.design._replicate import run_replicate
from biomarkers.design._result import FORMAT, PowerResult
from biomarkers.exceptions import ConfigError

__all__ = ["power"]

_DEFAULTS: dict[str, Any] = {
    "replicates": 50,
    "analyses": ("discover", "predictive", "treatment_effect"),
    "top_k": 10,
    "fdr": 0.1,
    "alpha": 0.05,
    "fast": True,
    "scenario": "default",
    "random_state": 0,
}


def _resolve(config_or_grid: Mapping[str, Any] | None, given: dict[str, Any]) -> dict[str, Any]:
    """Keywords given explicitly, else the ``power:`` section's keys, else the defaults."""
    section = dict(config_or_grid or {})
    if "grid" not in section:
        section = {"grid": section}
    unknown = set(section) - {"grid", *_DEFAULTS}
    if unknown:
        msg = (
            f"power: unknown key(s) {', '.join(sorted(unknown))}; use grid, {', '.join(_DEFAULTS)}"
        )
        raise ConfigError(msg)
    out = {
        k: given[k] if given.get(k) is not None else section.get(k, d) for k, d in _DEFAULTS.items()
    }
    out["grid"] = section["grid"]
    out["analyses"] = list(out["analyses"])
    for a in out["analyses"]:
        check_choice("power.analyses", a, ANALYSES, source="power")
    r = out["replicates"]
    if isinstance(r, bool) or not isinstance(r, int) or r < 1:
        msg = f"power: replicates={r!r}; give an integer >= 1"
        raise ConfigError(msg)
    if not 0 < out["fdr"] < 1 or not 0 < out["alpha"] < 1:
        msg = f"power: fdr={out['fdr']!r} and alpha={out['alpha']!r} must lie in (0, 1)"
        raise ConfigError(msg)
    return out


def _check_points(points: list[GridPoint], analyses: list[str]) -> None:
    for p in points:
        on = [v for v in p.params["visits"] if v != "D0"]
        if {"early_response", "mechanism"} & set(analyses) and not on:
            msg = f"power: visits {p.params['visits']} have no on-treatment visit; early_response and mechanism need one (e.g. D7)"
            raise ConfigError(msg)
        if "mechanism" in analyses and "singlecell" not in p.params["assays"]:
            msg = f"power: analyses include mechanism but assays {p.params['assays']} lack singlecell; add it or drop mechanism"
            raise ConfigError(msg)


def _settings(cfg: dict[str, Any]) -> dict[str, Any]:
    """What the replicates' results depend on (a resumed study must have the same)."""
    keep = ("analyses", "top_k", "fdr", "fast", "scenario", "random_state")
    return {"format": FORMAT, **{k: cfg[k] for k in keep}}


def _open_folder(out_dir, settings: dict[str, Any]) -> Path:
    folder = Path(out_dir)
    (folder / "replicates").mkdir(parents=True, exist_ok=True)
    path = folder / "study.json"
    if path.is_file():
        stored = json.loads(path.read_text(encoding="utf-8"))
        if stored != json.loads(json.dumps(settings)):
            diff = sorted(
                k for k in settings if stored.get(k) != json.loads(json.dumps(settings[k]))
            )
            msg = (
                f"{path}: this study folder was run with other settings ({', '.join(diff)} "
                "differ); use a new out_dir, or the same settings to resume it"
            )
            raise ConfigError(msg)
    else:
        write_json(path, settings)
    return folder


def _replicate_path(folder: Path, point: GridPoint, r: int) -> Path:
    return folder / "replicates" / point.id / f"r{r:05d}.json"


def _task(params: dict[str, Any], seed: int, cfg: dict[str, Any]) -> dict[str, Any]:
    return run_replicate(params, seed, cfg)


def _local(jobs, n_jobs: int) -> Iterator[tuple[Any, dict[str, Any]]]:
    if n_jobs == 1:
        for tag, args in jobs:
            yield tag, _task(*args)
        return
    from joblib import Parallel, delayed

    def tagged(tag, args):
        return tag, _task(*args)

    yield from Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(tagged)(tag, args) for tag, args in jobs
    )


def _dask(jobs, scheduler, n_workers) -> Iterator[tuple[Any, dict[str, Any]]]:
    from distributed import as_completed

    from biomarkers._parallel import dask_client

    with dask_client(scheduler=scheduler, n_workers=n_workers) as client:
        futures = {client.submit(_task, *args, pure=False): tag for tag, args in jobs}
        try:
            for fut in as_completed(futures):
                yield futures[fut], fut.result()
        finally:
            client.cancel(list(futures))


def power(
    config_or_grid: Mapping[str, Any] | None = None,
    *,
    replicates: int | None = None,
    analyses: Sequence[str] | None = None,
    top_k: int | None = None,
    fdr: float | None = None,
    alpha: float | None = None,
    fast: bool | None = None,
    scenario: str | None = None,
    random_state: int | None = None,
    out_dir: str | os.PathLike | None = None,
    backend: str = "local",
    n_jobs: int | None = None,
    scheduler: str | None = None,
    stop_after: int | None = None,
) -> PowerResult:
    """Simulation-based power of the biomarker analyses over a grid of trial designs.

    Each replicate simulates a trial with the grid point's design and effects
    (:func:`biomarkers.datasets.simulate_trial`, in a temporary folder), runs the configured
    analyses with fast settings, scores them against the planted truth and stores one small
    record as ``out_dir/replicates/<point>/r<index>.json`` (atomically). A rerun with the same
    ``out_dir`` skips the replicates already stored, so a killed study continues where it
    stopped; a replicate's seed depends only on ``random_state``, its grid point and its
    index, so the results are the same whatever the backend, the number of workers or the
    interruptions.

    Parameters
    ----------
    config_or_grid
        The ``power:`` section of a config (a mapping with ``grid`` and optionally the keywords
        below) or just the grid: key -> value or list of values, keys ``n_subjects,
        allocation, treatment_effect, predictive_effect, prognostic_effect, pd_effect,
        mechanism_effect, assays, visits`` (docs/design.md, "Grid").
    replicates
        Replicates per grid point (default 50).
    analyses
        Out of ``discover, predictive, early_response, mechanism, treatment_effect`` (default
        ``discover, predictive, treatment_effect``).
    top_k
        Ranks counted as "found" for the prognostic recall (default 10).
    fdr
        False discovery rate of the predictive, early-response and DE calls (default 0.1).
    alpha
        Two-sided level of the treatment-effect test (default 0.05).
    fast
        Fast per-replicate settings (default True; :data:`FAST_SETTINGS` in docs/design.md).
    scenario
        Simulator scenario the grid's effects modify (default ``"default"``).
    random_state
        Seed of the study (default 0).
    out_dir
        Study folder (resumable); default a new temporary folder.
    backend
        ``"local"`` (processes via joblib/loky) or ``"dask"`` (one task per replicate on a
        Dask cluster: ``scheduler``, or a LocalCluster of ``n_jobs`` workers).
    n_jobs
        Local processes or LocalCluster workers (default ``settings.n_jobs`` or 1).
    scheduler
        Address of a running Dask scheduler (``backend="dask"``).
    stop_after
        Stop after this many new replicates (a testing hook that simulates a killed study).

    Returns
    -------
    PowerResult
        ``.table`` (per grid point × metric, with Monte-Carlo intervals), ``.records``
        (one row per replicate); ``save(dir)`` writes ``power.csv``, ``replicates.csv``,
        ``power.json``.

    Examples
    --------
    >>> import biomarkers as bm
    >>> res = bm.design.power({"n_subjects": [60]}, replicates=1, analyses=["treatment_effect"])
    >>> res.table.loc[0, "metric"]
    'treatment_power'
    """
    from biomarkers._parallel import resolve_n_jobs

    check_choice("backend", backend, ("local", "dask"), source="power")
    given = {"replicates": replicates, "analyses": analyses, "top_k": top_k, "fdr": fdr,
             "alpha": alpha, "fast": fast, "scenario": scenario, "random_state": random_state}  # fmt: skip
    cfg = _resolve(config_or_grid, given)
    points = expand_grid(cfg["grid"])
    _check_points(points, cfg["analyses"])
    settings = _settings(cfg)
    folder = _open_folder(out_dir or tempfile.mkdtemp(prefix="bm-power-study-"), settings)
    # replicate-major order: a study stopped early has about as many replicates at every point
    todo = [
        ((point, r), (point.params, replicate_seed(cfg["random_state"], point, r),
                      {**settings, "effects": point.effects()}))
        for r in range(cfg["replicates"])
        for point in points
        if not _replicate_path(folder, point, r).is_file()
    ]  # fmt: skip
    total = len(points) * cfg["replicates"]
    logger.info("power study %s: %d of %d replicates to run", folder, len(todo), total)
    n = resolve_n_jobs(n_jobs)
    stream = _dask(todo, scheduler, n) if backend == "dask" else _local(todo, n)
    bar = progress(stream, total=len(todo), description="power replicates")
    for done, ((point, r), record) in enumerate(bar, start=1):
        write_json(_replicate_path(folder, point, r),
                   {"point_id": point.id, "replicate": r, "params": point.params, "record": record})  # fmt: skip
        if stop_after is not None and done >= stop_after:
            bar.close()
            stream.close()  # cancels the tasks not yet finished
            break
    return PowerResult.from_folder(folder, points=points, replicates=cfg["replicates"],
                                   alpha=cfg["alpha"], settings=settings)  # fmt: skip
