"""Process-wide defaults (verbosity, n_jobs, random_state, figure directory)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from biomarkers.exceptions import ConfigError, SettingsError, did_you_mean

__all__ = ["Settings", "settings"]


def _default_progress() -> bool:
    # CI logs and non-interactive jobs get no progress bars
    return not os.environ.get("CI")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_verbosity(value: Any) -> int:
    if not _is_int(value) or not 0 <= value <= 2:
        msg = f"settings.verbosity={value!r} must be 0 (quiet), 1 (info) or 2 (debug)"
        raise ConfigError(msg)
    return value


def _check_n_jobs(value: Any) -> int | None:
    if value is None or (_is_int(value) and (value >= 1 or value == -1)):
        return value
    msg = f"settings.n_jobs={value!r} must be None (1 process), -1 (all cores) or an int >= 1"
    raise ConfigError(msg)


def _check_random_state(value: Any) -> int:
    if not _is_int(value) or value < 0:
        msg = f"settings.random_state={value!r} must be an int >= 0 (a seed), e.g. 0"
        raise ConfigError(msg)
    return value


def _check_figdir(value: Any) -> Path:
    if not isinstance(value, str | os.PathLike):
        msg = f"settings.figdir={value!r} must be a folder path (str or Path)"
        raise ConfigError(msg)
    return Path(value)


def _check_progress(value: Any) -> bool:
    if not isinstance(value, bool):
        msg = f"settings.progress={value!r} must be True or False"
        raise ConfigError(msg)
    return value


_CHECKS = {
    "verbosity": _check_verbosity,
    "n_jobs": _check_n_jobs,
    "random_state": _check_random_state,
    "figdir": _check_figdir,
    "progress": _check_progress,
}


@dataclass
class Settings:
    """Defaults used when a function's own argument is left at ``None``.

    Only the attributes below exist, and each is checked when set: a misspelt name
    (``settings.progres = False``) raises :class:`~biomarkers.exceptions.SettingsError` (a
    :class:`~biomarkers.exceptions.ConfigError` and an :class:`AttributeError`) with the closest
    name; a bad value raises :class:`~biomarkers.exceptions.ConfigError`.

    Attributes
    ----------
    verbosity
        0 quiet, 1 info (default), 2 debug.
    n_jobs
        Default parallelism for joblib: ``None`` = 1 process, ``-1`` = all cores, or an int >= 1.
    random_state
        Default seed (int >= 0) for functions that take ``random_state=None``.
    figdir
        Where :mod:`biomarkers.pl` saves figures when asked to (stored as a :class:`~pathlib.Path`).
    progress
        Show progress bars (off when the ``CI`` environment variable is set).

    Examples
    --------
    >>> from biomarkers import settings
    >>> settings.progres = False
    Traceback (most recent call last):
    ...
    biomarkers.exceptions.SettingsError: biomarkers.settings has no setting 'progres'; did you mean 'progress'?; settings are: verbosity, n_jobs, random_state, figdir, progress
    """

    verbosity: int = 1
    n_jobs: int | None = None
    random_state: int = 0
    figdir: Path = field(default_factory=lambda: Path("figures"))
    progress: bool = field(default_factory=_default_progress)

    def __setattr__(self, name: str, value: Any) -> None:
        check = _CHECKS.get(name)
        if check is None:
            names = [f.name for f in fields(self)]
            msg = (
                f"biomarkers.settings has no setting {name!r}{did_you_mean(name, names)}; "
                f"settings are: {', '.join(names)}"
            )
            raise SettingsError(msg)
        super().__setattr__(name, check(value))


settings = Settings()
