"""``python -m twosided``: the ``twosided`` command (for where the console script is not on
the PATH). Imports ``twosided.cli`` as a module, so commands that other modules add to its
app (``twosided sweep``, ``twosided experiment``) are there too."""

from twosided.cli import main

main()
