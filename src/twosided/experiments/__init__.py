"""Experiments at scale: parameter sweeps over seeds and variants (local processes or Ray),
stored resumably in the results catalog, their reports, and the whom-to-save study."""

from twosided.experiments.grid import SweepError, Variant
from twosided.experiments.sweep import SweepPlan, SweepResult, plan_sweep, run_sweep, sweep

__all__ = ["SweepError", "SweepPlan", "SweepResult", "Variant", "plan_sweep", "run_sweep", "sweep"]
