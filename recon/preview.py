"""A one-page PNG summary of a reconstruction: a frame, a y-t profile, and the error when a reference exists."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .io.atomic import atomic_path


def save_preview(path: str | Path, image: np.ndarray, reference: np.ndarray | None = None, title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    magnitude = np.abs(image)
    frame, column = magnitude.shape[0] // 3, magnitude.shape[2] // 2
    panels = [("frame %d" % frame, magnitude[frame]), ("y-t at x=%d" % column, magnitude[:, :, column].T)]
    if reference is not None:
        ref = np.abs(reference)
        panels += [("reference", ref[frame]), ("|error| x5", 5 * np.abs(magnitude[frame] - ref[frame]))]
    vmax = np.percentile(magnitude, 99.5)
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.4))
    for ax, (name, panel) in zip(axes, panels):
        ax.imshow(panel, cmap="gray", vmin=0, vmax=vmax, aspect="auto" if name.startswith("y-t") else "equal")
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return Path(path)
