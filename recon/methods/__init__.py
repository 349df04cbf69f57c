"""Registry of reconstruction methods. Adding one = a new module here that calls `register`."""

from __future__ import annotations

from dataclasses import fields

from ..errors import MethodError
from .base import Iterate, Method, param

_REGISTRY: dict[str, type[Method]] = {}


def register(cls: type[Method]) -> type[Method]:
    _REGISTRY[cls.name] = cls
    return cls


def get(name: str) -> type[Method]:
    if name not in _REGISTRY:
        raise MethodError(f"unknown method '{name}'; available: {', '.join(names())}.")
    return _REGISTRY[name]


def names() -> list[str]:
    return list(_REGISTRY)


def create(name: str, **params) -> Method:
    """Instantiate a method, rejecting unknown parameters and values outside the declared limits."""
    cls = get(name)
    known = {f.name: f for f in fields(cls)}
    for key, value in params.items():
        if key not in known:
            raise MethodError(f"method '{name}' has no parameter '{key}'; it takes: {', '.join(known) or 'none'}.")
        meta = known[key].metadata
        if "min" in meta and value < meta["min"] or "max" in meta and value > meta["max"]:
            raise MethodError(f"{name}: {key}={value} is outside [{meta.get('min')}, {meta.get('max')}].")
    return cls(**params)


from . import bart, gldm, lps, sense, stdm, zero_filled  # noqa: E402,F401  (modules register themselves)

__all__ = ["Iterate", "Method", "param", "register", "get", "names", "create"]
