"""Read ``truth.json`` back into a :class:`~biomarkers.datasets.Truth`."""

from __future__ import annotations

import json
import os
from pathlib import Path

from biomarkers.datasets._truth import TRUTH_FORMAT, TRUTH_FORMAT_VERSION, Truth
from biomarkers.exceptions import InputFileError

__all__ = ["load_truth"]


def load_truth(path: str | os.PathLike) -> Truth:
    """Load the ground truth of a simulated trial.

    Parameters
    ----------
    path
        ``truth.json`` or the trial folder that contains it.

    Returns
    -------
    The :class:`Truth` written by :func:`simulate_trial`.

    Raises
    ------
    InputFileError
        If the file is missing, is not JSON, or is not a ``biomarkers.truth`` file of a version this
        toolkit reads.

    Examples
    --------
    >>> import tempfile
    >>> from biomarkers.datasets import load_truth, simulate_trial
    >>> trial = simulate_trial(tempfile.mkdtemp(), n_subjects=12, cells_per_sample=5, seed=1)
    >>> load_truth(trial.out_dir).scenario
    'default'
    """
    p = Path(path)
    if p.is_dir():
        p = p / "truth.json"
    if not p.is_file():
        msg = f"truth file {str(p)!r} not found; pass truth.json or the folder written by simulate_trial"
        raise InputFileError(msg)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        msg = f"truth file {str(p)!r} is not valid JSON ({err.__class__.__name__}: {err}); re-run simulate_trial"
        raise InputFileError(msg) from err
    fmt = data.get("format") if isinstance(data, dict) else None
    if fmt != TRUTH_FORMAT:
        msg = f"{str(p)!r} has format {fmt!r}, expected {TRUTH_FORMAT!r}; is this a simulated trial's truth.json?"
        raise InputFileError(msg)
    version = data.get("format_version")
    if version != TRUTH_FORMAT_VERSION:
        msg = (
            f"{str(p)!r} has format_version {version!r}; this toolkit reads version {TRUTH_FORMAT_VERSION}; "
            "re-run simulate_trial with this version"
        )
        raise InputFileError(msg)
    return Truth.from_dict(data)
