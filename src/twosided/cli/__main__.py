"""``python -m twosided.cli``: the ``twosided`` command (as ``python -m twosided``)."""

from twosided.console import main

main()
