"""The ``biomarkers`` command line: a thin Typer layer over the job functions.

Exit codes: 0 success; 2 anything the user can fix (bad config, missing or malformed input), with a
one-line message on stderr and no traceback unless ``--debug``; 1 internal errors (the traceback
goes to the run's ``log.txt``).
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from biomarkers.exceptions import BiomarkersError

__all__ = ["app", "main"]

app = typer.Typer(
    name="biomarkers",
    help="Find and validate markers that predict response to MSC therapy.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

QUIET = typer.Option(False, "--quiet", "-q", help="Only errors; no progress bars.")
DEBUG = typer.Option(False, "--debug", help="Show full tracebacks.")
SET = typer.Option(
    None, "--set", help="Override a config key, e.g. --set models.n_repeats=2 (repeatable)."
)


def _setup_logging(*, quiet: bool, debug: bool) -> None:
    from biomarkers import settings

    settings.verbosity = 0 if quiet else (2 if debug else 1)
    if quiet:
        settings.progress = False
    pkg = logging.getLogger("biomarkers")
    level = logging.DEBUG if debug else (logging.WARNING if quiet else logging.INFO)
    pkg.setLevel(min(level, logging.INFO))  # the run log always gets INFO
    if not any(getattr(h, "_biomarkers_console", False) for h in pkg.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        handler._biomarkers_console = True  # type: ignore[attr-defined]
        pkg.addHandler(handler)
    for h in pkg.handlers:
        if getattr(h, "_biomarkers_console", False):
            h.setLevel(level)
    logging.captureWarnings(True)


@contextmanager
def _guard(*, debug: bool) -> Iterator[None]:
    """Turn user errors into a one-line message + exit 2, and bugs into exit 1."""
    try:
        yield
    except typer.Exit:
        raise
    except BiomarkersError as err:
        if debug:
            traceback.print_exc()
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None
    except Exception as err:
        if debug:
            traceback.print_exc()
        typer.echo(
            f"internal error: {type(err).__name__}: {err} (a bug; the traceback is in the run's "
            "log.txt, or rerun with --debug)",
            err=True,
        )
        raise typer.Exit(1) from None


@app.command()
def run(
    config: Path = typer.Argument(..., help="Job config (YAML)."),
    out: Path | None = typer.Option(
        None, "--out", help="Output folder (default: the config's output)."
    ),
    set_: list[str] | None = SET,
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Dask scheduler address (sets backend.kind=dask)."
    ),
    quiet: bool = QUIET,
    debug: bool = DEBUG,
) -> None:
    """Run the job a config names; prints the run folder as the last line.

    Every warning the library raised is in the run's ``log.txt`` and summarised on stderr at the
    end (count by kind, first message of each), also with ``--quiet``.
    """
    _setup_logging(quiet=quiet, debug=debug)
    with _guard(debug=debug):
        from pipelines.config import load_config
        from pipelines.run import run_job, warning_summary

        overrides = list(set_ or [])
        if scheduler:
            overrides += ["backend.kind=dask", f"backend.scheduler={scheduler}"]
        cfg = load_config(config, overrides=overrides)
        result = run_job(cfg, config_dir=config.parent, out=out, command=sys.argv)
    for line in warning_summary(result.warnings):
        typer.echo(line, err=True)
    typer.echo(str(result.run_dir))


@app.command()
def validate(
    config: Path = typer.Argument(..., help="Job config (YAML)."),
    set_: list[str] | None = SET,
    debug: bool = DEBUG,
) -> None:
    """Check a config and dry-run its data path (study, outcome, features) without fitting.

    Refuses, with exit 2, what a long run would refuse late: a feature visit that leaks the
    outcome, a missing block, an unknown cell type, clinical-baseline names not in the table.
    """
    with _guard(debug=debug):
        from pipelines.config import input_paths, load_config
        from pipelines.run import capture_warnings, summarise_warnings, warning_summary
        from pipelines.validate import dry_run

        cfg = load_config(config, overrides=list(set_ or []))
        with capture_warnings() as caught:
            lines = dry_run(cfg, source=str(config))
        n_inputs = len(input_paths(cfg))
    for line in lines:
        typer.echo(f"  {line}")
    for line in warning_summary(summarise_warnings(caught), during="the dry run"):
        typer.echo(line, err=True)
    typer.echo(f"{config}: valid {cfg.pipeline} config ({n_inputs} input files checked)")


@app.command()
def simulate(
    out: Path = typer.Option(..., "--out", help="Folder to write the simulated trial into."),
    subjects: int = typer.Option(100, "--subjects", min=4, help="Number of randomised subjects."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same bytes)."),
    cells_per_sample: int = typer.Option(
        200, "--cells-per-sample", min=0, help="Single-cell PBMCs per sample."
    ),
    scenario: str = typer.Option(
        "default", "--scenario", help="default | strong | null | no_benefit"
    ),
    quiet: bool = QUIET,
    debug: bool = DEBUG,
) -> None:
    """Write a simulated ACLF-MSC trial in the input formats of the data contract."""
    _setup_logging(quiet=quiet, debug=debug)
    with _guard(debug=debug):
        from pipelines.simulate import simulate_to

        path = simulate_to(
            out, n_subjects=subjects, seed=seed, cells_per_sample=cells_per_sample,
            scenario=scenario,
        )  # fmt: skip
    typer.echo(str(path))


@app.command()
def score(
    panel: Path = typer.Argument(..., help="panel.json written by a discovery run."),
    inputs: list[Path] | None = typer.Argument(
        None, help="A feature table (CSV/TSV/Parquet/h5ad); omit it with --config."
    ),
    out: Path = typer.Option(Path("scores.csv"), "--out", help="Where to write the scores."),
    config: Path | None = typer.Option(
        None, "--config", help="A config (pipeline: score) whose data: section names raw files."
    ),
    allow_missing: str | None = typer.Option(
        None, "--allow-missing", help="Fallback for missing markers: impute_training_median."
    ),
    quiet: bool = QUIET,
    debug: bool = DEBUG,
) -> None:
    """Score new patients with a locked biomarker panel."""
    _setup_logging(quiet=quiet, debug=debug)
    with _guard(debug=debug):
        from pipelines.score import score_files

        path = score_files(
            panel, list(inputs or []), out=out, config=config, allow_missing=allow_missing
        )
    typer.echo(str(path))


@app.command()
def report(
    run_dir: Path = typer.Argument(..., help="A run folder (runs/<name>/<timestamp>/)."),
    quiet: bool = QUIET,
    debug: bool = DEBUG,
) -> None:
    """(Re)build the self-contained report.html of a run folder."""
    _setup_logging(quiet=quiet, debug=debug)
    with _guard(debug=debug):
        from pipelines.report import build_report

        path = build_report(run_dir)
    typer.echo(str(path))


@app.command()
def models() -> None:
    """List the models a config can name."""
    with _guard(debug=False):
        from biomarkers.models import available_models

        table = available_models()
    typer.echo(table.to_string(index=False))


@app.command()
def power(
    config: Path = typer.Argument(
        ..., help="A power config (pipeline: power), e.g. configs/power.yaml."
    ),
    replicates: int | None = typer.Option(
        None, "--replicates", min=1, help="Replicates per grid point."
    ),
    n_jobs: int | None = typer.Option(None, "--n-jobs", help="Local processes or Dask workers."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Dask scheduler address."),
    out: Path | None = typer.Option(None, "--out", help="Output folder (default: the config's)."),
    quiet: bool = QUIET,
    debug: bool = DEBUG,
) -> None:
    """Run or resume a power study; prints the path of its power.csv as the last line."""
    _setup_logging(quiet=quiet, debug=debug)
    with _guard(debug=debug):
        from biomarkers.exceptions import ConfigError
        from pipelines.config import load_config
        from pipelines.run import run_job

        overrides = [f"power.replicates={replicates}"] if replicates else []
        overrides += [f"backend.n_jobs={n_jobs}"] if n_jobs else []
        overrides += ["backend.kind=dask", f"backend.scheduler={scheduler}"] if scheduler else []
        cfg = load_config(config, overrides=overrides)
        if cfg.pipeline != "power":
            msg = f"{config}: pipeline is {cfg.pipeline!r}; biomarkers power runs 'pipeline: power' configs (use biomarkers run)"
            raise ConfigError(msg)
        result = run_job(cfg, config_dir=config.parent, out=out, command=sys.argv)
    typer.echo(str(result.run_dir / "power.csv"))


@app.command()
def version() -> None:
    """Print the toolkit's version."""
    import biomarkers

    typer.echo(biomarkers.__version__)


def main() -> None:
    """Entry point of the ``biomarkers`` console script."""
    app()


if __name__ == "__main__":
    main()
