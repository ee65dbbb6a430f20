"""Write the tutorial notebooks from the cell sources below, run them, store them with outputs.

``python notebooks/_build.py`` writes each ``.ipynb`` from its cell sources (ruff-formatted),
executes it top to bottom in a fresh temporary folder (``nbclient``, kernel ``python3``) and
stores it **with its outputs**, the wall time and a SHA-256 of its code cells in the notebook
metadata (``metadata.biomarkers``). ``tests/notebooks/test_notebooks.py`` compares that hash
with the generator's cells (a stale notebook fails fast, without running anything); the full
execution is a slow test. ``--no-execute`` only writes the sources (no outputs). Cell ids are
deterministic so that a rebuild of an unchanged notebook changes only outputs and timings.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: Longest a tutorial may take to run on the bundled data (README: "under a minute").
BUDGET_SECONDS = 60

KERNEL = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def md(text: str) -> tuple[str, str]:
    return ("markdown", text.strip("\n"))


def code(text: str) -> tuple[str, str]:
    return ("code", text.strip("\n"))


def code_sha256(nb) -> str:
    """SHA-256 of the notebook's code cells (their sources, in order)."""
    sources = [c.source for c in nb.cells if c.cell_type == "code"]
    return hashlib.sha256(json.dumps(sources, ensure_ascii=False).encode("utf-8")).hexdigest()


def write(name: str, cells: list[tuple[str, str]], out_dir: Path = HERE) -> Path:
    nb = new_notebook(metadata=KERNEL)
    stem = name.split("_", 1)[0]
    for i, (kind, src) in enumerate(cells):
        cell = new_markdown_cell(src) if kind == "markdown" else new_code_cell(src)
        cell["id"] = f"nb{stem}-{i:02d}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    path = Path(out_dir) / f"{name}.ipynb"
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    # the stored notebooks are ruff-formatted; format here so a rebuild is idempotent
    ruff = Path(sys.executable).with_name("ruff")
    if ruff.exists():
        subprocess.run([str(ruff), "format", "--quiet", str(path)], check=True)
    return path


def _scrub(obj, replace: dict[str, str]):
    """Outputs without this machine's paths (temporary folder, repository, environment)."""
    if isinstance(obj, str):
        for old, new in replace.items():
            obj = obj.replace(old, new)
        return obj
    if isinstance(obj, list):
        return [_scrub(v, replace) for v in obj]
    if isinstance(obj, dict):
        return {k: (v if k.startswith("image/") else _scrub(v, replace)) for k, v in obj.items()}
    return obj


def execute(path: Path, *, timeout: int = 600) -> float:
    """Run the notebook at ``path`` in a fresh folder; store outputs, time and code hash."""
    import nbclient

    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="bm-nb-") as tmp:
        old = os.environ.get("TMPDIR")
        os.environ["TMPDIR"] = tmp  # the kernel's tempfile.mkdtemp() folders land in tmp
        try:
            start = time.perf_counter()
            client = nbclient.NotebookClient(
                nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": tmp}}
            )
            client.execute()
            seconds = time.perf_counter() - start
        finally:
            if old is None:
                os.environ.pop("TMPDIR", None)
            else:
                os.environ["TMPDIR"] = old
        replace = {
            str(Path(tmp).resolve()): "<tmp>",
            tmp: "<tmp>",
            str(ROOT): "<repo>",
            sys.prefix: "<env>",
        }
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = nbformat.from_dict(_scrub(cell.outputs, replace))
    nb.metadata["biomarkers"] = {
        "code_sha256": code_sha256(nb),
        "seconds": round(seconds, 1),
        "load_average": round(
            os.getloadavg()[0], 1
        ),  # runnable processes: a busy machine is slower
        "cpus": os.cpu_count(),
        "built_by": "python notebooks/_build.py",
    }
    nbformat.validate(nb)
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    return seconds


SETUP_NOTE = """
All data here are **simulated** by `bm.datasets.simulate_trial`: a randomised two-arm trial of
umbilical-cord MSCs + standard medical treatment (`ucMSC+SMT`) vs SMT alone in non-viral ACLF,
written in the real input formats, with known planted effects (`trial.truth`). Files go to a
fresh temporary folder, never into this repository. The sizes are kept tiny so that the notebook
runs in well under a minute; with real data use the defaults (more folds, repeats,
permutations and bootstrap replicates).
"""

