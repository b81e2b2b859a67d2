"""Experiments at scale: parameter sweeps over seeds and variants (local processes or Ray),
stored resumably in the results catalog, their reports, and the whom-to-save study."""

# ``sweep`` is the function (twosided.sweep), which shadows the module of the same name
from twosided.experiments.api import sweep
from twosided.experiments.grid import SweepError, Variant
from twosided.experiments.sweep import SweepPlan, SweepResult, plan_sweep, run_sweep

__all__ = ["SweepError", "SweepPlan", "SweepResult", "Variant", "plan_sweep", "run_sweep", "sweep"]
