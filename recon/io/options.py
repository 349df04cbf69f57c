"""LoadOptions: how to read a file whose layout does not say everything (slice, time axis, axis order, variable,
readout crop). One dataclass, rendered by the CLI (an argparse group built from its fields) and by the napari
widget (a small options group); `load(path, options)` takes it.

`slice_count(path, options)` says how many slices a file holds, from headers only, so a front end can offer a
slice chooser before reading any k-space.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import h5py

from ..errors import FileFormatError, ReconError


def option(default, help: str, cli: str, **limits):
    return field(default=default, metadata={"help": help, "cli": cli, **limits})


@dataclass(frozen=True)
class LoadOptions:
    slice: int | None = option(None, "slice to read from a multi-slice file (0-based)", "--slice", min=0,
                               max=100_000)
    frames_axis: int | None = option(None, "which axis holds the frames when the format does not say",
                                     "--frames-axis", min=-8, max=7)
    axes: str | None = option(None, "axis order of the stored k-space, e.g. tcyx (t frames, c coils, s slice)",
                              "--axes")
    key: str | None = option(None, "k-space variable to read (e.g. kspace_sub08, an .npz array name)", "--key")
    crop_oversampling: bool = option(False, "remove 2x readout oversampling", "--crop-oversampling")

    def kwargs(self) -> dict:
        return asdict(self)

    def changed(self) -> dict:
        """The options that differ from the defaults (what a name or a recipe needs to say)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) != f.default}

    @classmethod
    def from_dict(cls, values: dict | None) -> "LoadOptions":
        """From a recipe or layer metadata; unknown keys and values of the wrong kind are refused by name."""
        values = dict(values or {})
        known = {f.name: f for f in fields(cls)}
        unknown = set(values) - set(known)
        if unknown:
            raise ReconError(f"load options {sorted(unknown)} unknown; known: {', '.join(known)}.")
        for name, value in values.items():
            kind = type(known[name].default) if known[name].default is not None else None
            if value is None:
                continue
            if name in ("slice", "frames_axis") and (isinstance(value, bool) or not isinstance(value, int)):
                raise ReconError(f"load option {name} must be a whole number, not {value!r}.")
            if name in ("axes", "key") and not isinstance(value, str):
                raise ReconError(f"load option {name} must be text, not {value!r}.")
            if kind is bool and not isinstance(value, bool):
                raise ReconError(f"load option {name} must be true or false, not {value!r}.")
            meta = known[name].metadata
            if "min" in meta and not meta["min"] <= value <= meta["max"]:
                raise ReconError(f"load option {name}={value} is outside [{meta['min']}, {meta['max']}].")
        return replace(cls(), **values)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "LoadOptions":
        return cls(**{f.name: getattr(args, f.name) for f in fields(cls)})


def add_arguments(parser: argparse.ArgumentParser, title: str = "reading other layouts (docs/FORMATS.md)") -> None:
    """One argparse option per LoadOptions field (dest = the field name), checked as it is parsed."""
    from ..arguments import number

    group = parser.add_argument_group(title)
    for f in fields(LoadOptions):
        meta = f.metadata
        if f.default is False:
            group.add_argument(meta["cli"], dest=f.name, action="store_true", help=meta["help"])
        elif "min" in meta:
            group.add_argument(meta["cli"], dest=f.name, type=number(int, meta["min"], meta["max"]),
                               help=meta["help"])
        else:
            group.add_argument(meta["cli"], dest=f.name, help=meta["help"])


# ---- how many slices a file holds (headers only) ---------------------------------------------------------------
def slice_count(path: str | Path, options: LoadOptions | None = None) -> int:
    """The number of slices `path` holds in the layout `options` describe (1 for single-slice files). Reads
    headers only; a file that cannot be described this way counts as 1 (reading it then says what is wrong)."""
    from . import detect

    options = options or LoadOptions()
    path = Path(path)
    try:
        kind = detect(path)
        if kind == "cmrxrecon":
            return cmrxrecon_slices(path, options.key)
        if kind == "ismrmrd":
            return ismrmrd_slices(path)
        if kind in ("numpy", "fastmri"):
            return lettered_slices(path, kind, options)
    except (ReconError, OSError, ValueError, KeyError, TypeError):
        return 1
    return 1


def cmrxrecon_slices(path: Path, key: str | None) -> int:
    from .cmrxrecon import kspace_key, mat_variables
    from .hdf5_safety import dataset, open_hdf5

    if h5py.is_hdf5(path):
        with open_hdf5(path) as f:
            shape = dataset(f, kspace_key(list(f.keys()), path, key), path).shape
        return shape[1] if len(shape) == 5 else 1  # (time, slice, coil, ky, kx)
    variables = mat_variables(path)
    shape = variables[kspace_key(list(variables), path, key)]
    return shape[3] if len(shape) == 5 else 1  # MATLAB (kx, ky, coil, slice, time)


def ismrmrd_slices(path: Path) -> int:
    """Distinct slice indices of the imaging acquisitions, reading only the acquisition headers."""
    import numpy as np

    from .hdf5_safety import dataset, open_hdf5
    from .ismrmrd_reader import imaging_rows

    with open_hdf5(path) as f:
        table = dataset(f, "dataset/data", path)
        if table is None:
            return 1
        head = table.fields("head")[...]
    return int(np.unique(head["idx"]["slice"][imaging_rows(head)]).size) or 1


def lettered_slices(path: Path, kind: str, options: LoadOptions) -> int:
    """numpy / fastMRI-style arrays: the length of the axis the axis order marks 's'."""
    axes = (options.axes or "").lower()
    if "s" not in axes:
        return 1
    if kind == "numpy":
        from .inspect import numpy_shapes

        shapes = numpy_shapes(path)
        name = options.key or ("kspace" if "kspace" in shapes else next(iter(shapes)))
        shape = shapes[name]
    else:
        from .hdf5_safety import dataset, open_hdf5

        with open_hdf5(path) as f:
            shape = dataset(f, "kspace", path).shape
    if len(shape) != len(axes):
        raise FileFormatError(f"axis order '{axes}' does not describe {shape}")
    return int(shape[axes.index("s")])


def numpy_axes_guess(path: str | Path) -> str | None:
    """A 5-axis complex .npy/.npz without an axis order is taken as (time, slice, coil, ky, kx), the order
    CMRxRecon files show; None for anything else (the default 'tcyx' applies, or reading explains)."""
    from .inspect import numpy_shapes

    try:
        shapes = numpy_shapes(Path(path))
    except (ReconError, OSError, ValueError):
        return None
    shape = shapes.get("kspace", next(iter(shapes.values()), ()))
    return "tscyx" if len(shape) == 5 else None


def opening_options(path: str | Path, given: LoadOptions | None = None) -> tuple[LoadOptions, int]:
    """(options an interactive front end opens `path` with, its slice count): the middle slice of a multi-slice
    file; a 5-axis .npy/.npz is read as (time, slice, coil, ky, kx) unless an axis order is given. The CLI asks
    for these explicitly instead (--slice, --axes)."""
    options = given or LoadOptions()
    if options.axes is None and Path(path).suffix.lower() in (".npy", ".npz"):
        guess = numpy_axes_guess(path)
        if guess:
            options = replace(options, axes=guess)
    count = slice_count(path, options)
    if count > 1 and options.slice is None:
        options = replace(options, slice=count // 2)
    return options, count