# --------------------------------------------------------------------------------------------
# 01 quickstart
# --------------------------------------------------------------------------------------------
QUICKSTART = [
    md(
        """
# Quickstart: from trial files to a locked biomarker panel

Question: *which baseline markers predict 90-day transplant-free survival, and how well would a
model built on them predict new patients?*

Steps: simulate a trial → read it into a `Study` → define the outcome → build a subjects ×
features table → `discover` (nested, subject-grouped cross-validation with 95% CIs and a
permutation p-value) → ranking → export a panel.
"""
        + SETUP_NOTE
    ),
    code(
        """
%matplotlib inline
import tempfile
from pathlib import Path

import biomarkers as bm

workdir = Path(tempfile.mkdtemp(prefix="bm-quickstart-"))
trial = bm.datasets.simulate_trial(
    workdir / "trial", n_subjects=60, seed=0, cells_per_sample=10, scenario="strong"
)
trial
"""
    ),
    md(
        """
## 1. Read the study

`Study.from_files` reads every table with the validating readers of `bm.io` and checks that the
IDs join (a subject in `labs.csv` missing from `clinical.csv` is a one-line `SchemaError`). Here
we use the clinical data, labs, the cytokine panel (long CSV) and flow cytometry.
"""
    ),
    code(
        """
study = bm.study.Study.from_files(
    clinical=trial.paths["clinical"],
    labs=trial.paths["labs"],
    samples=trial.paths["samples"],
    cytokines=trial.paths["cytokines_long"],
    flow=trial.paths["flow"],
)
study.summary()
"""
    ),
    md(
        """
## 2. The outcome

`tfs90` = 1 when the patient is alive and transplant-free at day 90. Patients lost to follow-up
before day 90 have an **unknown** label (NaN), not a 0: they are left out of the binary analysis
(a survival analysis would keep them as censored).
"""
    ),
    code(
        """
outcome = bm.clinical.transplant_free_survival(study.clinical, horizon_days=90)
print(outcome.definition)
outcome.table["tfs90"].value_counts(dropna=False)
"""
    ),
    md(
        """
## 3. The feature table, and the time rule

Features are named `modality:entity@visit` (`cytokine:IL6@D0`, `flow:Treg@D0`,
`clinical:meld@D0`). Only **baseline (D0)** features are used here. A feature measured at or
after the day the outcome is assessed would leak the answer: `build_feature_table` refuses it.
Values below a detection limit are stored as `-inf` (not as the limit, not as NaN); what to do
with them is decided later, inside each training fold.
"""
    ),
    code(
        """
table = bm.features.build_feature_table(study, visits=["D0"], outcome=outcome)
try:
    bm.features.build_feature_table(study, visits=["D0", "D90"], outcome=outcome)
except bm.LeakageError as err:
    print("LeakageError:", err)
table.var[["modality", "entity", "visit", "unit", "censored_fraction"]].head(8)
"""
    ),
    md(
        """
## 4. Discovery

`discover` runs, for each model, a repeated subject-grouped outer cross-validation; inside each
training fold it imputes censored and missing values, screens features, tunes hyperparameters
(inner CV) and fits. So the reported performance is for the *whole procedure* on patients it has
never seen. Every metric has a bootstrap 95% CI, and the whole pipeline is rerun on permuted
labels to give a p-value. Tiny settings here (3 folds × 2 repeats, 20 permutations): the
smallest attainable p-value is 1/21.
"""
    ),
    code(
        """
result = bm.models.discover(
    table,
    outcome="tfs90",
    models=("enet",),
    cv=(3, 2),
    n_permutations=20,
    n_bootstraps=100,
    random_state=0,
)
print(f"permutation p-value: {result.permutation['p_value']:.3f}")
result.performance
"""
    ),
    md(
        """
**Read the CI, not only the estimate.** With ~60 patients an AUROC CI is wide; a lower bound near
0.5 means the data are compatible with no useful discrimination.

## 5. Which markers?

`stability` is the fraction of outer-fold fits that used the feature; `stable` marks features
above a noise-calibrated threshold (decoy features estimate how often pure noise gets picked).
`effect`/`q_value` are univariate and descriptive. Compare with the planted prognostic markers.
"""
    ),
    code(
        """
ranking = result.ranking[["feature", "stability", "importance", "effect", "q_value", "stable"]]
print("planted prognostic markers:", trial.truth.prognostic_features)
ranking.head(10)
"""
    ),
    code(
        """
bm.pl.stability(result.ranking, frequency="stability", n_labels=5)
"""
    ),
    md(
        """
## 6. Export a locked panel

`result.panel(k=...)` picks the top markers, refits them with the same nested CV and writes a
versioned, human-readable JSON (no pickle) plus a CSV of the markers and a panel card. Only
*eligible* markers may enter: `bm.panel.marker_eligibility` leaves out analytes censored below
their detection limit (or missing) in more than half of the patients, whose values would mostly
be the substituted limit. The card states the panel's purpose (here prognosis), the outcome in
words and what its threshold flags. Notebook 06 scores new patients with this kind of file.
"""
    ),
    code(
        """
eligibility = bm.panel.marker_eligibility(table, max_censored_share=0.5, max_missing_share=0.5)
print(eligibility.loc[~eligibility["eligible"], ["censored_share", "reason"]])
panel = result.panel(
    k=5, min_stability=0, threshold="youden", purpose="prognosis",
    candidates=eligibility.index[eligibility["eligible"]],
)  # fmt: skip
print(panel.card().split("## Performance")[0])
panel_dir = panel.write(workdir / "panel").parent
print(sorted(p.name for p in panel_dir.iterdir()))
panel.to_frame()
"""
    ),
]

