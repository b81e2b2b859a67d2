"""Golden digests: the engine's full output for a fixed small run of every preset.

A refactoring of the engine must leave these digests unchanged, bit for bit. A change
that is meant to move outcomes (a bug fix, a new mechanism, a new random generator)
updates the digest in its own commit, saying why. Regenerate with
``python -m tests.test_golden`` and paste the printed table over ``GOLDEN``.

Each run: the preset at 3,000 buyers, 2 seeds, 40 days (revisions, entry, exits, escrow
settlement and disputes all happen), plus the incumbent preset over 370 days at 1,000
buyers so that the annual fee's year turn (charge and refund) is covered too, and a short
run with the session log.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

import twosided

RUNS = {
    "escrow_2004": ("escrow_2004", 40, {"market.buyers": 3000}),
    "monopoly": ("monopoly", 40, {"market.buyers": 3000}),
    "no_escrow": ("no_escrow", 40, {"market.buyers": 3000}),
    "pdd_entry": ("pdd_entry", 40, {"market.buyers": 3000, "platforms.1.entry_day": 10}),
    "taobao": ("taobao", 40, {"market.buyers": 3000}),
    "taobao_year": ("taobao", 370, {"market.buyers": 1000}),
    "taobao_log": ("taobao", 8, {"market.buyers": 500}),
}
TABLES = ("daily", "accounts", "flows", "switches")

GOLDEN: dict[str, dict[str, str]] = {
    "escrow_2004": {
        "daily": "5e21d2046a102642",
        "accounts": "147e1428e8ea45f0",
        "flows": "0f703b4dceb427fa",
        "switches": "c087015ff39d96ef",
    },
    "monopoly": {
        "daily": "5298c019568d91e4",
        "accounts": "abc981dc2e4fb5fa",
        "flows": "71c4e8dbf2e6cc20",
        "switches": "c087015ff39d96ef",
    },
    "no_escrow": {
        "daily": "7e5fb49ed5d975dc",
        "accounts": "8d3c66479999c1f6",
        "flows": "a9819cd7e9ae76b9",
        "switches": "c087015ff39d96ef",
    },
    "pdd_entry": {
        "daily": "ba553ff990dfdaf7",
        "accounts": "580c86de62e628ae",
        "flows": "bb596e00f3a6c7d1",
        "switches": "9123329b74606e02",
    },
    "taobao": {
        "daily": "dba03943ceb27965",
        "accounts": "6b877f795432edbf",
        "flows": "ffce7cb17244f8c4",
        "switches": "d9ad2dcd1b24af83",
    },
    "taobao_log": {
        "daily": "8f05a356239489e1",
        "accounts": "d6ca39ab58abbd87",
        "flows": "7d6ca694c95ce90d",
        "switches": "7e709a7e31701717",
        "sessions": "0dc5501d856d1acd",
    },
    "taobao_year": {
        "daily": "90774ca936f97343",
        "accounts": "212c409607886eab",
        "flows": "09c712e60c09f3e4",
        "switches": "cd29853f4ff61e3b",
    },
}


def table_digest(frame: pd.DataFrame) -> str:
    """SHA-256 of a table's column names, dtypes and raw values, in order."""
    h = hashlib.sha256()
    for name in frame.columns:
        column = frame[name]
        h.update(f"{name}:{column.dtype}".encode())
        values = column.to_numpy()
        if values.dtype == object:
            h.update("\x1f".join(map(str, values)).encode())
        else:
            h.update(np.ascontiguousarray(values).tobytes())
    return h.hexdigest()[:16]


def digests(run: str) -> dict[str, str]:
    preset, days, overrides = RUNS[run]
    log = run.endswith("_log")
    result = twosided.simulate(
        preset, days=days, seeds=[7, 8], overrides=overrides, log_sessions=log
    )
    names = TABLES + ("sessions",) if log else TABLES
    return {name: table_digest(getattr(result, name)) for name in names}


@pytest.mark.slow
@pytest.mark.parametrize("run", sorted(RUNS))
def test_engine_output_matches_its_golden_digest(run: str) -> None:
    assert digests(run) == GOLDEN[run]


if __name__ == "__main__":
    print("GOLDEN: dict[str, dict[str, str]] = {")
    for run in sorted(RUNS):
        print(f"    {run!r}: {digests(run)!r},")
    print("}")
