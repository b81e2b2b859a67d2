"""twosided: a fast, honest simulator of two-sided marketplace platforms."""

from twosided.scenario import Scenario, ScenarioError, load_scenario, preset_names
from twosided.simulation import Result, simulate
from twosided.experiments import sweep

__all__ = ["Result", "Scenario", "ScenarioError", "load_scenario", "preset_names", "simulate", "sweep"]
__version__ = "0.1.0"
