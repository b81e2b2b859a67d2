"""Immutable dataclass pytrees (the gymnax / jumanji style of engine state)."""

from __future__ import annotations

import dataclasses
from typing import TypeVar

import jax

T = TypeVar("T")


def pytree_dataclass(cls: type[T]) -> type[T]:
    """A frozen dataclass registered as a JAX pytree whose fields are all array leaves."""
    frozen = dataclasses.dataclass(frozen=True)(cls)
    fields = [f.name for f in dataclasses.fields(frozen)]
    jax.tree_util.register_dataclass(frozen, data_fields=fields, meta_fields=[])
    return frozen


def replace(obj: T, **changes: object) -> T:
    """A copy of a state dataclass with some fields replaced (states are immutable)."""
    return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
