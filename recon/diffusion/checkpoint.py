"""Checkpoints: weights in safetensors with a JSON config in its metadata. Nothing is ever unpickled.

Training state (optimiser, EMA, step) for resuming goes to a .pt next to it, loaded with weights_only=True.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from safetensors import safe_open

from .. import __version__
from ..errors import ReconError
from ..io.atomic import atomic_path
from .schema import config_problem, parameter_budget, unet_config
from .sde import VESDE
from .unet import UNet, parameter_count


class CheckpointError(ReconError):
    """A checkpoint is missing, corrupt, unsafe or does not match the code."""


REMEDY = "Retrain it with `stdm train` or use the shipped default (leave the model option empty)."
FLOAT_DTYPES = ("F16", "BF16", "F32", "F64")
DEFAULT_MODELS = {"spatiotemporal": "stdm_yt_xt.safetensors", "spatiotemporal-noisy": "stdm_yt_xt_noisy.safetensors",
                  "spatial": "spatial_xy.safetensors",
                  "gldm-global": "gldm_global.safetensors", "gldm-local": "gldm_local.safetensors"}


def default_model_path(role: str) -> Path:
    """The shipped weights for `role` ("spatiotemporal" or "spatial"), found in an installed wheel too."""
    from importlib import resources

    path = Path(str(resources.files("sample_data") / DEFAULT_MODELS[role]))
    if not path.is_file():
        target = "make weights-gldm" if role.startswith("gldm") else "make weights"
        raise CheckpointError(f"the default {role} model {path.name} is not installed; run `{target}` or pass "
                              "a model file (--model, --global-model/--local-model).")
    return path


def save_model(path: str | Path, model: UNet, config: dict) -> Path:
    """Write weights + config (plane kind, SDE, preset, training data, code version)."""
    config = {**config, "architecture": "unet", "unet": model.config.to_dict(), "code_version": __version__}
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        save_file(state, str(tmp), metadata={"config": json.dumps(config)})
    return Path(path)


def read_config(path: str | Path) -> dict:
    """The JSON object in a model file's metadata (not yet checked against the schema: see load_model)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"model file {path} does not exist; train one with `stdm train` or use the default.")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
    except Exception as exc:  # safetensors raises its own error types for bad headers
        raise CheckpointError(f"{path} is not a safetensors model file ({one_line(exc)}).") from exc
    if "config" not in metadata:
        raise CheckpointError(f"{path} has no napari-stdm config in its metadata; it was not written by `stdm train`.")
    try:
        config = json.loads(metadata["config"])
    except ValueError as exc:
        raise CheckpointError(f"{path}: the config in its metadata is not JSON ({one_line(exc)}); it was not "
                              f"written by `stdm train`. {REMEDY}") from exc
    if not isinstance(config, dict):
        raise CheckpointError(f"{path}: its config is a JSON {type(config).__name__}, not an object; {REMEDY}")
    return config


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def checked_config(path: Path) -> dict:
    """The model file's config, checked against recon.diffusion.schema before anything is allocated."""
    config = read_config(path)
    problem = config_problem(config)
    if problem:
        raise CheckpointError(f"{path}: {problem}. {REMEDY}")
    with torch.device("meta"):  # shapes only: no memory
        try:
            skeleton = UNet(unet_config(config["unet"]))
        except Exception as exc:  # noqa: BLE001 - torch's own complaint about the sizes, in one line
            raise CheckpointError(f"{path}: its config describes no network this code can build "
                                  f"({one_line(exc)}). {REMEDY}") from exc
    if parameter_count(skeleton) > parameter_budget():
        raise CheckpointError(f"{path}: its config asks for {parameter_count(skeleton):,} parameters, more than "
                              f"{parameter_budget():,} (16 x the largest preset). {REMEDY}")
    check_tensors(path, skeleton.state_dict())
    return config


def check_tensors(path: Path, expected: dict) -> None:
    """The file's tensor names, shapes and dtypes against the network's, from the header (nothing loaded)."""
    with safe_open(str(path), framework="pt") as f:
        found = {k: f.get_slice(k) for k in f.keys()}
    shapes = {k: tuple(v.get_shape()) for k, v in found.items()}
    missing = sorted(set(expected) - set(shapes))
    unexpected = sorted(set(shapes) - set(expected))
    wrong = [k for k in expected if k in shapes and shapes[k] != tuple(expected[k].shape)]
    if missing or unexpected or wrong:
        parts = [f"{len(missing)} tensors missing (e.g. {missing[0]})" if missing else "",
                 f"{len(unexpected)} unexpected (e.g. {unexpected[0]})" if unexpected else "",
                 f"{len(wrong)} of the wrong shape (e.g. {wrong[0]}: {shapes[wrong[0]]} in the file, "
                 f"{tuple(expected[wrong[0]].shape)} expected)" if wrong else ""]
        raise CheckpointError(f"{path}: weights do not match the architecture in its config: "
                              f"{', '.join(p for p in parts if p)}. {REMEDY}")
    odd = [k for k, v in found.items() if v.get_dtype() not in FLOAT_DTYPES]
    if odd:
        raise CheckpointError(f"{path}: {len(odd)} weight tensors are not floating point (e.g. {odd[0]}: "
                              f"{found[odd[0]].get_dtype()}). {REMEDY}")


def load_model(path: str | Path) -> tuple[UNet, VESDE, dict]:
    """Build the network from the config, load the weights, and return (model in eval mode, its SDE, config).

    Config, sizes, tensor names, shapes and dtypes are checked before anything is allocated; weights holding NaN or
    Inf are refused. Every problem is a CheckpointError.
    """
    path = Path(path)
    config = checked_config(path)
    model = UNet(unet_config(config["unet"]))
    try:
        weights = load_file(str(path))
    except Exception as exc:  # noqa: BLE001 - a file truncated after its header
        raise CheckpointError(f"{path}: the weights could not be read ({one_line(exc)}); is the file complete?") \
            from exc
    bad = [k for k, v in weights.items() if not torch.isfinite(v).all()]
    if bad:
        raise CheckpointError(f"{path}: the model file holds NaN or Inf weights ({len(bad)} of {len(weights)} "
                              f"tensors, e.g. {bad[0]}); retrain it or use the default.")
    model.load_state_dict(weights)
    sde = VESDE(**config["sde"])
    return model.eval(), sde, config


@lru_cache(maxsize=4)
def cached_model(path: str) -> tuple[UNet, VESDE, dict]:
    """load_model, kept for the next run (the methods share it; fine-tuning works on copies), channels-last."""
    model, sde, config = load_model(path)
    return model.to(memory_format=torch.channels_last), sde, config  # see samplers.network_denoise


def save_state(path: str | Path, state: dict) -> Path:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return Path(path)


def load_state(path: str | Path) -> object:
    """What `save_state` wrote, loaded without unpickling objects (recon.diffusion.resume checks its content)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise CheckpointError(f"training state {path} cannot be read ({exc.strerror or exc}).") from exc
    if magic != b"PK\x03\x04":  # torch.save writes a zip archive
        raise CheckpointError(f"training state {path} is not a file `stdm train` wrote (empty, truncated or another "
                              "format); nothing was changed. Move it away to start training afresh.")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - pickle.UnpicklingError for objects, RuntimeError for a broken zip
        if "weights only" not in str(exc).lower():
            raise CheckpointError(f"training state {path} cannot be read ({one_line(exc)}); is it complete? Nothing "
                                  "was changed; move it away to start training afresh.") from exc
        raise CheckpointError(f"{path} holds more than tensors and numbers (refused: loading it could run "
                              f"arbitrary code): {one_line(exc)}") from exc
