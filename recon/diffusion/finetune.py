"""Scan-specific fine-tuning: continue the prior's denoising score matching on one subject's own planes for a fixed
time, on a copy (the cached, shared model is never changed). A generator, so a caller can stop it between steps."""

from __future__ import annotations

import copy
import time

import numpy as np
import torch

from .planes import PlaneSet
from .sde import VESDE
from .train import ema_decay, ema_update


def finetune(model: torch.nn.Module, sde: VESDE, planes: PlaneSet, seconds: float, lr: float = 2e-4,
             batch: int = 8, seed: int = 0):
    """Yields (steps done, fine-tuned model in eval mode) every step; the last one is the result."""
    trained = copy.deepcopy(model).train()
    ema = copy.deepcopy(model).eval()
    optimiser = torch.optim.Adam(trained.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(seed)
    deadline = time.perf_counter() + seconds
    step = 0
    with torch.inference_mode(False), torch.enable_grad():
        while time.perf_counter() < deadline:
            step += 1
            x0, cond = planes.batch(batch, rng)
            loss = sde.loss(trained, x0, generator, cond=cond if trained.config.condition else None)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trained.parameters(), 1.0)
            optimiser.step()
            ema_update(ema, trained, ema_decay(0.999, step))
            yield step, ema