# --------------------------------------------------------------------------------------------
# 02 single-cell features
# --------------------------------------------------------------------------------------------
SINGLECELL = [
    md(
        """
# Single-cell features: QC, pseudobulk, composition

From a cells × genes `.h5ad` of PBMCs to subject-level features: cell QC, per-sample QC,
pseudobulk profiles (sample × cell type) computed from the file on disk in chunks, and cell-type
composition with the centred log-ratio (CLR). Then why anything *learned* from the data
(gene selection, scaling, imputation) must stay inside cross-validation folds.
"""
        + SETUP_NOTE
    ),
    code(
        """
%matplotlib inline
import tempfile
from pathlib import Path

import numpy as np

import biomarkers as bm

workdir = Path(tempfile.mkdtemp(prefix="bm-singlecell-"))
trial = bm.datasets.simulate_trial(
    workdir / "trial", n_subjects=40, seed=0, cells_per_sample=30, scenario="strong"
)
h5ad = trial.paths["singlecell"]
"""
    ),
    md(
        """
## 1. Read the `.h5ad`, in memory or backed

`read_singlecell` checks the layout (raw integer counts, a `sample_id` in `obs`) and says what is
wrong in one line. `backed=True` opens the file read-only on disk: `obs` is in memory, the count
matrix is not; use it when the matrix does not fit in RAM.
"""
    ),
    code(
        """
adata = bm.io.read_singlecell(h5ad)
backed = bm.io.read_singlecell(h5ad, backed=True)
print(adata)
print("backed:", backed.isbacked, "| first obs columns:", list(backed.obs.columns[:5]))
"""
    ),
    md(
        """
## 2. Quality control

`cell_qc` adds genes/UMIs per cell, the mitochondrial percentage and `obs["qc_pass"]`, and returns
the first failed filter per cell. `sample_qc` counts (passing) cells per sample and cell type and
flags samples with too few cells: a composition estimated from 30 cells is noisy, and a
pseudobulk profile from 3 cells even more so.
"""
    ),
    code(
        """
cells = bm.qc.cell_qc(adata, min_genes=100, max_pct_mt=20)
print(f"{cells['pass'].mean():.1%} of {len(cells)} cells pass")
samples = bm.qc.sample_qc(adata, min_cells=20, min_cells_per_type=3)
samples.head()
"""
    ),
    md(
        """
## 3. Pseudobulk from the file, in chunks

`pseudobulk` sums the counts of each sample × cell type. Given a path (or a backed AnnData) it
streams row chunks from the HDF5 file, so memory does not grow with the number of cells. The
result equals `scanpy.get.aggregate` on the in-memory data, checked here.
"""
    ),
    code(
        """
import scanpy as sc

pb = bm.features.pseudobulk(h5ad, chunk_size=500)
ref = sc.get.aggregate(adata, by=["sample_id", "cell_type"], func="sum")
ref_sums = ref.to_df(layer="sum")
ref_sums.index = ref.obs["sample_id"].astype(str) + "_" + ref.obs["cell_type"].astype(str)
ours = pb.to_df()
print(pb)
print("equal to scanpy:", np.allclose(ours, ref_sums.loc[ours.index, ours.columns]))
pb.obs.head()
"""
    ),
    md(
        """
## 4. Composition and the CLR

Cell-type proportions are compositional (they sum to 1: one type going up pushes the others
down). The CLR, `log(p_k) - mean_k log(p_k)` with a pseudocount, is computed **within each
sample** from its own counts, so it learns nothing across patients and can be computed before
cross-validation. `CLRTransformer` is the same as an sklearn step.
"""
    ),
    code(
        """
comp = bm.features.composition(h5ad)
clr = bm.features.CLRTransformer(pseudocount=0.5).fit_transform(comp.X)
print("layers['clr'] == CLRTransformer:", np.allclose(clr, comp.layers["clr"]))
comp.to_df(layer="proportion").head().round(3)
"""
    ),
    md(
        """
## 5. Subject-level features

`build_feature_table` turns these into one row per subject (`composition:Treg@D0`,
`pseudobulk:CD14_mono:IL1B@D0`, ...). It only applies per-subject transforms (CLR within a sample,
log1p-CPM within a profile). The one cross-patient step is the outcome-blind default gene filter
(the 20 most variable genes per cell type); a gene selection fitted per fold, like `"hvg"`, is
refused here: it belongs in the model pipeline.
"""
    ),
    code(
        """
study = bm.study.Study.from_files(
    clinical=trial.paths["clinical"], samples=trial.paths["samples"], singlecell=h5ad
)
blocks = {
    "composition": {"min_cells": 10},
    "pseudobulk": {"cell_types": ["CD14_mono"], "genes": "all", "min_cells": 3},
}
ft = bm.features.build_feature_table(study, visits=["D0"], blocks=blocks)
try:
    bm.features.build_feature_table(study, visits=["D0"], blocks={"pseudobulk": {"genes": "hvg"}})
except bm.ConfigError as err:
    print("ConfigError:", err)
print(ft)
ft.var["modality"].value_counts()
"""
    ),
    md(
        """
## 6. Why learned steps stay inside the folds

A classic trap: choose the 10 genes most associated with the outcome using *all* patients, then
cross-validate a model on them. Below the "outcome" is pure noise, yet selecting before CV gives
an impressive AUROC. Put the same selection in the pipeline (refitted on each training fold) and
the estimate drops to chance, as it should. `bm.models.discover` always works the second way.
"""
    ),
    code(
        """
from sklearn.feature_selection import SelectKBest, VarianceThreshold, f_classif
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

X = ft[:, ft.var["modality"] == "pseudobulk"].X
X = SimpleImputer(strategy="median", keep_empty_features=True).fit_transform(X)
X = X[:, X.std(axis=0) > 0]  # drop genes never seen: label-free, so harmless before CV
noise = np.random.default_rng(0).integers(0, 2, size=X.shape[0])  # unrelated to anything
cv = StratifiedKFold(5, shuffle=True, random_state=0)
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))

leaky = SelectKBest(f_classif, k=10).fit_transform(X, noise)  # looked at every patient
honest = make_pipeline(VarianceThreshold(), SelectKBest(f_classif, k=10), model)  # per fold
print(f"selected outside CV: AUROC {cross_val_score(model, leaky, noise, cv=cv, scoring='roc_auc').mean():.2f}")
print(f"selected inside CV:  AUROC {cross_val_score(honest, X, noise, cv=cv, scoring='roc_auc').mean():.2f}")
"""
    ),
    md(
        """
## 7. A look at the cells

`bm.pl.umap` computes a quick embedding (PCA → neighbours → UMAP on log-normalised counts, on a
subsample for large data) and returns a matplotlib `Figure`. It is for orientation only: nothing
downstream uses it. It is **not run here**: its first call in a session compiles UMAP's numba
code: on the shared 2-core test machine (load average ≈ 20) a first call on 400 cells took
about 50 s, 35 s of it in the neighbour graph, which alone would break this notebook's one-minute
budget. Run it yourself with

```python
bm.pl.umap(adata, color=("cell_type", "visit"), max_cells=1500, random_state=0)
```
"""
    ),
]

