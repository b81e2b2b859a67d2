"""64-bit arithmetic for the engine, without changing JAX's setting for anyone else.

The ledger counts money in int64 cents (a market-year of a large platform passes
2^31 cents), so the engine needs JAX's 64-bit mode. JAX 0.10.2 offers it two ways: the
process-wide flag (``jax.config.update("jax_enable_x64", True)``, which would change the
dtypes of every other JAX program in the process) and a context manager,
``jax.enable_x64(True)``, that turns it on for the code run inside it only, tracing and
compiling included. The engine uses the context manager: every public entry point of
``twosided.sim`` (``build``, ``init``, ``step``, ``run.init_states``, ``run.run_chunk``,
``run.iterate``) runs under ``x64()``, and importing ``twosided`` leaves the flag as it was.

The arrays the engine returns keep their 64-bit dtypes. JAX code of your own that
computes on them *outside* the engine runs in your process's mode: with the flag off, an
operation on an int64 array gives int32. Wrap such code in ``twosided.sim.x64()`` (or
``jax.enable_x64(True)``), or convert to NumPy first (``jax.device_get``), as the
tables of ``twosided.simulate`` already are.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

import jax

F = TypeVar("F", bound=Callable[..., Any])
ENGINE_X64 = True  # the engine always runs with 64-bit types (recorded in run metadata)


def x64() -> AbstractContextManager[Any]:
    """A context in which JAX runs with 64-bit types (the engine's mode)."""
    return jax.enable_x64(True)


def with_x64(fn: F) -> F:
    """Run ``fn`` (tracing, compiling and executing) under ``x64()``."""

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with x64():
            return fn(*args, **kwargs)

    return wrapped  # type: ignore[return-value]
