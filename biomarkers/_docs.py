"""Parameter descriptions shared across docstrings (written once, see STYLE.md rule 12)."""

from __future__ import annotations

doc_adata = """adata
    Annotated data matrix (cells × genes, or samples × analytes)."""

doc_subject_key = """subject_key
    Column of ``obs`` (or of the table) holding subject (patient) identifiers; every split,
    bootstrap and permutation is done at this level."""

doc_random_state = """random_state
    Seed or :class:`numpy.random.Generator`; results are identical for the same seed whatever
    ``n_jobs`` is."""

doc_n_jobs = """n_jobs
    Number of parallel workers (joblib); ``None`` uses ``biomarkers.settings.n_jobs``."""
