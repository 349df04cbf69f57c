"""Training loop for the plane priors: Adam, linear warm-up, gradient clipping, EMA, periodic checkpoints, resume,
tqdm progress with the loss, a loss-curve PNG. Under `torchrun --nproc_per_node=K` the same code runs data-parallel
(DDP; gloo on CPU, nccl on GPU); rank 0 writes the files.
"""

from __future__ import annotations

import copy
import json
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from tqdm import tqdm

from ..errors import ReconError
from .checkpoint import load_model, save_model, save_state
from .kinds import plane_kind
from .planes import PlaneSet, seeds_in
from .precision import network_arithmetic
from .resume import read_resume_state, state_path
from .sde import VESDE
from .train_checks import check_train_config
from .unet import PRESETS, UNet, UNetConfig, parameter_count


@dataclass
class TrainConfig:
    data: list[str]  # sources `PATH[:WEIGHT]` (recon.diffusion.sources)
    out: str
    planes: str = "both"
    preset: str = "small"
    steps: int = 10000
    batch: int = 32
    crop: int | None = 64
    lr: float = 2e-4
    warmup: int = 500
    grad_clip: float = 1.0
    ema: float = 0.999
    sigma_min: float = 0.01
    sigma_max: float = 50.0
    sigma_focus: float | None = None  # most of each batch trained at sigma <= this (VESDE.loss)
    checkpoint_every: int = 1000
    max_minutes: float | None = None  # stop early (with a checkpoint) when this wall-clock budget is spent
    seed: int = 0
    threads: int | None = None
    variants: int = 16  # augmented cines drawn per slice of a real magnitude source
    skip_slices: tuple[int, ...] = ()  # slices of magnitude sources kept out (a tuning set)
    patient_variation: float = 0.0  # real cines as other patients' (recon.diffusion.patient_variation); 0 = off
    init_from: str | None = None  # start from these weights (same preset) instead of random ones
    precision: str = "float32"  # arithmetic of the forward and backward passes (recon.diffusion.precision); the
                                # weights, the optimiser and the loss stay float32 either way


