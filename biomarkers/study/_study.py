"""The Study: subjects, arms, visits, samples and the assays joined to them."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from biomarkers._logging import logger
from biomarkers._validation import did_you_mean, format_ids
from biomarkers.exceptions import ConfigError, SchemaError
from biomarkers.io import CENSOR_CODES
from biomarkers.io._visits import resolve_visits
from biomarkers.study._assay import tidy_to_anndata
from biomarkers.study._design import (
    check_allocation,
    resolve_design,
    treatment_indicator,
)
from biomarkers.study._summary import StudySummary
from biomarkers.study._table_assay import table_to_anndata

if TYPE_CHECKING:
    import anndata as ad
    import mudata as md

__all__ = ["Study"]

_TABLES = ("clinical", "labs", "samples", "dosing", "singlecell", "cytokines", "flow")
_DESIGN_KEYS = ("treated_arm", "control_arm", "treated", "control", "allocation")
_CONFIG_KEYS = (
    *_TABLES,
    "tables",
    "visits",
    *_DESIGN_KEYS,
    "columns",
    "backed",
    "allow_identifiers",
)
_TABLE_OPTIONS = {
    "path",
    "columns",
    "unit",
    "visit_column",
    "subject_column",
    "format",
    "sheet",
    "sep",
}
_READER_OPTIONS = {
    "path",
    "format",
    "sheet",
    "sep",
    "columns",
    "assay",
    "datatype",
    "control_pattern",
}


class Study:
    """A clinical study: subjects and arms, visits, samples, and the assays joined to them.

    Build it with :meth:`from_files` or :meth:`from_config`; the constructor takes tables already
    in memory. Every join is checked: a sample whose subject is not in the clinical table, a visit
    outside the schedule, or an assay sample missing from the sample table raises a
    :class:`~biomarkers.exceptions.SchemaError` listing the first IDs and their count.

    Parameters
    ----------
    clinical
        One row per subject, indexed by ``subject_id`` (or with a ``subject_id`` column), with
        ``arm`` in a trial; without ``arm`` (or with a single arm) the study is a cohort.
    labs
        One row per subject × visit (``subject_id, visit`` + labs).
    samples
        Indexed by ``sample_id`` (or with that column): ``subject_id, visit`` (+ ``tissue, batch``).
    dosing
        Dosing table (``subject_id, dose_number, ...``).
    assays
        ``{name: tidy table or AnnData samples × analytes}``.
    singlecell
        AnnData cells × genes with ``obs["sample_id"]`` (or ``subject_id`` + ``visit`` to build
        it); its ``obs`` gains ``sample_id``, ``subject_id`` and ``visit`` when it lacks them
        (the only change made to an input). A path is read with
        :func:`biomarkers.io.read_singlecell`.
    singlecell_path
        Path of the ``.h5ad`` (for chunked readers).
    visits
        ``{label: study day}`` (or labels); default :data:`biomarkers.study.DEFAULT_VISITS`.
    treated_arm, control_arm
        Arm labels of a two-arm trial; inferred only for the simulated trial's labels
        (``ucMSC+SMT`` / ``SMT``), or the other arm when one of them is given.
    treated, control
        Arm label(s) compared: needed with more than two arms, where several labels on one side
        are pooled (``treated=["A", "B"], control=["C"]``). Subjects in other arms get no
        treatment indicator (listed in a log line). Use instead of ``treated_arm``/``control_arm``.
    allocation
        Randomisation probability of the treated side (e.g. ``0.75`` for 3:1); default equal
        allocation over the compared arms (0.5 for two arms). A ``DataQualityWarning`` says when
        the observed share of treated subjects is unlikely under it (binomial test p < 0.01).
    tables
        ``{name: table}``: generic subject × visit tables of numbers (a DataFrame, a path, or
        ``{"path": ..., "columns": "all" | [...], "unit": ..., "visit_column": ...,
        "subject_column": ...}``), each becoming ``assays[name]`` (see
        :func:`biomarkers.io.read_subject_table`); features are named ``name:column@visit``.

    Attributes
    ----------
    clinical, labs, samples, dosing, visits, treated_arm, control_arm, assays, singlecell,
    singlecell_path, tidy
        As in ``docs/contracts.md``; ``tidy`` keeps the tidy tables (replicate wells, controls in
        ``attrs``) the assays were built from. ``treated_arm``/``control_arm`` are None in a
        cohort and ``"A+B"`` for a pooled side.
    arms
        Arm labels of the clinical table (``[]`` without an ``arm`` column).
    study_design
        ``"cohort"``, ``"two_arm"`` or ``"multi_arm"``.
    treated_arms, control_arms
        The labels on each side of the comparison (``[]`` in a cohort).
    allocation
        Randomisation probability of the treated side (None in a cohort).
    treatment
        Series per subject: 1.0 treated, 0.0 control, NaN outside the comparison (all NaN in a
        cohort).

    Examples
    --------
    >>> from biomarkers.study import Study
    >>> study = Study.from_files(clinical="clinical.csv", samples="samples.csv",
    ...                          cytokines="cytokines_long.csv")  # doctest: +SKIP
    >>> study.summary()  # doctest: +SKIP
    """

    def __init__(
        self,
        clinical: pd.DataFrame,
        *,
        labs: pd.DataFrame | None = None,
        samples: pd.DataFrame | None = None,
        dosing: pd.DataFrame | None = None,
        assays: Mapping[str, pd.DataFrame | ad.AnnData] | None = None,
        singlecell: ad.AnnData | None = None,
        singlecell_path: str | os.PathLike | None = None,
        visits: Mapping[str, float] | Iterable[str] | None = None,
        treated_arm: str | None = None,
        control_arm: str | None = None,
        treated: str | Sequence[str] | None = None,
        control: str | Sequence[str] | None = None,
        allocation: float | None = None,
        tables: Mapping[str, Any] | None = None,
    ) -> None:
        self.visits: dict[str, float] = resolve_visits(visits)
        self.clinical = _indexed(clinical, "subject_id", what="clinical")
        arm = None
        if "arm" in self.clinical.columns:
            self.clinical["arm"] = self.clinical["arm"].astype(str)
            arm = self.clinical["arm"]
        self._set_design(
            resolve_design(
                arm,
                treated=treated,
                control=control,
                treated_arm=treated_arm,
                control_arm=control_arm,
                allocation=allocation,
            ),
            given=allocation is not None,
        )
        if isinstance(singlecell, str | os.PathLike):
            from biomarkers.io import read_singlecell

            path = Path(singlecell)
            singlecell = read_singlecell(path)
            if singlecell_path is None and path.suffix.lower() == ".h5ad":
                singlecell_path = path
        subjects = set(self.clinical.index)
        self.labs = None
        if labs is not None:
            self.labs = (
                labs.reset_index(drop=True) if "subject_id" in labs.columns else labs.reset_index()
            ).copy()
            _check_subjects(self.labs["subject_id"], subjects, what="labs rows")
            _check_visits(self.labs["visit"], self.visits, what="labs")
            if "day" not in self.labs.columns:
                self.labs["day"] = self.labs["visit"].map(self.visits)
        self.dosing = None
        if dosing is not None:
            self.dosing = dosing.reset_index(drop=True).copy()
            _check_subjects(self.dosing["subject_id"], subjects, what="dosing rows")
        self.samples = (
            _indexed(samples, "sample_id", what="samples")
            if samples is not None
            else pd.DataFrame(columns=["subject_id", "visit"], index=pd.Index([], name="sample_id"))
        )
        self.singlecell = singlecell
        self.singlecell_path = Path(singlecell_path) if singlecell_path is not None else None
        if singlecell is not None:
            self._add_singlecell_samples(singlecell)
        for col in ("subject_id", "visit"):
            if col not in self.samples.columns:
                msg = f"samples: required column {col!r} not found"
                raise SchemaError(msg)
        self.samples["subject_id"] = self.samples["subject_id"].astype(str)
        self.samples["visit"] = self.samples["visit"].astype(str)
        _check_subjects(self.samples["subject_id"], subjects, what="samples")
        _check_visits(self.samples["visit"], self.visits, what="samples")
        self.tidy: dict[str, pd.DataFrame] = {}
        self.assays: dict[str, ad.AnnData] = {}
        design = self.design
        for name, table in (assays or {}).items():
            self.assays[name] = self._assay(name, table, design)
        for name, spec in (tables or {}).items():
            self.assays[str(name)] = self._table(str(name), spec)
        if singlecell is not None:
            ids = singlecell.obs["sample_id"].astype(str).unique()
            _check_samples(ids, design.index, what="single-cell obs['sample_id']")
            obs = singlecell.obs
            sid = obs["sample_id"].astype(str)
            for col in ("subject_id", "visit"):
                if col not in obs.columns:
                    obs[col] = pd.Categorical(sid.map(design[col]).to_numpy())
        logger.info("%r", self)

    # ------------------------------------------------------------------ constructors

    @classmethod
    def from_files(
        cls,
        *,
        clinical: str | os.PathLike | Mapping[str, Any],
        labs: str | os.PathLike | Mapping[str, Any] | None = None,
        samples: str | os.PathLike | Mapping[str, Any] | None = None,
        singlecell: str | os.PathLike | ad.AnnData | None = None,
        cytokines: str | os.PathLike | Mapping[str, Any] | None = None,
        flow: str | os.PathLike | Mapping[str, Any] | None = None,
        dosing: str | os.PathLike | Mapping[str, Any] | None = None,
        tables: Mapping[str, Any] | None = None,
        visits: Mapping[str, float] | Iterable[str] | None = None,
        treated_arm: str | None = None,
        control_arm: str | None = None,
        treated: str | Sequence[str] | None = None,
        control: str | Sequence[str] | None = None,
        allocation: float | None = None,
        columns: Mapping[str, Any] | None = None,
        backed: bool = False,
        allow_identifiers: bool = False,
    ) -> Study:
        """Read every file with :mod:`biomarkers.io` and join them into a Study.

        Parameters
        ----------
        clinical, labs, samples, dosing, flow
            Paths, or ``{"path": ..., "format"/"sheet"/"sep"/"columns": ...}`` reader options.
        singlecell
            ``.h5ad``, 10x file/folder or manifest, or an AnnData in memory (see
            :func:`biomarkers.io.read_singlecell`).
        cytokines
            A path (assay ``"cytokines"``), or ``{name: path}`` / ``{name: {"path": ...,
            "format": ...}}`` for several panels (e.g. ``{"cytokines": ..., "olink": ...}``); a
            list of paths stacks several files of one panel (one per plate).
        tables
            ``{name: path or {"path": ..., "columns": "all" | [...], "unit": ...,
            "visit_column": ..., "subject_column": ...}}``: generic subject × visit tables
            (:func:`biomarkers.io.read_subject_table`), each an assay ``name``.
        visits
            ``{label: study day}``; default :data:`biomarkers.study.DEFAULT_VISITS`.
        treated_arm, control_arm
            Arm labels (required unless the arms are ``ucMSC+SMT`` and ``SMT``).
        treated, control, allocation
            The compared arms (lists, pooled) and the randomisation probability of the treated
            side; see :class:`Study`.
        columns
            ``{file column: name}`` applied to every table, or ``{"clinical": {...}, "labs":
            {...}, ...}`` per table.
        backed
            Open an ``.h5ad`` read-only on disk instead of loading it.
        allow_identifiers
            Accept direct identifier columns in clinical/labs/samples.

        Returns
        -------
        The checked Study.
        """
        from biomarkers import io

        per_table = _columns_per_table(columns)
        visits_d = resolve_visits(visits)

        def opts(spec, table: str) -> tuple[Path, dict]:
            if isinstance(spec, Mapping):
                unknown = set(spec) - _READER_OPTIONS
                if unknown or "path" not in spec:
                    bad = sorted(unknown)[0] if unknown else "path"
                    msg = (
                        f"{table}: reader option {bad!r} is not known{did_you_mean(bad, _READER_OPTIONS)} "
                        f"(or 'path' is missing); allowed: {', '.join(sorted(_READER_OPTIONS))}"
                    )
                    raise ConfigError(msg)
                kw = {k: v for k, v in spec.items() if k != "path"}
                path = _as_paths(spec["path"])
            else:
                kw, path = {}, _as_paths(spec)
            if per_table.get(table) and "columns" not in kw:
                kw["columns"] = per_table[table]
            return path, kw

        path, kw = opts(clinical, "clinical")
        clin = io.read_clinical(path, allow_identifiers=allow_identifiers, **kw)
        lab = smp = dos = None
        if labs is not None:
            path, kw = opts(labs, "labs")
            lab = io.read_labs(path, visits=visits_d, allow_identifiers=allow_identifiers, **kw)
        if samples is not None:
            path, kw = opts(samples, "samples")
            smp = io.read_samples(path, visits=visits_d, allow_identifiers=allow_identifiers, **kw)
        if dosing is not None:
            path, kw = opts(dosing, "dosing")
            dos = io.read_dosing(path, **kw)
        assays: dict[str, pd.DataFrame] = {}
        if cytokines is not None:
            panels = (
                cytokines
                if isinstance(cytokines, Mapping) and "path" not in cytokines
                else {"cytokines": cytokines}
            )
            for name, spec in panels.items():
                path, kw = opts(spec, f"cytokines[{name!r}]")
                assays[str(name)] = io.read_cytokines(path, **kw)
        if flow is not None:
            path, kw = opts(flow, "flow")
            assays["flow"] = io.read_flow(path, **kw)
        sc = sc_path = None
        if isinstance(singlecell, str | os.PathLike):
            sc = io.read_singlecell(singlecell, backed=backed)
            sc_path = Path(singlecell) if Path(singlecell).suffix.lower() == ".h5ad" else None
        elif singlecell is not None:
            sc = io.read_singlecell(singlecell)
            sc_path = Path(sc.filename) if sc.isbacked else None
        return cls(
            clin,
            labs=lab,
            samples=smp,
            dosing=dos,
            assays=assays,
            singlecell=sc,
            singlecell_path=sc_path,
            visits=visits_d,
            treated_arm=treated_arm,
            control_arm=control_arm,
            treated=treated,
            control=control,
            allocation=allocation,
            tables=tables,
        )

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], *, base_dir: str | os.PathLike | None = None
    ) -> Study:
        """Build a Study from a config mapping (e.g. the ``data:`` section of a job YAML).

        Parameters
        ----------
        config
            Keys: ``clinical`` (required), ``labs``, ``samples``, ``dosing``, ``singlecell``,
            ``cytokines``, ``flow``, ``tables`` (paths or reader-option mappings, see
            :meth:`from_files`), ``visits``, ``treated_arm``, ``control_arm``, ``treated``,
            ``control``, ``allocation``, ``columns``, ``backed``, ``allow_identifiers``.
        base_dir
            Folder that relative paths start from (default: the current folder).

        Returns
        -------
        The checked Study.

        Raises
        ------
        ConfigError
            Unknown key (with the nearest valid key) or missing ``clinical``.
        """
        unknown = [k for k in config if k not in _CONFIG_KEYS]
        if unknown:
            msg = (
                f"study config: unknown key {unknown[0]!r}{did_you_mean(unknown[0], _CONFIG_KEYS)}; "
                f"allowed: {', '.join(_CONFIG_KEYS)}"
            )
            raise ConfigError(msg)
        if "clinical" not in config:
            msg = "study config: 'clinical' is required (path of the clinical table)"
            raise ConfigError(msg)
        base = Path(base_dir) if base_dir is not None else Path.cwd()

        def resolve(spec):
            if spec is None:
                return None
            if isinstance(spec, Mapping):
                if "path" in spec:
                    return {**spec, "path": resolve(spec["path"])}
                return {k: resolve(v) for k, v in spec.items()}
            if isinstance(spec, list | tuple):
                return [_join(base, p) for p in spec]
            return _join(base, spec)

        kwargs = {
            k: resolve(config.get(k)) for k in (*_TABLES, "tables") if config.get(k) is not None
        }
        for key in ("visits", *_DESIGN_KEYS, "columns", "backed", "allow_identifiers"):
            if key in config:
                kwargs[key] = config[key]
        return cls.from_files(**kwargs)

    def with_comparison(
        self,
        *,
        treated: str | Sequence[str],
        control: str | Sequence[str],
        allocation: float | None = None,
    ) -> Study:
        """The same study with another comparison of arms (e.g. one pair of a multi-arm trial).

        Parameters
        ----------
        treated, control
            Arm label(s) of each side (several labels are pooled).
        allocation
            Randomisation probability of the treated side; default equal allocation over the
            compared arms.

        Returns
        -------
        A shallow copy (tables and assays shared, not copied) whose ``treated_arm``,
        ``control_arm``, ``allocation`` and ``treatment`` describe the new comparison.

        Examples
        --------
        >>> pairs = [study.with_comparison(treated=a, control="placebo")
        ...          for a in ("low dose", "high dose")]  # doctest: +SKIP
        """
        import copy

        arm = self.clinical["arm"] if "arm" in self.clinical.columns else None
        design = resolve_design(arm, treated=treated, control=control, allocation=allocation)
        other = copy.copy(self)
        other._set_design(design, given=allocation is not None)
        return other

    # ------------------------------------------------------------------ views

    @property
    def design(self) -> pd.DataFrame:
        """Samples with their subject, visit, study day and arm (indexed by ``sample_id``)."""
        d = self.samples.copy()
        d.insert(2, "day", d["visit"].map(self.visits))
        if "arm" in self.clinical.columns:
            d.insert(3, "arm", d["subject_id"].map(self.clinical["arm"]))
        return d

    @property
    def subjects(self) -> pd.Index:
        """Subject IDs (the clinical table's index)."""
        return self.clinical.index

    def summary(self) -> StudySummary:
        """Subjects per arm, samples per assay and visit, and the fractions of censored values.

        Returns
        -------
        :class:`StudySummary` with ``to_frame()`` and a Jupyter display.
        """
        counts = (
            self.clinical["arm"].value_counts()
            if "arm" in self.clinical.columns
            else pd.Series([len(self.clinical)], index=["(cohort)"])
        )
        arms = pd.DataFrame(
            {
                "arm": counts.index.astype(str),
                "role": [
                    "treated"
                    if a in self.treated_arms
                    else "control"
                    if a in self.control_arms
                    else "cohort"
                    if self.study_design == "cohort"
                    else "other"
                    for a in counts.index
                ],
                "n_subjects": counts.to_numpy(),
            }
        )
        rows = []
        if self.labs is not None:
            for visit, grp in self.labs.groupby("visit", sort=False):
                rows.append(_row("labs", visit, self.visits, len(grp), grp["subject_id"].nunique()))
        for name, adata in self.assays.items():
            obs = adata.obs
            for visit in self.visits:
                mask = (obs["visit"].astype(str) == visit).to_numpy()
                if not mask.any():
                    continue
                codes = adata.layers["censor"][mask]
                fractions = {
                    flag: float((codes == code).mean()) for flag, code in CENSOR_CODES.items()
                }
                rows.append(
                    _row(
                        name,
                        visit,
                        self.visits,
                        int(mask.sum()),
                        obs.loc[mask, "subject_id"].nunique(),
                        fractions,
                    )
                )
        if self.singlecell is not None:
            obs = self.singlecell.obs
            per = self.design.reindex(obs["sample_id"].astype(str).unique())
            for visit, grp in per.groupby("visit", sort=False):
                rows.append(
                    _row("singlecell", visit, self.visits, len(grp), grp["subject_id"].nunique())
                )
        table = pd.DataFrame(
            rows,
            columns=["assay", "visit", "day", "n_samples", "n_subjects", *CENSOR_CODES],
        )
        table = table.sort_values(["assay", "day"], kind="stable").reset_index(drop=True)
        return StudySummary(arms=arms, table=table)

    def to_mudata(self, *, include_singlecell: bool = False) -> md.MuData:
        """Return the assays as a :class:`mudata.MuData` (one modality per assay).

        Parameters
        ----------
        include_singlecell
            Add the single-cell AnnData (cells × genes) as modality ``"singlecell"`` (loaded into
            memory if backed).

        Returns
        -------
        MuData whose ``obs`` holds the sample design; variables are named ``<assay>:<analyte>``
        (the analyte alone in ``var["analyte"]``); ``uns`` has ``visits``, ``treated_arm``,
        ``control_arm``.
        """
        import mudata as md

        mods = {}
        for name, a in self.assays.items():
            a = a.copy()
            # MuData needs var names unique across modalities (IL6 on two panels)
            a.var["analyte"] = a.var_names.astype(str)
            a.var_names = [f"{name}:{v}" for v in a.var_names]
            mods[name] = a
        if include_singlecell and self.singlecell is not None:
            sc = self.singlecell
            mods["singlecell"] = sc.to_memory() if getattr(sc, "isbacked", False) else sc.copy()
        if not mods:
            msg = "Study has no assays to put in a MuData; add cytokines=, flow= or singlecell="
            raise SchemaError(msg)
        with md.set_options(pull_on_update=False):
            mdata = md.MuData(mods)
        tables = [
            a.obs[[c for c in self.design.columns if c in a.obs.columns]].astype(object)
            for a in self.assays.values()
            if a.uns.get("source") == "table"
        ]
        design = pd.concat([self.design.astype(object), *tables])
        design = design[~design.index.duplicated()].reindex(mdata.obs_names.astype(str))
        design.index = mdata.obs.index
        for col in design.columns:
            mdata.obs[col] = design[col].to_numpy()
        mdata.uns["visits"] = dict(self.visits)
        if self.treated_arm is not None:
            mdata.uns["treated_arm"] = self.treated_arm
        if self.control_arm is not None:
            mdata.uns["control_arm"] = self.control_arm
        return mdata

    def __repr__(self) -> str:
        arms = (
            ", ".join(f"{a} {n}" for a, n in self.clinical["arm"].value_counts().items())
            if "arm" in self.clinical.columns
            else "cohort"
        )
        assays = (
            ", ".join(f"{k} ({a.n_obs} × {a.n_vars})" for k, a in self.assays.items()) or "none"
        )
        sc = f", single-cell {self.singlecell.n_obs} cells" if self.singlecell is not None else ""
        return (
            f"Study: {len(self.clinical)} subjects ({arms}), visits {', '.join(self.visits)}, "
            f"{len(self.samples)} samples; assays: {assays}{sc}"
        )

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    # ------------------------------------------------------------------ internals

    def _assay(self, name: str, table, design: pd.DataFrame):
        import anndata as ad

        if isinstance(table, ad.AnnData):
            ids = table.obs_names.astype(str)
            _check_samples(ids, design.index, what=f"assay {name!r}")
            adata = table.copy()
            extra = design.reindex(ids)
            for col in extra.columns:
                adata.obs[col] = extra[col].to_numpy()
            return adata
        ids = table["sample_id"].astype(str).unique()
        _check_samples(ids, design.index, what=f"assay {name!r}")
        self.tidy[name] = table
        return tidy_to_anndata(table, design=design, name=name)

    def _set_design(self, design, *, given: bool) -> None:
        self.arms: list[str] = list(design.arms)
        self.study_design: str = design.kind
        self.treated_arms: list[str] = list(design.treated)
        self.control_arms: list[str] = list(design.control)
        self.treated_arm: str | None = design.treated_arm
        self.control_arm: str | None = design.control_arm
        self.allocation: float | None = design.allocation
        arm = self.clinical["arm"] if "arm" in self.clinical.columns else None
        self.treatment: pd.Series = treatment_indicator(arm, design, self.clinical.index)
        check_allocation(self.treatment, design, given=given)

    def _table(self, name: str, spec) -> ad.AnnData:
        from biomarkers.io._subject_table import check_subject_table, read_subject_table

        if isinstance(spec, pd.DataFrame):
            table = check_subject_table(spec, source=f"tables[{name!r}]", visits=self.visits)
        else:
            opts = dict(spec) if isinstance(spec, Mapping) else {"path": spec}
            unknown = sorted(set(opts) - _TABLE_OPTIONS)
            if unknown or "path" not in opts:
                bad = unknown[0] if unknown else "path"
                msg = (
                    f"tables[{name!r}]: option {bad!r} is not known{did_you_mean(bad, _TABLE_OPTIONS)} "
                    f"(or 'path' is missing); allowed: {', '.join(sorted(_TABLE_OPTIONS))}"
                )
                raise ConfigError(msg)
            path = opts.pop("path")
            table = read_subject_table(path, visits=self.visits, **opts)
        _check_subjects(
            table["subject_id"], set(self.clinical.index), what=f"tables[{name!r}] rows"
        )
        arm = self.clinical["arm"] if "arm" in self.clinical.columns else None
        return table_to_anndata(table, name=name, visits=self.visits, arm=arm)

    def _add_singlecell_samples(self, adata) -> None:
        obs = adata.obs
        if "sample_id" not in obs.columns and {"subject_id", "visit"} <= set(obs.columns):
            obs["sample_id"] = (
                obs["subject_id"].astype(str) + "_" + obs["visit"].astype(str)
            ).astype("category")
        if "sample_id" not in obs.columns:
            msg = "single-cell obs has no 'sample_id' column; read it with biomarkers.io.read_singlecell"
            raise SchemaError(msg)
        if not {"subject_id", "visit"} <= set(obs.columns):
            return
        pairs = obs[["sample_id", "subject_id", "visit"]].astype(str).drop_duplicates()
        if pairs["sample_id"].duplicated().any():
            bad = pairs.loc[pairs["sample_id"].duplicated(keep=False), "sample_id"].unique()
            msg = f"single-cell obs: sample(s) {format_ids(list(bad))} have cells from several subjects or visits"
            raise SchemaError(msg)
        pairs = pairs.set_index("sample_id")
        known = pairs.index.intersection(self.samples.index)
        if len(known):
            mine = self.samples.loc[known, ["subject_id", "visit"]].astype(str)
            diff = (mine != pairs.loc[known]).any(axis=1)
            if diff.any():
                bad = list(known[diff.to_numpy()])
                msg = (
                    f"single-cell obs disagrees with the samples table on subject/visit of "
                    f"{format_ids(bad)}; fix one of them"
                )
                raise SchemaError(msg)
        new = pairs.loc[pairs.index.difference(self.samples.index)]
        if len(new):
            self.samples = pd.concat([self.samples, new], axis=0)
            self.samples.index.name = "sample_id"


def _as_paths(spec):
    """A path, or a list of paths (several files of one assay, e.g. one per plate)."""
    if isinstance(spec, list | tuple):
        return [Path(p) for p in spec]
    return Path(spec)


def _join(base: Path, p) -> str:
    p = Path(str(p))
    return str(p if p.is_absolute() else base / p)


def _row(assay, visit, visits, n_samples, n_subjects, fractions=None) -> dict:
    row = {
        "assay": assay,
        "visit": visit,
        "day": visits.get(visit, np.nan),
        "n_samples": n_samples,
        "n_subjects": n_subjects,
    }
    for flag in CENSOR_CODES:
        row[flag] = (fractions or {}).get(flag, np.nan)
    return row


def _columns_per_table(columns) -> dict[str, dict]:
    if not columns:
        return {}
    if all(isinstance(v, Mapping) for v in columns.values()):
        unknown = [k for k in columns if k not in _TABLES]
        if unknown:
            msg = f"columns: unknown table {unknown[0]!r}{did_you_mean(unknown[0], _TABLES)}; tables: {', '.join(_TABLES)}"
            raise ConfigError(msg)
        return {k: dict(v) for k, v in columns.items()}
    return {key: dict(columns) for key in ("clinical", "labs", "samples", "dosing", "flow")}


def _indexed(df: pd.DataFrame, key: str, *, what: str) -> pd.DataFrame:
    df = df.copy()
    if df.index.name != key:
        if key not in df.columns:
            msg = f"{what}: no {key!r} column or index; map it with columns="
            raise SchemaError(msg)
        df = df.set_index(key)
    df.index = df.index.astype(str)
    if df.index.duplicated().any():
        dup = list(df.index[df.index.duplicated()].unique())
        msg = f"{what}: duplicate {key} {format_ids(dup)}; each must appear once"
        raise SchemaError(msg)
    return df


def _check_subjects(ids: pd.Series, subjects: set, *, what: str) -> None:
    ids = ids.astype(str)
    bad = list(pd.unique(ids[~ids.isin(subjects)]))
    if bad:
        msg = (
            f"{what}: {len(bad)} subject(s) not in the clinical table: {format_ids(bad)}; add them "
            "to the clinical file or remove their rows"
        )
        raise SchemaError(msg)


def _check_visits(visits: pd.Series, schedule: Mapping[str, float], *, what: str) -> None:
    visits = visits.astype(str)
    bad = list(pd.unique(visits[~visits.isin(list(schedule))]))
    if bad:
        msg = (
            f"{what}: visit {bad[0]!r} is not in the visit schedule{did_you_mean(bad[0], schedule)} "
            f"(unknown: {format_ids(bad)}); known visits: {', '.join(schedule)}; add it to visits="
        )
        raise SchemaError(msg)


def _check_samples(ids, known: pd.Index, *, what: str) -> None:
    ids = pd.Index(ids).astype(str)
    bad = list(ids[~ids.isin(known)])
    if bad:
        msg = (
            f"{what}: {len(bad)} sample(s) not in the samples table: {format_ids(bad)}; add them "
            "to samples (sample_id, subject_id, visit) or fix their IDs"
        )
        raise SchemaError(msg)