# --------------------------------------------------------------------------------------------
# 03 cytokine panels
# --------------------------------------------------------------------------------------------
CYTOKINES = [
    md(
        """
# Cytokine panels: vendor files, censoring, replicates, plates

One plasma cytokine panel, exported five ways (long CSV, Luminex xPONENT, Bio-Plex Manager, MSD
Discovery Workbench, Olink NPX). The readers return the same tidy table whatever the vendor,
keeping the raw string, the parsed number and a censoring flag. What to do with values below the
detection limit is a modelling choice made later, inside each training fold.
"""
        + SETUP_NOTE
    ),
    code(
        """
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import biomarkers as bm

workdir = Path(tempfile.mkdtemp(prefix="bm-cytokines-"))
trial = bm.datasets.simulate_trial(
    workdir / "trial", n_subjects=30, seed=0, cells_per_sample=5, scenario="strong"
)
"""
    ),
    md(
        """
## 1. One reader, five formats

`read_cytokines(path)` recognises the format (`format="auto"`); pass `format=` to force one.
Standards, blanks and controls are kept apart in `tidy.attrs["controls"]`.
"""
    ),
    code(
        """
files = ["cytokines_long", "luminex_xponent", "bioplex_export", "msd_export", "olink_npx"]
tidies = {name: bm.io.read_cytokines(trial.paths[name]) for name in files}
pd.DataFrame(
    {
        name: {
            "assay": t["assay"].iloc[0],
            "rows": len(t),
            "analytes": t["analyte"].nunique(),
            "controls/standards": len(t.attrs.get("controls", [])),
            **t["censor"].value_counts().to_dict(),
        }
        for name, t in tidies.items()
    }
).T
"""
    ),
    md(
        """
## 2. Censoring codes

Instruments write `<0.5`, `OOR <`, `>50000`, `***`, `NaN` or nothing. `censor` is one of `ok`,
`below` (below the detection limit: the value is *small*, not missing), `above`, `extrapolated`
(outside the standard curve but reported, e.g. Bio-Plex `*12.3`) and `missing`. The `raw` column
keeps what the file said. Olink reports NPX below LOD as numbers (Olink practice); the reader
flags them `below` and keeps the number.
"""
    ),
    code(
        """
long = tidies["cytokines_long"]
print(bm.io.CENSOR_CODES)
cols = ["sample_id", "analyte", "raw", "value", "censor", "lod", "plate", "well"]
long.loc[long["censor"] != "ok", cols].drop_duplicates("raw").head(6)
"""
    ),
    md(
        """
## 3. Replicate wells

Samples run in duplicate appear as two rows with different `well`. `average_replicates` averages
them explicitly and records `n_replicates` and the replicate CV (%), a quick precision check (a
CV above ~20% deserves a look). The `Study` does this when it builds the assay.
"""
    ),
    code(
        """
avg = bm.io.average_replicates(long)
print(f"{len(long)} wells -> {len(avg)} sample × analyte values")
avg.groupby("analyte")["replicate_cv"].median().round(1).sort_values(ascending=False).head()
"""
    ),
    md(
        """
## 4. The censored-fraction flags

`cytokine_qc` summarises censoring and plate effects per analyte. Analytes with many censored
values (here IFN-γ and IL-17A, mostly below the LOD as in real ACLF data) are **flagged, never
dropped silently**: decide whether to model them as detected / not detected, or leave them out.
"""
    ),
    code(
        """
qc = bm.qc.cytokine_qc(long, max_censored=0.3)
qc[["n", "n_below", "n_above", "censored_fraction", "flag_censored", "plate_log2_range", "flag_plate"]]
"""
    ),
    md(
        """
## 5. Plate effects and bridge normalisation

Each plate has its own calibration, so the same sample reads a little differently on two
plates. Two remedies:

* `bridge_normalize`: technical bridge samples (the kit controls here) run on every plate give a
  per-plate, per-analyte offset. They are not patients, so this can run before cross-validation.
* `PlateMedianNormalizer`: aligns plate medians of the *patients' samples*. That learns from the
  patients, so fit it on the training samples of each fold (it has `fit`/`transform`).
"""
    ),
    code(
        """
lum = tidies["luminex_xponent"]
controls = lum.attrs["controls"]
bridges = controls[controls["type"] == "control"].drop(columns="type")
with_bridges = pd.concat([lum, bridges], ignore_index=True)
bridge_ids = sorted(bridges["sample_id"].unique())
corrected = bm.features.bridge_normalize(
    with_bridges, bridge_samples=bridge_ids, reference_plate="1"
)
print("bridge samples:", bridge_ids)
corrected.attrs["bridge_offsets"].round(2)  # log2 shift of each plate vs plate 1
"""
    ),
    code(
        """
plates = bm.features.PlateMedianNormalizer(reference_plate="1").fit(lum)
plates.offsets_.round(2)
"""
    ),
    md(
        """
## 6. Censored values in the feature table, and the imputation rules

In the FeatureTable a value known only to be below the limit is `-inf` (above: `+inf`, missing:
NaN). `CensoredValueImputer` is the first step of every model pipeline and fills them per
training fold. Rules for `-inf` (the *limit* is the column's LOD, or the training minimum when
unknown): `lod_sqrt2` (default, LOD/√2), `lod_half`, `lowest_standard` (the limit itself),
`min` and `keep` (training minimum). Cytokines are on `log2(pg/mL + 1)`, so pass `log2_offset`
to divide the LOD on the concentration scale. For heavily censored analytes the rule matters:
compare the results, or use `add_indicator=True` to give the model a "below LOD" column.
"""
    ),
    code(
        """
study = bm.study.Study.from_files(
    clinical=trial.paths["clinical"],
    samples=trial.paths["samples"],
    cytokines=trial.paths["cytokines_long"],
)
ft = bm.features.build_feature_table(study, visits=["D0"], blocks=["cytokines"])
ft.var[["lod", "censored_fraction", "flag_censored"]].round(3)
"""
    ),
    code(
        """
X = ft.X
col = int(np.argmax(np.isneginf(X).sum(axis=0)))  # the most censored analyte
below = np.isneginf(X[:, col])
fills = {}
for rule in ["lod_sqrt2", "lod_half", "lowest_standard", "min", "keep"]:
    imp = bm.features.CensoredValueImputer(
        rule, limits=ft.var["lod"].to_numpy(), log2_offset=ft.var["log2_offset"].to_numpy()
    )
    fills[rule] = imp.fit(X).transform(X)[below, col][0]
print(f"{ft.var_names[col]}: {below.sum()} of {len(below)} subjects below the LOD")
pd.Series(fills, name="value used for '<LOD' (log2 scale)").round(3)
"""
    ),
]

