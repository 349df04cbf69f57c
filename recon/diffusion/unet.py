"""A compact U-Net score network in plain torch: 2 channels (real, imag) in and out, conditioned on the noise
level, for planes of any size (padded internally to a multiple of the total down-sampling factor). With
`condition` > 0 it also reads that many channels it does not denoise (GLDM: where in k-space each pixel sits)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class UNetConfig:
    channels: int = 32
    multipliers: tuple[int, ...] = (1, 2, 2)
    blocks: int = 1  # residual blocks per level
    embedding: int = 128
    condition: int = 0  # extra input channels that are read, not denoised

    def to_dict(self) -> dict:
        """As written in a model file's config (`condition` only when there is one, as in earlier files)."""
        config = {**asdict(self), "multipliers": list(self.multipliers)}
        return config if self.condition else {k: v for k, v in config.items() if k != "condition"}


PRESETS = {
    "tiny": UNetConfig(channels=8, multipliers=(1, 2), blocks=1, embedding=32),  # tests
    "small": UNetConfig(channels=24, multipliers=(1, 2, 2), blocks=1, embedding=96),  # CPU default
    "medium": UNetConfig(channels=32, multipliers=(1, 2, 2), blocks=1, embedding=128),  # ~1.8x small's compute
    "base": UNetConfig(channels=64, multipliers=(1, 2, 2), blocks=2, embedding=256),
    "paper": UNetConfig(channels=128, multipliers=(1, 2, 2), blocks=2, embedding=512),  # ~ Wang et al., GPU
}


class NoiseEmbedding(nn.Module):
    """Sinusoidal features of the (log) noise level, then an MLP."""

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, c_noise: torch.Tensor) -> torch.Tensor:
        half = self.dim // 2
        freqs = torch.exp(-math.log(1000.0) * torch.arange(half, device=c_noise.device) / half)
        angles = 100.0 * c_noise[:, None] * freqs[None]
        return self.mlp(torch.cat([angles.sin(), angles.cos()], dim=1))


def norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, channels), channels)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, emb: int):
        super().__init__()
        self.norm1, self.conv1 = norm(cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb, cout)
        self.norm2, self.conv2 = norm(cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(emb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class UNet(nn.Module):
    def __init__(self, config: UNetConfig):
        super().__init__()
        self.config = config
        ch, emb = config.channels, config.embedding
        self.embed = NoiseEmbedding(emb)
        self.conv_in = nn.Conv2d(2 + config.condition, ch, 3, padding=1)
        widths = [ch * m for m in config.multipliers]
        self.down, self.downsample = nn.ModuleList(), nn.ModuleList()
        skips, cur = [ch], ch
        for level, width in enumerate(widths):
            for _ in range(config.blocks):
                self.down.append(ResBlock(cur, width, emb))
                cur = width
                skips.append(cur)
            if level < len(widths) - 1:
                self.downsample.append(nn.Conv2d(cur, cur, 3, stride=2, padding=1))
                skips.append(cur)
        self.mid = nn.ModuleList([ResBlock(cur, cur, emb), ResBlock(cur, cur, emb)])
        self.up, self.upsample = nn.ModuleList(), nn.ModuleList()
        for level, width in reversed(list(enumerate(widths))):
            for _ in range(config.blocks + 1):
                self.up.append(ResBlock(cur + skips.pop(), width, emb))
                cur = width
            if level > 0:
                self.upsample.append(nn.Conv2d(cur, cur, 3, padding=1))
        self.norm_out, self.conv_out = norm(cur), nn.Conv2d(cur, 2, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    @property
    def factor(self) -> int:
        return 2 ** (len(self.config.multipliers) - 1)

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        if self.config.condition:
            if cond is None or cond.shape[1] != self.config.condition:
                raise ValueError(f"this network reads {self.config.condition} condition channels; got "
                                 f"{None if cond is None else cond.shape[1]}")
            x = torch.cat([x, cond.expand(x.shape[0], -1, -1, -1).to(x.dtype)], dim=1)
        height, width = x.shape[-2:]
        pad_h, pad_w = (-height) % self.factor, (-width) % self.factor
        x = F.pad(x, (0, pad_w, 0, pad_h), mode="reflect" if min(height, width) > 1 else "constant")
        emb = self.embed(c_noise.expand(x.shape[0]))
        h = self.conv_in(x)
        hs = [h]
        blocks, levels = iter(self.down), len(self.config.multipliers)
        for level in range(levels):
            for _ in range(self.config.blocks):
                h = next(blocks)(h, emb)
                hs.append(h)
            if level < levels - 1:
                h = self.downsample[level](h)
                hs.append(h)
        for block in self.mid:
            h = block(h, emb)
        blocks, ups = iter(self.up), iter(self.upsample)
        for level in reversed(range(levels)):
            for _ in range(self.config.blocks + 1):
                h = next(blocks)(torch.cat([h, hs.pop()], dim=1), emb)
            if level > 0:
                h = next(ups)(F.interpolate(h, scale_factor=2, mode="nearest"))
        out = self.conv_out(F.silu(self.norm_out(h)))
        return out[..., :height, :width]


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
