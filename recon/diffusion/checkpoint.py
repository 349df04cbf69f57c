"""Checkpoints: weights in safetensors with a JSON config in its metadata. Nothing is ever unpickled.

Training state (optimiser, EMA, step) for resuming goes to a .pt next to it, loaded with weights_only=True.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from safetensors import safe_open

from .. import __version__
from ..errors import ReconError
from ..io.atomic import atomic_path
from .sde import VESDE
from .unet import UNet, UNetConfig


class CheckpointError(ReconError):
    """A checkpoint is missing, corrupt, unsafe or does not match the code."""


DEFAULT_MODELS = {"spatiotemporal": "stdm_yt_xt.safetensors", "spatial": "spatial_xy.safetensors",
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
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"model file {path} does not exist; train one with `stdm train` or use the default.")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
    except Exception as exc:  # safetensors raises its own error types for bad headers
        raise CheckpointError(f"{path} is not a safetensors model file ({exc}).") from exc
    if "config" not in metadata:
        raise CheckpointError(f"{path} has no napari-stdm config in its metadata; it was not written by `stdm train`.")
    return json.loads(metadata["config"])


def load_model(path: str | Path) -> tuple[UNet, VESDE, dict]:
    """Build the network from the config, load the weights, and return (model in eval mode, its SDE, config)."""
    config = read_config(path)
    unet = config["unet"]
    model = UNet(UNetConfig(unet["channels"], tuple(unet["multipliers"]), unet["blocks"], unet["embedding"]))
    try:
        model.load_state_dict(load_file(str(path)))
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not match the architecture in its config ({exc}).") from exc
    sde = VESDE(**config["sde"])
    return model.eval(), sde, config


def save_state(path: str | Path, state: dict) -> Path:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return Path(path)


def load_state(path: str | Path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle.UnpicklingError for arbitrary objects
        raise CheckpointError(f"{path} holds more than tensors and numbers (refused: loading it could run "
                              f"arbitrary code): {str(exc).splitlines()[0]}") from exc
