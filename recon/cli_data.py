"""`stdm simulate`, `stdm info` and `stdm train`: the commands that make, describe and learn from data."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def cmd_simulate(args) -> int:
    from .io import write_native
    from .io.outputs import OutputError, OutputPlan
    from .phantom import simulate_cine
    from .samples import real_cine, sample_cine

    if args.vary and args.count is None:
        raise OutputError("--vary varies the subjects of a folder; add --count N (OUT is then a folder).")
    if args.count is not None:
        if Path(args.out).exists() and not Path(args.out).is_dir():
            raise OutputError(f"{args.out} is a file; with --count, OUT is the folder the cines go into.")
        return simulate_folder(args)
    OutputPlan().file(args.out, "OUT")
    if args.sample:
        data = sample_cine()
    elif args.heldout:
        from .heldout_phantom import simulate_heldout

        data = simulate_heldout(args.seed)
    elif args.real_anatomy:
        data = real_cine(coils=args.coils, snr=args.snr, seed=args.seed)
    else:
        data = simulate_cine(args.frames, args.size, args.coils, args.seed, args.snr, args.breathing)
    if not args.with_sens:
        data.sens = None
    axes = "(frames, coils, ky, kx)"
    if args.radial:
        from .radial import acquire_radial, nyquist_spokes

        data, axes = acquire_radial(data, args.radial), "(frames, coils, spokes, readout), golden-angle radial, R_eff " \
            f"{nyquist_spokes(data.image_shape) / args.radial:.2f}"
    write_native(args.out, data)
    print(f"wrote {args.out}: k-space {data.shape} {axes}, reference included. {data.meta.source}")
    return 0


def simulate_folder(args) -> int:
    """Write `count` subjects, seeds seed .. seed+count-1; with --vary, frames (12-25) and breathing vary too."""
    import numpy as np

    from .io import write_native
    from .phantom import simulate_cine

    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    for seed in range(args.seed, args.seed + args.count):
        frames, breathing = args.frames, args.breathing
        if args.vary:
            frames, breathing = int(np.random.default_rng([seed, 1]).integers(12, 26)), None
        data = simulate_cine(frames, args.size, args.coils, seed, args.snr, breathing)
        data.sens = None
        if args.radial:
            from .radial import acquire_radial

            data = acquire_radial(data, args.radial)
        write_native(folder / f"phantom_{seed}.h5", data)
    print(f"wrote {args.count} cines to {folder} (seeds {args.seed}-{args.seed + args.count - 1})")
    return 0


def cmd_train(args) -> int:
    from .diffusion.sources import Source
    from .diffusion.train import TrainConfig, train, training_summary
    from .io.outputs import OutputPlan

    OutputPlan.for_inputs([*(Source.parse(spec).path for spec in args.data), args.init_from]).file(args.out, "--out")
    cfg = TrainConfig(data=args.data, out=args.out, planes=args.planes, preset=args.preset, steps=args.steps,
                      batch=args.batch, crop=args.crop or None, lr=args.lr, warmup=args.warmup,
                      checkpoint_every=args.checkpoint_every, seed=args.seed, threads=args.threads,
                      sigma_max=args.sigma_max, sigma_focus=args.sigma_focus, max_minutes=args.max_minutes,
                      variants=args.variants, skip_slices=args.skip_slices, init_from=args.init_from,
                      precision=args.precision, patient_variation=args.patient_variation)
    before = Path(args.out).stat().st_mtime_ns if Path(args.out).is_file() else None
    out = train(cfg, progress=not args.quiet)
    if int(os.environ.get("RANK", "0")) == 0:
        done = "unchanged" if before is not None and out.stat().st_mtime_ns == before else "wrote"
        print(f"{done} {out} {training_summary(out)}")
    return 0


def describe(data) -> list[str]:
    from .radial import RadialCine, nyquist_spokes

    meta = data.meta
    radial = isinstance(data, RadialCine)
    axes = "(frames, coils, spokes, readout)" if radial else "(frames, coils, ky, kx)"
    lines = [f"k-space      {data.shape} {axes} {data.kspace.dtype}",
             f"frames       {data.frames}", f"coils        {data.coils}",
             f"matrix       {data.image_shape[0]} x {data.image_shape[1]} ({'y x x' if radial else 'ky x kx'})"]
    if radial:
        lines.append(f"sampling     radial trajectory in file, {data.spokes} spokes per frame: effective acceleration "
                     f"{nyquist_spokes(data.image_shape) / data.spokes:.2f} (Nyquist {nyquist_spokes(data.image_shape)} "
                     "spokes)")
    elif data.mask is not None:
        lines.append(f"sampling     mask in file, effective acceleration {data.mask.size / data.mask.sum():.2f}")
    else:
        lines.append("sampling     no mask in file (fully sampled, or zeros mark missing samples)")
    lines.append(f"reference    {'yes' if data.reference is not None else 'no'}")
    lines.append(f"coil maps    {'yes' if data.sens is not None else 'no (ESPIRiT will estimate them)'}")
    geometry = f"pixel spacing {meta.pixel_spacing} mm" if meta.pixel_spacing else "not in file"
    lines.append(f"geometry     {geometry}")
    lines.append(f"timing       RR {meta.rr_interval} ms" if meta.rr_interval else "timing       not in file")
    lines.append(f"source       {meta.source}")
    return lines


def load_options(args):
    """The LoadOptions the command line gave (recon.io.options)."""
    from .io.options import LoadOptions

    return LoadOptions.from_args(args)


def add_load_options(parser: argparse.ArgumentParser) -> None:
    from .io.options import add_arguments

    add_arguments(parser)  # one option per LoadOptions field: --slice, --frames-axis, --axes, --key, ...


def cmd_info(args) -> int:
    from .errors import FileFormatError
    from .io import detect, load
    from .io.inspect import describe_file

    path = Path(args.file)
    if not path.exists():
        raise FileFormatError(f"{path} does not exist; check the path.")
    print("\n".join(describe_file(path, detect(path))))
    try:
        data = load(path, load_options(args))
    except FileFormatError as exc:  # e.g. a slice or the time axis must be chosen: say how, not fail
        print(f"not read as a cine yet: {exc}")
        return 0
    print("\n".join(describe(data)))
    return 0
