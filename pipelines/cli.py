"""The ``biomarkers`` command line: a thin Typer layer over the job functions.

Exit codes: 0 success; 2 anything the user can fix (bad config, missing or malformed input, an
output folder that cannot be written), with a one-line message on stderr and no traceback unless
``--debug``; 1 internal errors (the traceback goes to the run's ``log.txt``); 130 interrupted
(Ctrl-C): one line ``interrupted``, never a traceback, the run folder marked ``interrupted``.
``report`` of a failed or incomplete run writes the report with a banner and exits 2 unless
``--allow-incomplete``.
"""

from __future__ import annotations

import os
import signal
import sys

#: Inside a command body Ctrl-C raises KeyboardInterrupt, so the run is marked and temporary
#: files are removed; anywhere else (imports, argument parsing) the process just stops
_IN_COMMAND = False


def _on_sigint(signum: int, frame: object) -> None:
    if _IN_COMMAND:
        raise KeyboardInterrupt
    try:
        os.write(2, b"interrupted\n")
    finally:
        os._exit(130)


def _install_sigint_handler() -> None:
    """Make Ctrl-C quiet from the first moment (called before the heavy imports)."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_sigint)


if __name__ == "__main__" or os.path.basename(sys.argv[0]) == "biomarkers":
    _install_sigint_handler()  # a real CLI process only, never a test process importing this

import logging  # noqa: E402
import traceback  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

import typer  # noqa: E402

from biomarkers.exceptions import BiomarkersError, ConfigError  # noqa: E402

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


class _ConsoleHandler(logging.StreamHandler):
    """Log to whatever ``sys.stderr`` is when a record is emitted.

    A handler bound to the stream of its first command kept writing to it after it closed
    (commands run in one process, as the CLI tests and notebooks do), printing "Logging error"
    tracebacks around the one-line messages.
    """

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def _setup_logging(*, quiet: bool, debug: bool) -> None:
    from biomarkers import settings

    settings.verbosity = 0 if quiet else (2 if debug else 1)
    if quiet:
        settings.progress = False
    pkg = logging.getLogger("biomarkers")
    level = logging.DEBUG if debug else (logging.WARNING if quiet else logging.INFO)
    pkg.setLevel(min(level, logging.INFO))  # the run log always gets INFO
    if not any(getattr(h, "_biomarkers_console", False) for h in pkg.handlers):
        handler = _ConsoleHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        handler._biomarkers_console = True  # type: ignore[attr-defined]
        pkg.addHandler(handler)
    for h in pkg.handlers:
        if getattr(h, "_biomarkers_console", False):
            h.setLevel(level)
    logging.captureWarnings(True)


@contextmanager
def _guard(*, debug: bool) -> Iterator[None]:
    """Turn user errors into a one-line message + exit 2, Ctrl-C into exit 130, bugs into exit 1."""
    from biomarkers._atomic import guard_inputs  # no command writes over a file it read

    global _IN_COMMAND
    _IN_COMMAND = True
    try:
        with guard_inputs():
            yield
    except typer.Exit:
        raise
    except BiomarkersError as err:
        if debug:
            traceback.print_exc()
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        _IN_COMMAND = False
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None
    except Exception as err:
        from pipelines.run import user_os_error

        user = user_os_error(err)
        if user is not None:
            if debug:
                traceback.print_exc()
            typer.echo(f"error: {user}", err=True)
            raise typer.Exit(2) from None
        if debug:
            traceback.print_exc()
        typer.echo(
            f"internal error: {type(err).__name__}: {err} (a bug; the traceback is in the run's "
            "log.txt, or rerun with --debug)",
            err=True,
        )
        raise typer.Exit(1) from None
    finally:
        _IN_COMMAND = False


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
    plan: Path | None = typer.Option(
        None, "--plan", help="Locked analysis plan to check the run against (biomarkers plan)."
    ),
    blinded: bool = typer.Option(
        False, "--blinded", help="Dry run on a dummy randomisation of the arms (docs/plan.md)."
    ),
    blind_seed: int | None = typer.Option(
        None, "--blind-seed", help="Seed of the dummy randomisation (default: the config's seed)."
    ),
    quiet: bool = QUIET,
    debug: bool = DEBUG,
) -> None:
    """Run the job a config names; prints the run folder as the last line.

    Every warning the library raised is in the run's ``log.txt`` and summarised on stderr at the
    end (count by kind, first message of each), also with ``--quiet``. ``--plan`` refuses a
    plan changed after it was locked and lists every deviation in ``plan_deviations.csv`` and
    the report; ``--blinded`` marks the run folder, manifest, report and panel as blinded.
    """
    _setup_logging(quiet=quiet, debug=debug)
    with _guard(debug=debug):
        from pipelines.config import load_config
        from pipelines.run import run_job, warning_summary

        overrides = list(set_ or [])
        if scheduler:
            overrides += ["backend.kind=dask", f"backend.scheduler={scheduler}"]
        cfg = load_config(config, overrides=overrides)
        if blind_seed is not None and not blinded:
            msg = f"--blind-seed {blind_seed} needs --blinded (a dry run on dummy arms)"
            raise ConfigError(msg)
        result = run_job(
            cfg, config_dir=config.parent, out=out, command=sys.argv, plan=plan,
            blinded=blinded, blind_seed=blind_seed,
        )  # fmt: skip
    for line in warning_summary(result.warnings):
        typer.echo(line, err=True)
    typer.echo(str(result.run_dir))


@app.command()
def plan(
    config: Path = typer.Argument(..., help="Job config (YAML) of a discover or mechanism run."),
    out: Path | None = typer.Option(
        None, "--out", help="Plan folder (default: <config stem>.plan/ next to the config)."
    ),
    set_: list[str] | None = SET,
    debug: bool = DEBUG,
) -> None:
    """Lock an analysis plan (analysis_plan.json + .md); prints the plan file as the last line.

    The plan holds the resolved config, the pre-specified markers (predictive.prespecified),
    the outcome and population, software versions and a SHA-256 of all of it; an existing plan
    is never overwritten. Check a run against it with ``biomarkers run CONFIG --plan PLAN``.
    """
    with _guard(debug=debug):
        from pipelines.config import load_config
        from pipelines.plan import write_plan

        cfg = load_config(config, overrides=list(set_ or []), check_files=False)
        path = write_plan(cfg, out, config_path=config)
    typer.echo(str(path))


@app.command()
def validate(
    config: Path = typer.Argument(..., help="Job config (YAML)."),
    set_: list[str] | None = SET,
    debug: bool = DEBUG,
) -> None:
    """Check a config and dry-run its data path (study, outcome, features) without fitting.

    Refuses, with exit 2, what a long run would refuse late: a feature visit that leaks the
    outcome, a missing block, an unknown cell type, clinical-baseline names not in the table,
    a ``plan:`` that is missing or was edited. With a plan it says how many deviations the
    run would list.
    """
    with _guard(debug=debug):
        from pipelines.config import input_paths, load_config
        from pipelines.plan import plan_summary
        from pipelines.run import capture_warnings, summarise_warnings, warning_summary
        from pipelines.validate import dry_run

        cfg = load_config(config, overrides=list(set_ or []))
        planned = plan_summary(cfg, config_dir=config.parent)  # a tampered plan: refused first
        with capture_warnings() as caught:
            lines = dry_run(cfg, source=str(config)) + planned
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
    seed: int = typer.Option(0, "--seed", help="Random seed >= 0 (same seed, same bytes)."),
    cells_per_sample: int = typer.Option(
        200, "--cells-per-sample", min=0, help="Single-cell PBMCs per sample."
    ),
    scenario: str = typer.Option(
        "default", "--scenario", help="default | strong | null | no_benefit"
    ),
    cohort: str = typer.Option(
        "development", "--cohort", help="development | phase3 (a second cohort with known shifts)"
    ),
    missing_assay: list[str] | None = typer.Option(
        None,
        "--missing-assay",
        help="ASSAY=FRACTION of subjects lacking an assay, repeatable "
        "(singlecell, flow, olink), e.g. --missing-assay singlecell=0.3",
    ),
    quiet: bool = QUIET,
    debug: bool = DEBUG,
) -> None:
    """Write a simulated ACLF-MSC trial in the input formats of the data contract."""
    _setup_logging(quiet=quiet, debug=debug)
    with _guard(debug=debug):
        from pipelines.simulate import parse_missing_assays, simulate_to

        if seed < 0:
            msg = f"--seed {seed}: a seed must be an integer >= 0, e.g. --seed 0"
            raise ConfigError(msg)

        path = simulate_to(
            out, n_subjects=subjects, seed=seed, cells_per_sample=cells_per_sample,
            scenario=scenario, cohort=cohort, missing_assays=parse_missing_assays(missing_assay),
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
    max_imputed_share: float = typer.Option(
        0.5,
        "--max-imputed-share",
        min=0.0,
        max=1.0,
        help="Refuse patients missing more than this share of the panel's markers.",
    ),
    quiet: bool = QUIET,
    debug: bool = DEBUG,
) -> None:
    """Score new patients with a locked biomarker panel."""
    _setup_logging(quiet=quiet, debug=debug)
    with _guard(debug=debug):
        from pipelines.score import score_files

        path = score_files(
            panel, list(inputs or []), out=out, config=config, allow_missing=allow_missing,
            max_imputed_share=max_imputed_share,
        )  # fmt: skip
    typer.echo(str(path))


@app.command("upgrade-panel")
def upgrade_panel(
    panel: Path = typer.Argument(..., help="An older panel folder (or its panel.json)."),
    out: Path = typer.Option(..., "--out", help="Folder to write the current-version panel into."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a panel.json in --out."),
    quiet: bool = QUIET,
    debug: bool = DEBUG,
) -> None:
    """Rewrite a panel of an older format version (same checksum, new card) into --out."""
    _setup_logging(quiet=quiet, debug=debug)
    with _guard(debug=debug):
        import biomarkers as bm
        from biomarkers.exceptions import ConfigError

        source = panel.parent if panel.name == "panel.json" else panel
        if out.resolve() == source.resolve():
            msg = (
                f"upgrade-panel: --out {out} is the panel folder it reads; give another folder "
                "(a command never writes to a path it read)"
            )
            raise ConfigError(msg)
        if (out / "panel.json").exists() and not overwrite:
            msg = f"upgrade-panel: {out / 'panel.json'} exists; give another --out or --overwrite"
            raise ConfigError(msg)
        path = bm.panel.upgrade_panel(panel, out, overwrite=overwrite)
    typer.echo(str(path))


@app.command()
def evaluate(
    panel: Path = typer.Argument(..., help="The locked panel (folder or panel.json)."),
    config: Path = typer.Option(
        ..., "--config", help="A config (pipeline: evaluate): the cohort's raw files + outcome."
    ),
    out: Path | None = typer.Option(None, "--out", help="Output folder (default: the config's)."),
    update: bool = typer.Option(
        False, "--update", help="Write the updated panel when the evidence asks for one."
    ),
    set_: list[str] | None = SET,
    quiet: bool = QUIET,
    debug: bool = DEBUG,
) -> None:
    """Evaluate a locked panel on a new cohort (drift, performance, updating); prints the run folder."""
    _setup_logging(quiet=quiet, debug=debug)
    with _guard(debug=debug):
        from pipelines.evaluate import evaluate_cli

        result = evaluate_cli(
            panel, config, out=out, update=update, overrides=list(set_ or []), command=sys.argv
        )
    typer.echo(str(result.run_dir))


@app.command()
def report(
    run_dir: Path = typer.Argument(..., help="A run folder (runs/<name>/<timestamp>/)."),
    allow_incomplete: bool = typer.Option(
        False,
        "--allow-incomplete",
        help="Exit 0 for a failed or incomplete run (exit 2 otherwise).",
    ),
    quiet: bool = QUIET,
    debug: bool = DEBUG,
) -> None:
    """(Re)build the self-contained report.html of a run folder."""
    _setup_logging(quiet=quiet, debug=debug)
    with _guard(debug=debug):
        from pipelines.report import build_report

        path = build_report(run_dir, allow_incomplete=allow_incomplete)
    typer.echo(str(path))


def _short(value: object) -> str:
    """A search-space value, printed with 3 significant digits."""
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _models_lines(table, *, width: int, wide: bool) -> list[str]:
    """The models table wrapped to ``width`` columns; ``wide`` adds each search space."""
    import textwrap

    name_w = max(4, *(len(n) for n in table["name"]))
    task_w = max(4, *(len(t) for t in table["task"]))
    indent = " " * (name_w + task_w + 4)
    lines = [f"{'name':<{name_w}}  {'task':<{task_w}}  description"]
    for row in table.itertuples():
        head = f"{row.name:<{name_w}}  {row.task:<{task_w}}  "
        lines += textwrap.wrap(
            row.description, width=max(width, len(indent) + 20), initial_indent=head,
            subsequent_indent=indent,
        )  # fmt: skip
        if wide:
            for param, values in dict(row.search_space).items():
                shown = ", ".join(_short(v) for v in values)
                lines += textwrap.wrap(
                    f"{param}: {shown} ({len(values)} values)", width=max(width, 40),
                    initial_indent=indent, subsequent_indent=indent + "  ",
                )  # fmt: skip
    return lines


@app.command()
def models(
    wide: bool = typer.Option(False, "--wide", help="Also show each model's search space."),
) -> None:
    """List the models a config can name (fits the terminal width; details with --wide)."""
    import shutil

    with _guard(debug=False):
        from biomarkers.models import available_models

        table = available_models()
    width = shutil.get_terminal_size(fallback=(80, 24)).columns
    for line in _models_lines(table, width=width, wide=wide):
        typer.echo(line)


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
    _install_sigint_handler()
    try:
        app()
    finally:
        # the command has answered: a Ctrl-C while the interpreter shuts down changes nothing
        signal.signal(signal.SIGINT, signal.SIG_IGN)


if __name__ == "__main__":
    main()