# --------------------------------------------------------------------------------------------
# 04 predictive biomarkers
# --------------------------------------------------------------------------------------------
PREDICTIVE = [
    md(
        """
# Predictive vs prognostic biomarkers

A **prognostic** marker tells who does badly whatever the treatment. A **predictive** marker (an
effect modifier) tells who *benefits from MSCs*: the difference between the arms depends on it.
Only the randomised comparison can show this, through the treatment × marker **interaction**.
"The marker is associated with survival in the treated arm" is not evidence of prediction: a
prognostic marker does that too.

`predictive` fits, per marker, `outcome ~ arm + marker + arm × marker` (Cox here), labels each
marker predictive / prognostic / both / neither at an FDR, estimates individual treatment effects
(CATE) with cross-fitted learners using the *known* randomisation probability, and checks the
ranking with a Qini curve on held-out folds.
"""
        + SETUP_NOTE
    ),
    code(
        """
%matplotlib inline
import tempfile
from pathlib import Path

import pandas as pd

import biomarkers as bm
from biomarkers.models import predictive

workdir = Path(tempfile.mkdtemp(prefix="bm-predictive-"))
trial = bm.datasets.simulate_trial(
    workdir / "trial", n_subjects=120, seed=0, cells_per_sample=5, scenario="strong"
)
study = bm.study.Study.from_files(
    clinical=trial.paths["clinical"],
    labs=trial.paths["labs"],
    samples=trial.paths["samples"],
    cytokines=trial.paths["cytokines_long"],
    flow=trial.paths["flow"],
)
"""
    ),
    md(
        """
Time to death or transplant, censored at day 90, and **baseline (D0)** markers only: a marker
measured after randomisation can itself be changed by the treatment, so an interaction with it is
not a baseline effect modification.
"""
    ),
    code(
        """
outcome = bm.clinical.transplant_free_survival(study.clinical, horizon_days=90, kind="survival")
table = bm.features.build_feature_table(
    study, visits=["D0"], blocks=["clinical", "cytokines", "flow"], outcome=outcome
)
res = predictive(
    table,
    outcome=("event", "time_days"),
    arm="arm",
    treated=study.treated_arm,
    fdr=0.1,
    n_folds=3,
    n_bootstraps=100,
    n_permutations=20,
    random_state=0,
)
res
"""
    ),
    md(
        """
## 1. The interaction table

`beta_control` is the marker's log hazard ratio per SD in the control arm (prognostic),
`interaction` the difference between arms (predictive), each with a Wald 95% CI and BH q-values.
Interactions need about four times the sample size of a main effect: "not predictive" usually
means "not shown".
"""
    ),
    code(
        """
cols = ["marker", "beta_control", "q_value_prognostic", "interaction", "ci_low", "ci_high", "q_value_interaction", "label"]
res.markers[cols].sort_values("q_value_interaction").head(10).round(3)
"""
    ),
    md(
        """
## 2. Compare with the planted truth

The simulator planted prognostic markers (inflammation, immune paralysis), predictive markers
(low baseline Treg and high IL-6 gain more from MSCs) and null markers. With 120 patients the
strong prognostic effects are found; the Treg interaction needs ~300 (see `docs/simulator.md`).
Look at `flow:Treg@D0` in the table above: its interaction may be the largest, with a CI that
excludes 0, and still not pass the FDR across all markers. That is "not shown", not "absent".
IL-6 is planted as both prognostic and predictive; its modest interaction is hard to separate
from its strong prognostic effect (see the non-collapsibility caveat in `docs/predictive.md`).
"""
    ),
    code(
        """
truth = trial.truth
labels = res.markers.set_index("marker")["label"]
rows = []
for feature in sorted(set(truth.prognostic_features + truth.predictive_features + truth.null_features)):
    if feature in labels.index:
        planted = [
            role
            for role, feats in [
                ("prognostic", truth.prognostic_features),
                ("predictive", truth.predictive_features),
            ]
            if feature in feats
        ]
        rows.append(
            {"marker": feature, "planted": " + ".join(planted) or "null", "found": labels[feature]}
        )
pd.DataFrame(rows)
"""
    ),
    md(
        """
The interactions as a forest plot, strongest evidence first. Analytes flagged as mostly below the
detection limit (IFN-γ, IL-17A) are left out: with ~90% of values censored their interaction
estimates are meaningless (CIs of thousands of log-units).
"""
    ),
    code(
        """
mostly_censored = table.var_names[table.var["flag_censored"].eq(True)]
shown = res.markers[~res.markers["marker"].isin(mostly_censored)].sort_values("p_interaction")
bm.pl.forest(shown, label="marker", estimate="interaction", null=0.0, top=12)
"""
    ),
    md(
        """
## 3. Individual treatment effects (CATE)

`res.cate` holds, for every patient, the treatment effect predicted by models that never saw that
patient (T-learner and DR-learner), on the restricted-mean-survival-time scale (days gained up to
day 90). If low Treg means more benefit, the CATE should fall as Treg rises.
"""
    ),
    code(
        """
cate = res.cate.set_index("subject_id")
treg = table[cate.index, "flow:Treg@D0"].to_df()["flow:Treg@D0"]
print(f"Spearman(CATE, baseline Treg) = {cate['cate_dr'].corr(treg, method='spearman'):.2f}")
res.heterogeneity.round(3)
"""
    ),
    md(
        """
## 4. Does the ranking find the patients who gain? Qini curve

Patients are ranked by their out-of-fold CATE; the Qini curve shows the extra benefit captured by
treating the top fraction, against random targeting (the diagonal). The permutation p-value
reruns the whole cross-fitted learner with shuffled arm labels.
"""
    ),
    code(
        """
up = res.uplift
print(f"Qini coefficient {up['qini']:.2f} (95% CI {up['ci'][0]:.2f} to {up['ci'][1]:.2f}), permutation p = {up['p_value']:.3f}")
bm.pl.qini(up["curve"])
"""
    ),
    md(
        """
## 5. Subgroups

The treatment hazard ratio below and above each marker's median. The cut point is learned on the
training folds, so a patient's subgroup never depends on its own value's rank. Subgroup p-values
are not adjusted for multiplicity: hypothesis-generating only.
"""
    ),
    code(
        """
keep = ["(all subjects)", "flow:Treg@D0", "cytokine:IL6@D0", "cytokine:IL10@D0", "cytokine:VEGF@D0"]
sub = res.subgroups[res.subgroups["marker"].isin(keep)]
bm.pl.forest(sub, label=["marker", "subgroup"], estimate="effect", null=1.0, log_scale=True)
"""
    ),
]

