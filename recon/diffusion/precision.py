"""The arithmetic the denoising networks run in: bfloat16 where the CPU multiplies it in hardware, float32 elsewhere.

On a Xeon with AMX tiles one y-t pass over the GIRAF cine's planes takes 0.68 s in bfloat16 against 1.4 s in
float32, and dSTDM's PSNR moves by at most 0.02 dB (benchmarks/results/precision.md). Without AMX, bfloat16 is
emulated and slower than float32, so `auto` keeps float32 there. Only the networks change: data consistency, FFTs
and every sum stay in float32 (autocast covers convolutions and matrix products only).
"""

from __future__ import annotations

import torch

PRECISIONS = ("auto", "float32", "bfloat16")


def hardware_bfloat16() -> bool:
    """Whether this CPU has AMX tiles (bfloat16 matrix units); torch's probe, absent in some builds."""
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)
    return bool(probe is not None and probe())


def resolve(precision: str) -> torch.dtype:
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        return torch.bfloat16 if hardware_bfloat16() else torch.float32
    return torch.bfloat16 if precision == "bfloat16" else torch.float32


def network_arithmetic(precision: str):
    """A context in which the networks' convolutions and products run in the resolved precision."""
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=resolve(precision) is torch.bfloat16)