def world() -> tuple[int, int]:
    """(rank, world size); initialises the process group when launched by torchrun."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return (dist.get_rank() if size > 1 else 0), size


def ema_decay(decay: float, step: int) -> float:
    """The EMA's decay at `step`, warmed up: with a fixed 0.999 a 168-step run kept 85 % of the random
    initialisation in its saved weights."""
    return min(decay, (1 + step) / (10 + step))


def ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    with torch.no_grad():
        for e, p in zip(ema.parameters(), model.parameters()):
            e.lerp_(p.detach(), 1 - decay)


def save_loss_curve(path: Path, losses: list[float], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = np.arange(1, len(losses) + 1)
    window = max(1, len(losses) // 100)
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.semilogy(steps, losses, alpha=0.25, label="loss")
    ax.semilogy(steps[window - 1:], smooth, label=f"mean of {window}")
    ax.set_xlabel("step")
    ax.set_ylabel("denoising score-matching loss")
    ax.set_title(title, fontsize=9)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def model_config(cfg: TrainConfig, data: PlaneSet, world_size: int, seconds: float, steps_done: int) -> dict:
    return {
        "plane_kind": cfg.planes, "preset": cfg.preset,
        "sde": {"sigma_min": cfg.sigma_min, "sigma_max": cfg.sigma_max, "sigma_data": 0.5},
        "normalisation": "cine / 99.5th percentile of |image| (reconstruction: of |zero-filled| of measured data)",
        "training": {**asdict(cfg), "planes_in_pool": len(data), "processes": world_size,
                     "data_files": len(data.sources), "data_seeds": seeds_in(data.sources),
                     "data_sources": [s for s in data.sources if not s.startswith("synthetic phantom")],
                     "steps_done": steps_done, "seconds": round(seconds, 1), "ema_weights": True},
    }


def network_config(cfg: TrainConfig) -> UNetConfig:
    """The preset, reading the channels its plane kind comes with (GLDM's k-space planes: their positions)."""
    return replace(PRESETS[cfg.preset], condition=plane_kind(cfg.planes).condition)


def resume_state(cfg: TrainConfig) -> dict | None:
    """The checked state of an earlier run of `cfg.out`, before any data is read (a bad one is refused at once)."""
    with torch.device("meta"):
        model = UNet(network_config(cfg))
        optimiser = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    return read_resume_state(Path(cfg.out), model, optimiser)


def train(cfg: TrainConfig, progress: bool = True) -> Path:
    """Train (or resume) a plane prior; settings and any saved state are checked before anything runs."""
    check_train_config(cfg)
    state = resume_state(cfg)
    rank, size = world()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = torch.device(f"cuda:{rank % torch.cuda.device_count()}" if torch.cuda.is_available() else "cpu")
    out = Path(cfg.out)
    if isinstance(cfg.data, str):
        cfg.data = [cfg.data]
    data = PlaneSet.from_sources(cfg.data, cfg.planes, cfg.crop, cfg.variants, cfg.seed, tuple(cfg.skip_slices),
                                 cfg.patient_variation)
    torch.manual_seed(cfg.seed)
    model = UNet(network_config(cfg)).to(device)
    ema = copy.deepcopy(model).eval()
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sde = VESDE(cfg.sigma_min, cfg.sigma_max)
    start_step, losses, seconds = 0, [], 0.0
    if cfg.init_from and state is None:
        initial = load_model(cfg.init_from)[0]
        if initial.config != model.config:
            raise ReconError(f"--init-from {cfg.init_from} is a {initial.config} network, not {model.config} "
                             f"(the '{cfg.preset}' preset for {cfg.planes} planes).")
        model.load_state_dict(initial.state_dict())
        ema.load_state_dict(initial.state_dict())
    if state is not None:
        model.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        optimiser.load_state_dict(state["optimiser"])
        start_step, losses, seconds = int(state["step"]), list(state["losses"]), float(state["seconds"])
    wrapped = torch.nn.parallel.DistributedDataParallel(model) if size > 1 else model
    rng = np.random.default_rng([cfg.seed, rank, start_step])
    generator = torch.Generator(device=device).manual_seed(cfg.seed * 1000 + rank + start_step)
    bar = tqdm(total=cfg.steps, initial=start_step, disable=not progress or rank != 0, desc=f"train {cfg.planes}")
    if rank == 0 and start_step == 0:
        bar.write(f"{parameter_count(model):,} parameters, {len(data):,} planes, {size} process(es)")
    elif rank == 0:
        bar.write(f"resuming {out.name} at step {start_step} of {cfg.steps} (its state: {state_path(out).name}; "
                  "delete it to start afresh)" if start_step < cfg.steps else
                  f"{out.name} already trained {start_step} steps (--steps {cfg.steps}); nothing to do")
    tic = time.perf_counter()

    def checkpoint(step: int) -> None:
        elapsed = seconds + time.perf_counter() - tic
        save_model(out, ema, model_config(cfg, data, size, elapsed, step))
        save_state(state_path(out), {"model": model.state_dict(), "ema": ema.state_dict(),
                                     "optimiser": optimiser.state_dict(), "step": step, "losses": losses,
                                     "seconds": elapsed})
        save_loss_curve(out.with_suffix(".loss.png"), losses, f"{out.name}: {cfg.planes}, {cfg.preset}")

    for step in range(start_step + 1, cfg.steps + 1):
        for group in optimiser.param_groups:
            group["lr"] = cfg.lr * min(1.0, step / max(cfg.warmup, 1))
        x0, cond = data.batch(cfg.batch, rng)
        cond = cond.to(device) if cond is not None and model.config.condition else None
        with network_arithmetic(cfg.precision):
            loss = sde.loss(wrapped, x0.to(device), generator, focus=cfg.sigma_focus, cond=cond)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimiser.step()
        ema_update(ema, model, ema_decay(cfg.ema, step))
        losses.append(float(loss.detach()))
        bar.update(1)
        bar.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}")
        out_of_time = cfg.max_minutes is not None and time.perf_counter() - tic > 60 * cfg.max_minutes
        if size > 1:  # every rank must stop at the same step
            flag = torch.tensor([float(out_of_time)], device=device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            out_of_time = bool(flag.item())
        if rank == 0 and (step % cfg.checkpoint_every == 0 or step == cfg.steps or out_of_time):
            checkpoint(step)
        if out_of_time:
            break
    bar.close()
    if size > 1:
        dist.barrier()
        dist.destroy_process_group()
    return out


def training_summary(path: Path) -> str:
    from .checkpoint import read_config

    training = read_config(path)["training"]
    return json.dumps({k: training[k] for k in ("steps_done", "seconds", "planes_in_pool", "processes")})