# --------------------------------------------------------------------------------------------
# 05 mechanism of action
# --------------------------------------------------------------------------------------------
MECHANISM = [
    md(
        """
# Mechanism of action: what changes on MSC treatment?

The predictive analysis asks *who* benefits; these analyses describe *what changes, in which
cells, and what moves together*: pseudobulk differential expression, cell-type composition
change, cytokine trajectories, pathway activity and cross-modal links. They are descriptive and
hypothesis-generating (the trial is powered for its clinical endpoint): read effect sizes and
CIs, not only q-values.
"""
        + SETUP_NOTE
    ),
    code(
        """
%matplotlib inline
import tempfile
from pathlib import Path

import biomarkers as bm

workdir = Path(tempfile.mkdtemp(prefix="bm-mechanism-"))
trial = bm.datasets.simulate_trial(
    workdir / "trial", n_subjects=24, seed=0, cells_per_sample=60, scenario="strong"
)
study = bm.study.Study.from_files(
    clinical=trial.paths["clinical"],
    labs=trial.paths["labs"],
    samples=trial.paths["samples"],
    cytokines=trial.paths["cytokines_long"],
    flow=trial.paths["flow"],
    singlecell=trial.paths["singlecell"],
    backed=True,
)
mechanism_truth = trial.truth.to_frame().query("role == 'mechanism'")
mechanism_truth.groupby("modality")["entity"].unique()
"""
    ),
    md(
        """
## 1. Pseudobulk differential expression

Cells of one patient are not independent replicates: summing counts per sample × cell type
(pseudobulk) and testing across patients is the honest unit. Here: the paired D7 vs D0 change in
CD14 monocytes of MSC-treated patients (`~ subject + visit`, pydeseq2). One cell type keeps the
notebook fast; drop `cell_type=` to test all.
"""
    ),
    code(
        """
pb = bm.features.pseudobulk(study.singlecell_path, min_cells=5)
de = bm.mechanism.pseudobulk_de(
    pb,
    contrast=("visit", "D7", "D0"),
    arm=study.treated_arm,
    cell_type="CD14_mono",
    design_table=study.clinical,
    min_cells=5,
)
in_cd14 = mechanism_truth["feature"].str.startswith("pseudobulk:CD14_mono:")
planted_genes = set(mechanism_truth.loc[in_cd14, "entity"])  # planted in CD14 monocytes
top = de.table.sort_values("pvalue").head(10)
top.assign(planted=top["gene"].isin(planted_genes))[["cell_type", "gene", "log2fc", "pvalue", "q_value", "planted"]]
"""
    ),
    code(
        """
bm.pl.volcano(de.table, fdr=0.1)
"""
    ),
    md(
        """
## 2. Pathway activity

`enrichment` runs decoupler's univariate linear model on the DE statistics against the bundled
immune modules (or your own `.gmt`). Modules with too few measured genes are skipped and listed.
"""
    ),
    code(
        """
enr = bm.mechanism.enrichment(de)
enr.table.sort_values("score")
"""
    ),
    md(
        """
## 3. Composition change

Per cell type, a mixed model `clr(proportion) ~ arm * visit + (1 | subject)`. The `difference`
term is the treatment effect: the change in the MSC arm minus the change in the control arm. The
planted effect: Treg up, HLA-DR-low monocytes down.
"""
    ),
    code(
        """
comp = bm.mechanism.composition_change(pb, design_table=study.clinical)
diff = comp.table.query("term == 'difference'")
diff.sort_values("pvalue")[["cell_type", "visit", "effect", "ci_low", "ci_high", "q_value"]].head(8).round(3)
"""
    ),
    code(
        """
bm.pl.composition(comp.tables["proportions"], cell_types=["Treg", "CD14_mono_HLADR_low"])
"""
    ),
    md(
        """
## 4. Cytokine trajectories

The same mixed model per cytokine over all visits, after replacing values below the LOD
(`censor_rule`, counted in `traj.tables["censoring"]`) and a log2 transform. `traj.means` are
model-based means per arm × visit with 95% CIs. Planted: IL-6 and TNF-α down, IL-10 and TGF-β1 up;
VEGF is a null control. Note that patients who die drop out: later visits show the survivors.
"""
    ),
    code(
        """
traj = bm.mechanism.trajectories(
    study.assays["cytokines"], features=["IL6", "TNFa", "IL10", "VEGF"], transform="log2"
)
traj.table.query("term == 'difference' and visit == 'D28'")[["feature", "effect", "ci_low", "ci_high", "q_value"]].round(3)
"""
    ),
    code(
        """
bm.pl.trajectories(traj.means, groupby="group", ncols=2)
"""
    ),
    md(
        """
## 5. Cross-modal links

Do the on-treatment changes move together across modalities? `links` correlates every feature
with every feature of the *other* modalities (Spearman, BH across pairs). Correlations across
two dozen patients are weak evidence: look for edges that agree with the results above.
"""
    ),
    code(
        """
ft = bm.features.build_feature_table(
    study, visits=["D0", "D7"], blocks=["cytokines", "flow", "composition", "deltas"]
)
changes = ft[:, ft.var["kind"] == "delta"].copy()
lk = bm.mechanism.links(changes, fdr=0.1)
lk.table.sort_values("q_value").head(10)
"""
    ),
]

