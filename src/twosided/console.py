"""The ``twosided`` console script (and ``python -m twosided``).

Loading the command line takes a second or two (JAX, the engine, Plotly). This module
imports nothing heavy itself and, while the rest loads, ends the program at once on Ctrl-C,
quietly, with status 130: nothing has been written yet, and a KeyboardInterrupt raised
inside an import can land in a library's callback (JAX's garbage-collection hook) and be
printed as a traceback instead of stopping the program. Once loaded, ``twosided.cli``
handles Ctrl-C itself (status 130, no half-written run folder).
"""

from __future__ import annotations

import os
import signal

INTERRUPT_EXIT = 130  # as twosided.cli: 128 + SIGINT


def _exit_quietly(signum: int, frame: object) -> None:
    os._exit(INTERRUPT_EXIT)


def main() -> None:
    """Load the command line and run it; Ctrl-C while loading exits 130 silently."""
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.default_int_handler:  # not where Ctrl-C is ignored (nohup, &)
        signal.signal(signal.SIGINT, _exit_quietly)
    from twosided.cli import main as run

    signal.signal(signal.SIGINT, previous)
    try:
        run()  # ends in sys.exit with the command's status
    except KeyboardInterrupt:  # between the command's own handling and the exit
        os._exit(INTERRUPT_EXIT)
    finally:
        # the command is done: a Ctrl-C while Python shuts down changes nothing, so it
        # neither interrupts the shutdown nor replaces the command's status
        signal.signal(signal.SIGINT, signal.SIG_IGN)
