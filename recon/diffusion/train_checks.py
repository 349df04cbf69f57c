"""A training run's settings, checked before anything runs: finite, of the right kind, in range, sources present.

The SDE's noise levels are held to the bounds a model file may have (recon.diffusion.schema), so every model
`stdm train` writes can be loaded again.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from pathlib import Path

from ..errors import ReconError
from .kinds import plane_kinds
from .precision import PRECISIONS
from .schema import SDE_LIMITS
from .unet import PRESETS

BIG = 10**9
WHOLE = {"steps": (1, BIG), "batch": (1, 4096), "warmup": (0, BIG), "checkpoint_every": (1, BIG),
         "seed": (0, 2**32 - 1), "variants": (1, 10_000)}
OPTIONAL_WHOLE = {"crop": (8, 4096), "threads": (1, 1024)}  # None (or crop 0) = off
POSITIVE = {"lr": 1.0, "grad_clip": 1e6}  # above 0, at most this
SIGMAS = ("sigma_min", "sigma_max")  # within the bounds of a loadable model file


def option(name: str) -> str:
    return f"--{name.replace('_', '-')}"


def is_whole(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def is_real(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def refuse(name: str, value, rule: str):
    raise ReconError(f"training setting {name} = {value!r:.40} is not usable; it must be {rule} ({option(name)}).")


def check_numbers(cfg) -> None:
    for name, (low, high) in WHOLE.items():
        value = getattr(cfg, name)
        if not is_whole(value) or not low <= value <= high:
            refuse(name, value, f"a whole number in {low}..{high}")
    for name, (low, high) in OPTIONAL_WHOLE.items():
        value = getattr(cfg, name)
        if value is not None and not (name == "crop" and value == 0) and \
                (not is_whole(value) or not low <= value <= high):
            refuse(name, value, f"a whole number in {low}..{high}, or 0/none for off" if name == "crop" else
                   f"a whole number in {low}..{high}")
    for name, high in POSITIVE.items():
        value = getattr(cfg, name)
        if not is_real(value) or not 0 < value <= high:
            refuse(name, value, f"a finite number above 0 and at most {high:g}")
    for name in SIGMAS:
        value, (low, high) = getattr(cfg, name), SDE_LIMITS[name]
        if not is_real(value) or not low <= value <= high:
            refuse(name, value, f"a finite number in {low:g}..{high:g}")
    if cfg.sigma_focus is not None and (not is_real(cfg.sigma_focus) or
                                        not cfg.sigma_min < cfg.sigma_focus <= cfg.sigma_max):
        refuse("sigma_focus", cfg.sigma_focus, f"a finite number above sigma_min {cfg.sigma_min:g} and at most "
               f"sigma_max {cfg.sigma_max:g}, or none")
    if not is_real(cfg.ema) or not 0 <= cfg.ema < 1:
        refuse("ema", cfg.ema, "a number in 0..1 (1 excluded)")
    if cfg.sigma_min >= cfg.sigma_max:
        refuse("sigma_max", cfg.sigma_max, f"above sigma_min {cfg.sigma_min:g}")
    if cfg.max_minutes is not None and (not is_real(cfg.max_minutes) or cfg.max_minutes <= 0):
        refuse("max_minutes", cfg.max_minutes, "a finite number of minutes above 0")
    if not is_real(cfg.patient_variation) or not 0 <= cfg.patient_variation <= 0.2:
        refuse("patient_variation", cfg.patient_variation, "a number in 0..0.2 (a share of the field of view; 0 = off)")
    if not all(is_whole(v) and v >= 0 for v in cfg.skip_slices or ()):
        refuse("skip_slices", cfg.skip_slices, "slice numbers >= 0, e.g. 3,7")


def check_paths(cfg) -> None:
    from .sources import Source

    specs = [cfg.data] if isinstance(cfg.data, str) else list(cfg.data or [])
    if not specs or not all(isinstance(s, str) and s for s in specs):
        raise ReconError("no training data given; pass --data DIR (a folder of .h5 cines: `stdm simulate DIR "
                         "--count N`) or a magnitude cine (.npz, .npy or a DICOM folder).")
    for spec in specs:
        path = Source.parse(spec).path
        if not path.exists():
            raise ReconError(f"training source {path} does not exist; pass a folder of .h5 cines (`stdm simulate "
                             "DIR --count N`) or a magnitude cine (.npz, .npy or a DICOM folder) with --data.")
    out = Path(str(cfg.out or ""))
    if not str(cfg.out or "") or out.is_dir():
        raise ReconError(f"--out {cfg.out!r} is {'a folder' if str(cfg.out or '') else 'empty'}; give the model "
                         "file to write, e.g. models/prior.safetensors.")
    if cfg.init_from is not None and not Path(cfg.init_from).is_file():
        raise ReconError(f"--init-from {cfg.init_from} is not a file; give a model file (.safetensors).")


def check_train_config(cfg) -> None:
    """ReconError naming the setting, the rule and the option for anything a run cannot use."""
    if cfg.preset not in PRESETS:
        raise ReconError(f"preset '{cfg.preset}' unknown; choose one of {', '.join(PRESETS)}.")
    if cfg.planes not in plane_kinds():
        raise ReconError(f"planes '{cfg.planes}' unknown; choose one of {', '.join(plane_kinds())}.")
    if cfg.precision not in PRECISIONS:
        raise ReconError(f"precision '{cfg.precision}' unknown; choose one of {', '.join(PRECISIONS)}.")
    check_numbers(cfg)
    check_paths(cfg)
