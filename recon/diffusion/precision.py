"""The arithmetic the denoising networks run in: bfloat16 where the CPU multiplies it in hardware, float32 elsewhere.

On a Xeon with AMX tiles one y-t pass over the GIRAF cine's planes takes 0.68 s in bfloat16 against 1.4 s in
float32, and dSTDM's PSNR moves by at most 0.02 dB (benchmarks/results/precision.md). An AMD EPYC with AVX-512 BF16
but no AMX (2 cores) ran 20 dSTDM steps on the sample in 12.7-13.5 s against 16.1-17.0 s, 32.94 vs 32.95 dB.
Without either, bfloat16 would be emulated in software (not measured here), so `auto` keeps float32 there. Only
the networks change: data consistency, FFTs and every sum stay in float32 (autocast covers convolutions and matrix
products only).
"""

from __future__ import annotations

import torch

PRECISIONS = ("auto", "float32", "bfloat16")


def hardware_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AMX tiles or AVX-512 BF16); torch's probes, absent in some
    builds."""
    probes = [getattr(torch.cpu, name, None) for name in ("_is_amx_tile_supported", "_is_avx512_bf16_supported")]
    return any(probe is not None and probe() for probe in probes)


def resolve(precision: str) -> torch.dtype:
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        return torch.bfloat16 if hardware_bfloat16() else torch.float32
    return torch.bfloat16 if precision == "bfloat16" else torch.float32


def network_arithmetic(precision: str):
    """A context in which the networks' convolutions and products run in the resolved precision."""
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=resolve(precision) is torch.bfloat16)
