"""Batch jobs of the biomarkers toolkit: validated YAML config → library calls → run folder.

Jobs are plain functions (``run_discover(cfg, run)``); :mod:`pipelines.cli` only parses arguments.
"""

__all__ = ["cli", "config", "run"]
