"""``python -m twosided``: the ``twosided`` command (for where the console script is not on
the PATH), through the same entry point as the console script (``twosided.console``)."""

from twosided.console import main

main()
