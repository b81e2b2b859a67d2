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
LOG_TABLES = ("sessions", "choices", "session_outcomes")  # the session log's tables

GOLDEN: dict[str, dict[str, str]] = {
    "escrow_2004": {
        "daily": "d7539e1c020b8051",
        "accounts": "1a6f230bd77b0777",
        "flows": "434ac87533e30fd2",
        "switches": "c087015ff39d96ef",
    },
    "monopoly": {
        "daily": "b48bb32325760af5",
        "accounts": "947b7acbe7df650e",
        "flows": "b637221e60dcddf6",
        "switches": "c087015ff39d96ef",
    },
    "no_escrow": {
        "daily": "db474806caaeb194",
        "accounts": "81b6d4c4817875b4",
        "flows": "e05b4f981c36f927",
        "switches": "c087015ff39d96ef",
    },
    "pdd_entry": {
        "daily": "6c7ce9a1de1dac61",
        "accounts": "3789160f9a46bee2",
        "flows": "5cbdd7008e70ac6d",
        "switches": "43a7e816a03ad295",
    },
    "taobao": {
        "daily": "1c88e86c75d2624c",
        "accounts": "af9443f1adf2761c",
        "flows": "97cce00979135e02",
        "switches": "a5233a9e441284de",
    },
    "taobao_log": {
        "daily": "5125b0cb28c5d109",
        "accounts": "6165a225bb512e67",
        "flows": "a459265571b6ddec",
        "switches": "5880317d89261f19",
        "sessions": "65f9ec1dbac9b601",
        "choices": "38cac36fed8712fc",
        "session_outcomes": "bf01a509d8e8133c",
    },
    "taobao_year": {
        "daily": "b7bd106d288d5639",
        "accounts": "5e2e92f100ec9671",
        "flows": "602af09626f6c06b",
        "switches": "60e0825774d5d415",
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
    names = TABLES + LOG_TABLES if log else TABLES
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
