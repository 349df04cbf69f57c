"""Cut a complex cine (frames, y, x) into 2-channel planes for the network and put them back (torch).

"yt": one (t, y) plane per x; "xt": one (t, x) plane per y; "xy": one (y, x) plane per frame.
"""

from __future__ import annotations

import torch

DIRECTIONS = ("yt", "xt", "xy")


def to_planes(cine: torch.Tensor, direction: str) -> torch.Tensor:
    if direction == "yt":
        planes = cine.permute(2, 0, 1)
    elif direction == "xt":
        planes = cine.permute(1, 0, 2)
    elif direction == "xy":
        planes = cine
    else:
        raise ValueError(f"direction {direction!r} not in {DIRECTIONS}")
    return torch.stack([planes.real, planes.imag], dim=1).contiguous()


def from_planes(planes: torch.Tensor, direction: str) -> torch.Tensor:
    cine = torch.complex(planes[:, 0], planes[:, 1])
    if direction == "yt":
        return cine.permute(1, 2, 0).contiguous()
    if direction == "xt":
        return cine.permute(1, 0, 2).contiguous()
    return cine
