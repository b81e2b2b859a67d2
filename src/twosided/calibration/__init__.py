"""Calibration to public figures: the simulated method of moments (docs/calibration.md).

``targets`` reads and checks a targets file (moments with their public values and sources,
parameters with bounds, the runs); ``moments`` is the catalogue of figures a run can be
compared on; ``smm`` estimates the parameters (common random numbers, SciPy's bounded least
squares, the Jacobian, standard errors, which moments identify which parameter);
``report`` writes the calibrated scenario, the fit and the page.

    from twosided.calibration import calibrate_file
    cal = calibrate_file("targets/alibaba_fy2021.toml")
    cal.scenario()          # the calibrated scenario
"""

from __future__ import annotations

from pathlib import Path

from twosided.calibration.moments import MOMENTS, Window, catalogue, moment_values
from twosided.calibration.smm import Calibration, Progress, calibrate, simulated_moments
from twosided.calibration.targets import Problem, TargetsSpec, read_targets, resolve

__all__ = [
    "MOMENTS",
    "Calibration",
    "Problem",
    "TargetsSpec",
    "Window",
    "calibrate",
    "calibrate_file",
    "catalogue",
    "moment_values",
    "read_targets",
    "resolve",
    "simulated_moments",
]


def calibrate_file(
    path: str | Path, cache: Path | None = None, progress: Progress | None = None
) -> Calibration:
    """Calibrate from a targets file (``cache``: a file of evaluations to resume from)."""
    spec, _ = read_targets(path)
    return calibrate(resolve(spec, str(path)), cache=cache, progress=progress)
