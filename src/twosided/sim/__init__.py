"""The pure array engine: no I/O, no printing. See docs/model.md for the model."""

from twosided.sim.params import Dims, Params, build
from twosided.sim.state import State

__all__ = ["Dims", "Params", "State", "build"]
