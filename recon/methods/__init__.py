"""Registry of reconstruction methods. Adding one = a new module here that calls `register`."""

from __future__ import annotations

import math
from dataclasses import fields

from ..errors import MethodError
from .base import Iterate, Method, announce, param

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


def check(name: str, f, value) -> None:
    """A parameter value against its field: type, finite, limits, declared choices."""
    meta, default = f.metadata, f.default
    if isinstance(default, bool) and not isinstance(value, bool):
        raise MethodError(f"{name}: {f.name} must be true or false, not {value!r}.")
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise MethodError(f"{name}: {f.name} must be a number, not {value!r}.")
        if isinstance(default, int) and not float(value).is_integer():
            raise MethodError(f"{name}: {f.name} must be a whole number, not {value!r}.")
        if not math.isfinite(value):
            raise MethodError(f"{name}: {f.name}={value} is not a finite number.")
        if "min" in meta and value < meta["min"] or "max" in meta and value > meta["max"]:
            raise MethodError(f"{name}: {f.name}={value} is outside [{meta.get('min')}, {meta.get('max')}].")
    if "choices" in meta and value not in meta["choices"]:
        raise MethodError(f"{name}: {f.name} '{value}' unknown; choose one of {', '.join(meta['choices'])}.")


def create(name: str, **params) -> Method:
    """Instantiate a method, rejecting unknown parameters and values of the wrong type, non-finite, outside the
    declared limits or not among the declared choices, before anything runs."""
    cls = get(name)
    known = {f.name: f for f in fields(cls)}
    for key, value in params.items():
        if key not in known:
            raise MethodError(f"method '{name}' has no parameter '{key}'; it takes: {', '.join(known) or 'none'}.")
        check(name, known[key], value)
        if type(known[key].default) is int:
            params[key] = int(value)  # 40.0 from a script is 40 steps
    return cls(**params)


from . import bart, gldm, lps, sense, stdm, zero_filled  # noqa: E402,F401  (modules register themselves)

__all__ = ["Iterate", "Method", "announce", "param", "register", "get", "names", "create"]
