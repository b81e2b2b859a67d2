"""Roles: who is the customer and who is the user, from the money.

A business's customer is whoever pays it; its user is the reason they pay. This package
derives both, never declares them:

* from small business-model files (:mod:`twosided.roles.business`): parties, money flows
  and value flows; shipped examples in ``twosided/examples/``;
* from a run's ledger (:mod:`twosided.roles.run`): who pays each platform, and whose
  activity those payments follow (elasticities over seeds, identified by a probe run);
* and how much of a platform's revenue is not earned at its users' expense
  (:mod:`twosided.roles.alignment`).

See ``docs/roles.md`` for the rules and the definitions.
"""

from twosided.roles.alignment import Alignment, AlignmentError, alignment
from twosided.roles.business import (
    BusinessModel,
    BusinessModelError,
    BusinessRoles,
    derive_roles,
    example_names,
    load_business_model,
)
from twosided.roles.errors import RolesError
from twosided.roles.render import (
    business_renderable,
    report_body,
    report_section,
    run_renderable,
)
from twosided.roles.run import (
    PlatformRoles,
    RunDataError,
    RunRoles,
    derive_run_roles,
    platform_payments,
    probe,
)
from twosided.roles.show import cli_roles, is_business_model, resolve_run, show_roles

__all__ = [
    "Alignment",
    "AlignmentError",
    "BusinessModel",
    "BusinessModelError",
    "BusinessRoles",
    "PlatformRoles",
    "RolesError",
    "RunDataError",
    "RunRoles",
    "alignment",
    "business_renderable",
    "cli_roles",
    "derive_roles",
    "derive_run_roles",
    "example_names",
    "is_business_model",
    "load_business_model",
    "platform_payments",
    "probe",
    "report_body",
    "report_section",
    "resolve_run",
    "run_renderable",
    "show_roles",
]
