"""Resuming training: the state beside the weights (`OUT.state.pt`), checked in full before any of it is used.

A state that is not what `stdm train` writes (not a table, keys missing, a negative step, tensors of other shapes
than this preset's network, an optimiser for another network, NaN weights) is refused with a CheckpointError and
nothing is written: the weights and the state stay as they were for the user to inspect or move away.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from .checkpoint import CheckpointError, load_state

KEYS = ("model", "ema", "optimiser", "step", "losses", "seconds")


def state_path(out: Path) -> Path:
    return Path(out).with_suffix(".state.pt")


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def weights_problem(name: str, weights, expected: dict) -> str | None:
    if not isinstance(weights, dict):
        return f"'{name}' is a {type(weights).__name__}, not a table of tensors"
    missing, unexpected = sorted(set(expected) - set(weights)), sorted(set(weights) - set(expected))
    if missing or unexpected:
        return (f"'{name}' has {len(missing)} tensors missing and {len(unexpected)} unexpected "
                f"(e.g. {(missing or unexpected)[0]}): it is for another network than this preset's")
    for key, tensor in weights.items():
        if not isinstance(tensor, torch.Tensor) or tuple(tensor.shape) != tuple(expected[key].shape):
            shape = tuple(tensor.shape) if isinstance(tensor, torch.Tensor) else type(tensor).__name__
            return f"'{name}.{key}' is {shape}, this preset's network needs {tuple(expected[key].shape)}"
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            return f"'{name}.{key}' holds NaN or Inf"
    return None


def moments_problem(index: int, entry, shape: torch.Size) -> str | None:
    if not isinstance(entry, dict):
        return f"optimiser state {index} is not a table"
    for key in ("exp_avg", "exp_avg_sq"):
        value = entry.get(key)
        if not isinstance(value, torch.Tensor) or value.shape != shape:
            return f"optimiser '{key}' of parameter {index} does not have the parameter's shape {tuple(shape)}"
        if not torch.isfinite(value).all():
            return f"optimiser '{key}' of parameter {index} holds NaN or Inf"
    step = entry.get("step")
    if not (isinstance(step, torch.Tensor) and step.numel() == 1) and not is_number(step):
        return f"optimiser 'step' of parameter {index} is not a number"
    return None


def optimiser_problem(saved, optimiser: torch.optim.Optimizer) -> str | None:
    params = [p for group in optimiser.param_groups for p in group["params"]]
    if not isinstance(saved, dict) or not isinstance(saved.get("state"), dict) \
            or not isinstance(saved.get("param_groups"), list):
        return "'optimiser' is not an optimiser state (a table with 'state' and 'param_groups')"
    groups = saved["param_groups"]
    if len(groups) != len(optimiser.param_groups) or not all(isinstance(g, dict) for g in groups):
        return "'optimiser' has another number of parameter groups than this network"
    indices = [i for g in groups for i in (g.get("params") or [])]
    if indices != list(range(len(params))):
        return f"'optimiser' covers {len(indices)} parameters, this preset's network has {len(params)}"
    for group in groups:
        betas = group.get("betas")
        if not all(is_number(group.get(k)) and group[k] >= 0 for k in ("lr", "eps", "weight_decay")) or \
                not (isinstance(betas, (tuple, list)) and len(betas) == 2 and all(is_number(b) for b in betas)):
            return "'optimiser' has settings (lr, betas, eps, weight_decay) that are not numbers"
    for index, entry in saved["state"].items():
        if not isinstance(index, int) or not 0 <= index < len(params):
            return f"'optimiser' has state for parameter {index!r:.20}, which this network does not have"
        problem = moments_problem(index, entry, params[index].shape)
        if problem:
            return problem
    return None


def state_problem(state, model: torch.nn.Module, optimiser: torch.optim.Optimizer) -> str | None:
    """Why `state` cannot resume training `model` with `optimiser`, or None."""
    if not isinstance(state, dict):
        return f"it holds a {type(state).__name__}, not a table"
    missing = [k for k in KEYS if k not in state]
    if missing:
        return f"it lacks {', '.join(missing)}"
    if not isinstance(state["step"], int) or isinstance(state["step"], bool) or state["step"] < 0:
        return f"its step {state['step']!r:.40} is not a whole number >= 0"
    if not isinstance(state["losses"], (list, tuple)) or \
            not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in state["losses"]):
        return "its losses are not a list of numbers"
    if not is_number(state["seconds"]) or state["seconds"] < 0:
        return f"its seconds {state['seconds']!r:.40} is not a number >= 0"
    expected = model.state_dict()
    return (weights_problem("model", state["model"], expected) or weights_problem("ema", state["ema"], expected)
            or optimiser_problem(state["optimiser"], optimiser))


def read_resume_state(out: Path, model: torch.nn.Module, optimiser: torch.optim.Optimizer) -> dict | None:
    """The checked training state beside `out`, or None when there is none (a fresh run)."""
    path = state_path(out)
    if not path.exists():
        return None
    state = load_state(path)
    problem = state_problem(state, model, optimiser)
    if problem:
        hint = ", or use the --preset it was trained with" if "preset" in problem else ""
        raise CheckpointError(f"training state {path} cannot resume this run: {problem}. Nothing was changed; move "
                              f"it away (with the weights beside it, which a fresh run replaces) to start afresh{hint}.")
    return state