# --------------------------------------------------------------------------------------------
# 06 scoring new patients
# --------------------------------------------------------------------------------------------
SCORING = [
    md(
        """
# Scoring new patients with a locked panel

Train on some patients, export a panel, read it back (as a collaborator would, years later,
without our Python objects) and score patients the model has never seen, from Python and from the
command line. Then what the scorer does with values outside the training range and with a missing
marker.
"""
        + SETUP_NOTE
    ),
    code(
        """
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import biomarkers as bm

workdir = Path(tempfile.mkdtemp(prefix="bm-scoring-"))
trial = bm.datasets.simulate_trial(
    workdir / "trial", n_subjects=60, seed=0, cells_per_sample=5, scenario="strong"
)
study = bm.study.Study.from_files(
    clinical=trial.paths["clinical"],
    labs=trial.paths["labs"],
    samples=trial.paths["samples"],
    cytokines=trial.paths["cytokines_long"],
    flow=trial.paths["flow"],
)
outcome = bm.clinical.transplant_free_survival(study.clinical, horizon_days=90)
table = bm.features.build_feature_table(study, visits=["D0"], outcome=outcome)
table = table[table.obs["tfs90"].notna()].copy()
"""
    ),
    md(
        """
## 1. Hold patients out before anything is learned

The held-out patients play the role of a new cohort: they are split off **before** discovery, so
nothing (screening, imputation values, scaling, threshold) has seen them.
"""
    ),
    code(
        """
rng = np.random.default_rng(1)
held_out = rng.choice(table.obs_names.to_numpy(), size=15, replace=False)
train = table[~table.obs_names.isin(held_out)].copy()
new = table[held_out].copy()
print(f"training: {train.n_obs} patients, held out: {new.n_obs}")

result = bm.models.discover(
    train, outcome="tfs90", models=("enet",), cv=(3, 2), n_permutations=20, n_bootstraps=100,
    random_state=0,
)
result.performance.query("metric in ['auroc', 'brier']")
"""
    ),
    md(
        """
## 2. Export and read back

`panel.json` is plain, versioned JSON with a checksum: the markers in order, how each raw value
becomes a model input (censoring fill, imputation, centring, scaling), the coefficients, the
decision threshold (Youden on out-of-fold predictions, with Wilson CIs for sensitivity and
specificity) and the performance with CIs. `read` validates it against the schema and never
executes code.
"""
    ),
    code(
        """
eligible = bm.panel.marker_eligibility(train).query("eligible").index  # not mostly censored
panel = result.panel(k=5, min_stability=0, threshold="youden", candidates=eligible)
panel_json = panel.write(workdir / "panel")
locked = bm.panel.BiomarkerPanel.read(panel_json)
print(locked)
print("markers:", locked.features)
print(f"threshold: probability >= {locked.threshold:.3f}")
"""
    ),
    md(
        """
## 3. Score the held-out patients

One row per patient: `score` (linear predictor), `probability`, `predicted` class at the
threshold, and flags. Here we also know the true outcome of these patients, so we can check the
locked panel on them (15 patients: a very wide CI; a real external validation needs far more).
"""
    ),
    code(
        """
from sklearn.metrics import roc_auc_score

scores = locked.score(new)
print(f"held-out AUROC: {roc_auc_score(new.obs['tfs90'], scores['probability']):.2f}")
scores.join(new.obs["tfs90"]).head()
"""
    ),
    md(
        """
## 4. The same from the command line

`biomarkers score panel.json features.csv --out scores.csv` reads a feature table (CSV with a
`subject_id` column and one column per marker, `-inf` for values below the LOD) and writes the
scores atomically. (Run through `python -m pipelines.cli` here so that it uses this kernel's
environment.)
"""
    ),
    code(
        """
features_csv = workdir / "new_patients.csv"
new.to_df().rename_axis("subject_id").to_csv(features_csv)
cli = [sys.executable, "-m", "pipelines.cli", "score"]
run = subprocess.run(
    [*cli, str(panel_json), str(features_csv), "--out", str(workdir / "scores.csv"), "--quiet"],
    capture_output=True, text=True, check=False,
)
print("exit code", run.returncode, run.stdout.strip())
cli_scores = pd.read_csv(workdir / "scores.csv", dtype={"subject_id": str}).set_index("subject_id")
print("same as in Python:", np.allclose(cli_scores.loc[scores.index, "score"], scores["score"]))
"""
    ),
    md(
        """
## 5. Values outside the training range

A value below the smallest or above the largest seen in training is still scored (a linear model
extrapolates), but the patient is **flagged** and the marker listed: the prediction there rests on
no data. With few training patients, some held-out patients are already outside the range; here we
also push one marker of the first patient to twice its training maximum.
"""
    ),
    code(
        """
marker = locked.features[0]
training_max = locked.to_frame().loc[marker, "training_max"]
odd = new.to_df().copy()  # to_df() may share memory with new.X: copy before editing
odd.iloc[0, odd.columns.get_loc(marker)] = training_max + abs(training_max)  # twice the max
flagged = locked.score(odd)
flagged.loc[flagged["flagged"], ["probability", "out_of_training_range", "imputed", "censored"]]
"""
    ),
    md(
        """
## 6. A missing marker

If a marker of the panel is absent, scoring stops with one line that names it and the fix: the
panel never silently scores a patient on fewer markers than it was built on. The explicit fallback
`allow_missing="impute_training_median"` uses the training median and flags every patient.
"""
    ),
    code(
        """
incomplete = odd.drop(columns=[marker])
try:
    locked.score(incomplete)
except bm.SchemaError as err:
    print("SchemaError:", err)
locked.score(incomplete, allow_missing="impute_training_median")[
    ["probability", "imputed", "n_imputed", "flagged"]
].head()
"""
    ),
    code(
        """
incomplete.rename_axis("subject_id").to_csv(features_csv)
run = subprocess.run(
    [*cli, str(panel_json), str(features_csv), "--out", str(workdir / "scores2.csv"), "--quiet"],
    capture_output=True, text=True, check=False,
)
print("exit code", run.returncode)
print(run.stderr.strip())
"""
    ),
    md(
        """
The command-line error names the command-line flag. Even with the fallback, a table holding
**none** of the panel's markers is refused (every patient would get the same training-median
score), and so is a patient missing more than half of them (`max_imputed_share=0.5`,
`--max-imputed-share` on the command line).

## 7. Another vendor's spelling of the same analytes

The panel was locked on `cytokines_long.csv`, whose analytes are `IL6`, `TNFa`, ...; the Luminex
export of the same samples spells them `IL-6`, `TNF-α`. The scorer matches them through the
shipped synonym table (vendor spellings, Greek letters, HGNC symbols), says so in a warning and
in the `synonyms` column, and gives the same scores.
"""
    ),
    code(
        """
import warnings

vendor_study = bm.study.Study.from_files(
    clinical=trial.paths["clinical"],
    samples=trial.paths["samples"],
    cytokines=trial.paths["luminex_xponent"],
)
vendor = bm.features.build_feature_table(vendor_study, visits=["D0"], blocks=["cytokines"])
long_names = [v for v in table.var_names if v.startswith("cytokine:")]
pd.Series(bm.panel.match_markers(long_names, vendor.var_names), name="Luminex spelling").to_frame()
"""
    ),
    code(
        """
# the held-out patients' other markers, with their cytokines from the Luminex file instead
other = [v for v in new.var_names if not v.startswith("cytokine:")]
mixed = new[:, other].to_df().join(vendor[new.obs_names].to_df())
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    vendor_scores = locked.score(mixed)
for message in {str(w.message) for w in caught if "synonyms" in str(w.message)}:
    print(message)
used = vendor_scores["synonyms"].iloc[0] if "synonyms" in vendor_scores else "none needed"
print("panel markers:", locked.features)
print("synonyms used:", used)
print("same as the long-file scores:", np.allclose(vendor_scores["score"], scores["score"]))
"""
    ),
]

