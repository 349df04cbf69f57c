"""What a model file's config may ask for, checked before any tensor is allocated.

Bounds are what the shipped presets (unet.PRESETS) and SDEs need, times 16: a config outside them was not written
by `stdm train` (or was edited), and building it could allocate terabytes (channels 1e6) or fail deep inside
torch. Each check returns a problem in words, or None; checkpoint.py turns it into a CheckpointError.
"""

from __future__ import annotations

import math
from functools import lru_cache

from .unet import PRESETS, UNetConfig

MARGIN = 16
UNET_LIMITS = {name: (1, MARGIN * max(getattr(p, name) for p in PRESETS.values()))
               for name in ("channels", "blocks", "embedding")}
MULTIPLIER_MAX = MARGIN * max(max(p.multipliers) for p in PRESETS.values())
CONDITION_MAX = 8  # GLDM's position channels need 2
LEVELS_MAX = 6  # down-sampling by 32: more than any cine plane needs (16 x the presets' 3 would mean 2^47)
SHIPPED_SDE = {"sigma_min": (0.01, 0.01), "sigma_max": (4.0, 50.0), "sigma_data": (0.5, 0.5)}
SDE_LIMITS = {name: (low / MARGIN, high * MARGIN) for name, (low, high) in SHIPPED_SDE.items()}


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def whole(name: str, value, low: int, high: int) -> str | None:
    if not is_int(value):
        return f"'{name}' is {value!r:.40}, not a whole number"
    if not low <= value <= high:
        return f"'{name}' is {value}, outside {low}..{high}"
    return None


def unet_problem(unet) -> str | None:
    if not isinstance(unet, dict):
        return f"'unet' is a {type(unet).__name__}, not a table of network sizes"
    missing = [k for k in ("channels", "multipliers", "blocks", "embedding") if k not in unet]
    if missing:
        return f"'unet' lacks {', '.join(missing)}"
    for name, (low, high) in UNET_LIMITS.items():
        problem = whole(f"unet.{name}", unet[name], low, high)
        if problem:
            return problem
    problem = whole("unet.condition", unet.get("condition", 0), 0, CONDITION_MAX)
    if problem:
        return problem
    if unet["embedding"] % 2:
        return f"'unet.embedding' is {unet['embedding']}; it must be even (sine and cosine halves)"
    multipliers = unet["multipliers"]
    if not isinstance(multipliers, list) or not 1 <= len(multipliers) <= LEVELS_MAX:
        return f"'unet.multipliers' is {multipliers!r:.40}; expected a list of 1 to {LEVELS_MAX} whole numbers"
    for m in multipliers:
        problem = whole("unet.multipliers", m, 1, MULTIPLIER_MAX)
        if problem:
            return problem
    return None


def sde_problem(sde) -> str | None:
    if not isinstance(sde, dict):
        return f"'sde' is a {type(sde).__name__}, not a table of noise levels"
    unknown = sorted(set(sde) - set(SDE_LIMITS))
    if unknown or "sigma_min" not in sde or "sigma_max" not in sde:
        return f"'sde' has {sorted(sde)}; expected sigma_min, sigma_max and optionally sigma_data"
    for name, value in sde.items():
        low, high = SDE_LIMITS[name]
        if not is_number(value) or not low <= value <= high:
            return f"'sde.{name}' is {value!r:.40}, not a number in {low:g}..{high:g}"
    if sde["sigma_min"] >= sde["sigma_max"]:
        return f"'sde.sigma_min' {sde['sigma_min']} is not below 'sde.sigma_max' {sde['sigma_max']}"
    return None


def config_problem(config) -> str | None:
    """Why `config` (the JSON object in a model file) cannot be loaded, or None."""
    if not isinstance(config, dict):
        return f"its config is a {type(config).__name__}, not a JSON object"
    missing = [k for k in ("unet", "sde", "plane_kind") if k not in config]
    if missing:
        return f"its config lacks {', '.join(repr(k) for k in missing)}"
    if config.get("architecture", "unet") != "unet":
        return f"its config asks for architecture {config['architecture']!r:.40}; this code builds 'unet'"
    from .kinds import plane_kinds

    if config["plane_kind"] not in plane_kinds():
        return f"its config has plane_kind {config['plane_kind']!r:.40}; expected one of {', '.join(plane_kinds())}"
    return unet_problem(config["unet"]) or sde_problem(config["sde"])


def unet_config(unet: dict) -> UNetConfig:
    return UNetConfig(unet["channels"], tuple(unet["multipliers"]), unet["blocks"], unet["embedding"],
                      unet.get("condition", 0))


@lru_cache(maxsize=1)
def parameter_budget() -> int:
    """MARGIN x the parameters of the largest preset."""
    import torch

    from .unet import UNet, parameter_count

    with torch.device("meta"):
        return MARGIN * max(parameter_count(UNet(p)) for p in PRESETS.values())
