"""An opt-in pytest plugin: which test compiles which engine program, for how long.

Not loaded by default. Load it to see which test modules could share a market shape (each
distinct shape of ``_init_states``/``_run_chunk`` is one XLA compile per test session)::

    python -m pytest -p tests.shape_log tests/sim/test_run.py  # writes shape-log.tsv

(or the file ``$SHAPE_LOG`` names; ``python -m`` puts the checkout on the import path).

Each line: the test's node id, the program, a short hash of its argument shapes, the
seconds XLA took, and whether it came from the persistent compilation cache. Count the
distinct shapes with ``cut -f2,3 shape-log.tsv | sort | uniq -c``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re

import jax

PROGRAMS = ("jit(_init_states)", "jit(_run_chunk)")
_COMPILING = re.compile(r"Compiling (jit\([^)]*\)) with global shapes and types (.*)", re.S)
_FINISHED = re.compile(r"Finished XLA compilation of (jit\([^)]*\)) in ([0-9.]+) sec")


class _ShapeLog(logging.Handler):
    """Writes one line per engine program compiled (or loaded from the cache)."""

    def __init__(self, path: str) -> None:
        super().__init__(logging.DEBUG)
        self.out = open(path, "a", encoding="utf-8")  # noqa: SIM115 - open for the session
        self.pending: dict[str, tuple[str, bool]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        test = os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" ", 1)[0]
        if (m := _COMPILING.match(message)) and m.group(1) in PROGRAMS:
            digest = hashlib.sha1(m.group(2).encode()).hexdigest()[:10]
            self.pending[m.group(1)] = (digest, False)
        elif message.startswith("Persistent compilation cache hit"):
            for name, (digest, _) in self.pending.items():
                if name.replace("(", "_").replace(")", "") in message:
                    self.pending[name] = (digest, True)
        elif (m := _FINISHED.match(message)) and m.group(1) in self.pending:
            digest, hit = self.pending.pop(m.group(1))
            self.out.write(f"{test}\t{m.group(1)}\t{digest}\t{m.group(2)}\t{hit}\n")
            self.out.flush()


def pytest_configure(config: object) -> None:
    """Turn on JAX's compile log and collect the engine's compiles into the log file."""
    jax.config.update("jax_log_compiles", True)
    logging.getLogger("jax").addHandler(_ShapeLog(os.environ.get("SHAPE_LOG", "shape-log.tsv")))
