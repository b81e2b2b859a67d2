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

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# the public names, imported on first use (PEP 562): ``twosided.roles.business`` (the
# business-model files) loads without the run tables, the engine or JAX
_PUBLIC = {
    "Alignment": "twosided.roles.alignment",
    "AlignmentError": "twosided.roles.alignment",
    "alignment": "twosided.roles.alignment",
    "BusinessModel": "twosided.roles.business",
    "BusinessModelError": "twosided.roles.business",
    "BusinessRoles": "twosided.roles.business",
    "derive_roles": "twosided.roles.business",
    "example_names": "twosided.roles.business",
    "load_business_model": "twosided.roles.business",
    "RolesError": "twosided.roles.errors",
    "business_renderable": "twosided.roles.render",
    "report_body": "twosided.roles.render",
    "report_section": "twosided.roles.render",
    "run_renderable": "twosided.roles.render",
    "PlatformRoles": "twosided.roles.run",
    "RunDataError": "twosided.roles.run",
    "RunRoles": "twosided.roles.run",
    "derive_run_roles": "twosided.roles.run",
    "platform_payments": "twosided.roles.run",
    "probe": "twosided.roles.run",
    "cli_roles": "twosided.roles.show",
    "is_business_model": "twosided.roles.show",
    "resolve_run": "twosided.roles.show",
    "show_roles": "twosided.roles.show",
}

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


def __getattr__(name: str) -> Any:
    """Import a public name on first use (then it is an ordinary module attribute)."""
    if name not in _PUBLIC:
        raise AttributeError(f"module 'twosided.roles' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(types.ModuleType):
    """This package: ``alignment`` names both a submodule and its function, and importing
    the submodule would make the package's ``alignment`` the module; it stays the
    function (``from twosided.roles.alignment import ...`` still reaches the module)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _PUBLIC and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
