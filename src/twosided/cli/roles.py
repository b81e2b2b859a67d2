"""``twosided roles FILE|RUN``: who is the customer and who is the user, printed (the
work is done by ``twosided.roles``)."""

from __future__ import annotations

from typing import Annotated

import typer

from twosided.cli.common import DEFAULT_ROOT, RUN_HELP, Out, app, stderr, stdout
from twosided.roles.business import example_names

# --------------------------------------------------------------------------- roles


@app.command("roles")
def roles_command(
    target: Annotated[
        str,
        typer.Argument(
            metavar="FILE|RUN",
            help="A business-model TOML file or a shipped example "
            f"({', '.join(example_names())}), or a run: {RUN_HELP}",
        ),
    ],
    probe: Annotated[
        bool,
        typer.Option(
            "--probe",
            help="For a run: also run its scenario and seeds with half the buyers, "
            "so that the elasticities behind the users are identified.",
        ),
    ] = False,
    out: Out = DEFAULT_ROOT,
) -> None:
    """Who is the customer and who is the user, from a business model's or a run's money."""
    from twosided import roles
    from twosided.store import load_run

    if roles.is_business_model(target):
        roles.show_roles(target, stdout, with_probe=probe)  # --probe here: one-line error
        return
    data = load_run(roles.resolve_run(target, out))
    if probe:
        with stderr.status("running the probe (half the buyers)"):
            roles.show_roles(data, stdout, with_probe=True)
        return
    roles.show_roles(data, stdout)