NOTEBOOKS = {
    "01_quickstart": QUICKSTART,
    "02_singlecell_features": SINGLECELL,
    "03_cytokine_panels": CYTOKINES,
    "04_predictive_biomarkers": PREDICTIVE,
    "05_mechanism_of_action": MECHANISM,
    "06_scoring_new_patients": SCORING,
}


def main(names: list[str] | None = None, out_dir: Path = HERE, *, run: bool = False) -> list[Path]:
    """Write the notebooks (those whose name starts with one of ``names``; default all).

    With ``run=True`` each is also executed and stored with its outputs (see :func:`execute`).
    """
    written = []
    for name, cells in NOTEBOOKS.items():
        if names and not any(name.startswith(n) for n in names):
            continue
        path = write(name, cells, out_dir)
        if run:
            seconds = execute(path)
            flag = "" if seconds < BUDGET_SECONDS else f"  OVER the {BUDGET_SECONDS} s budget"
            print(f"{path.name}: {seconds:.1f} s{flag}", flush=True)
        written.append(path)
    return written


def timings_table(directory: Path = HERE) -> str:
    """The Markdown rows of ``benchmarks/README.md`` "Notebooks", from the stored metadata."""
    rows = ["| notebook | seconds | load average | CPUs |", "|---|---|---|---|"]
    for path in sorted(directory.glob("*.ipynb")):
        meta = nbformat.read(path, as_version=4).metadata.get("biomarkers", {})
        rows.append(
            f"| `{path.name}` | {meta.get('seconds', float('nan')):.1f} | "
            f"{meta.get('load_average', '–')} | {meta.get('cpus', '–')} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--table" in args:
        print(timings_table())
        sys.exit(0)
    no_run = "--no-execute" in args
    for path in main([a for a in args if a != "--no-execute"], run=not no_run):
        print(path)
