"""The `stdm` command: simulate, info, methods, recon, train, export. Bad input exits with code 2 and one line, never a traceback."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import warnings
from dataclasses import MISSING, fields, replace

from . import methods
from .arguments import SEED, number
from .cli_data import add_load_options, cmd_info, cmd_simulate, cmd_train, load_options
from .cli_outputs import add_dicom_options, cmd_export, dicom_patient, plan_recon_outputs, write_recon_outputs
from .diffusion.kinds import plane_kinds
from .diffusion.precision import PRECISIONS
from .entry import Terminated, on_sigterm
from .errors import Cancelled, ReconError
from .masks import DEFAULT_ACS, KINDS

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_CANCELLED = 130
EXIT_TERMINATED = 143


def cmd_methods(args) -> int:
    recon_parser = build_parser().recon_parser
    for name in methods.names():
        cls = methods.get(name)
        print(f"{name:12s} {cls.summary}")
        for f in fields(cls):
            option = option_name(recon_parser, f.name)
            print(f"    {option:16s} {f.default!r:>8}  {f.metadata.get('help', '')}")
    return 0


def option_name(parser: argparse.ArgumentParser, field_name: str) -> str:
    """--name, or --method-name when the recon command already uses --name (e.g. --seed is the mask seed)."""
    option = f"--{field_name.replace('_', '-')}"
    return f"--method-{option[2:]}" if option in parser._option_string_actions else option


def add_method_options(parser: argparse.ArgumentParser, method: str) -> None:
    group = parser.add_argument_group(f"parameters of {method}")
    for f in fields(methods.get(method)):
        kind = type(f.default) if f.default is not MISSING else str
        option = option_name(parser, f.name)
        if kind is bool:
            group.add_argument(option, dest=f"param_{f.name}", action=argparse.BooleanOptionalAction, default=None)
        else:
            group.add_argument(option, dest=f"param_{f.name}", type=kind, default=None,
                               choices=f.metadata.get("choices"),
                               help=f"{f.metadata.get('help', '')} (default {f.default})")


def load_input(args):
    from .io import load
    from .samples import real_cine, sample_cine

    if args.input == "sample":
        return sample_cine()
    if args.input == "real-sample":
        return real_cine()
    return load(args.input, load_options(args))


def cmd_recon(args) -> int:
    from tqdm import tqdm

    from . import __version__
    from .pipeline import MaskSpec, default_mask_kind, prepare, reconstruct

    params = {k[len("param_"):]: v for k, v in vars(args).items() if k.startswith("param_") and v is not None}
    method = methods.create(args.method, **params)
    plan, targets = plan_recon_outputs(args, method)
    patient = dicom_patient(args) if args.dicom else None
    data = load_input(args)
    kind = args.mask or default_mask_kind(data)
    warn_unused_acs(args.acs, kind, data)
    spec = MaskSpec(kind, args.accel, DEFAULT_ACS if args.acs is None else args.acs, args.seed, args.accel_eff)
    # the method never sees the reference; `data` is not changed (prepare works on a copy)
    problem, reference, run_info = prepare(data, spec, args.sens, load_options(args))
    mask_info = run_info.mask
    with tqdm(total=None, desc=args.method, unit="it", disable=args.quiet, file=sys.stderr) as bar:
        def progress(it):
            bar.total = it.total
            bar.update(it.step - bar.n)
            residual = it.extras.get("residual")
            if residual is not None:
                bar.set_postfix(residual=f"{residual:.3g}")

        result = reconstruct(problem, method, reference, progress)
    info = {"method": args.method, "parameters": method.parameters(), "mask": mask_info, "sens": args.sens,
            "seconds": result.seconds, "steps": result.steps, "metrics": result.metrics, "input": args.input,
            "load": run_info.as_dict()["load"], "version": __version__}
    r_outside = f" R={mask_info['accel']:.3g} (outside {mask_info['acs']} ACS lines)," if "accel" in mask_info else ","
    if "spokes" in mask_info:
        r_outside = f", {mask_info['spokes']} spokes per frame,"
    iterations = f"{result.steps} iteration{'s' if result.steps != 1 else ''}"
    print(f"{args.method}: {iterations} in {result.seconds:.2f} s; mask {mask_info['kind']}{r_outside} "
          f"effective acceleration {mask_info['effective_accel']:.2f}")
    if result.metrics:
        m = result.metrics
        print(f"  PSNR {m['psnr']:.2f} dB  SSIM {m['ssim']:.4f}  NMSE {m['nmse']:.2e}  (magnitude, vs reference)")
    measured = replace(run_info.measured, reference=reference)  # the output file keeps the reference
    write_recon_outputs(plan, targets, measured, result, info, patient, args.spacing)
    return 0


def warn_unused_acs(acs: int | None, kind: str, data) -> None:
    """--acs given where no ACS block is added (recon.pipeline.adds_acs): radial spokes, or the file's own samples."""
    from .pipeline import adds_acs

    if acs is None or adds_acs(kind, data):
        return
    why = "--mask file keeps the file's own samples as they are" if kind == "file" else \
        "radial spokes all cross the k-space centre, no ACS block is added"
    warnings.warn(f"--acs {acs} is not used: {why}.")


def build_parser(method: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stdm", description="Diffusion-model and classical cine MRI reconstruction.")
    sub = parser.add_subparsers(dest="command", required=True)

    sim = sub.add_parser("simulate", help="write a synthetic multi-coil cardiac cine (native .h5)")
    sim.add_argument("out")
    sim.add_argument("--frames", type=number(int, 2, 512), default=12)
    sim.add_argument("--size", type=number(int, 16, 1024), default=128)
    sim.add_argument("--coils", type=number(int, 1, 64), default=8)
    sim.add_argument("--seed", type=SEED, default=0)
    sim.add_argument("--snr", type=number(float, 0), default=40.0, help="mean body signal / noise std (0 = no noise)")
    sim.add_argument("--breathing", type=number(float, 0, 1), default=0.0, help="breathing shift amplitude (fraction of FOV/2)")
    sim.add_argument("--sample", action="store_true", help="write the bundled sample cine (ignores the above)")
    sim.add_argument("--real-anatomy", action="store_true",
                     help="the shipped real cine with simulated phase, coils and noise")
    sim.add_argument("--heldout", action="store_true", help="a cine of the held-out phantom family (evaluation "
                                                            "only; size, coils and SNR come from --seed)")
    sim.add_argument("--with-sens", action="store_true", help="also store the true coil maps")
    sim.add_argument("--radial", type=number(int, 1, 4096), metavar="SPOKES",
                     help="acquire along SPOKES golden-angle radial spokes per frame (true radial: k-space and its "
                          "trajectory 'traj'; R_eff = pi/2 * matrix / SPOKES)")
    sim.add_argument("--count", type=number(int, 1, 100_000),
                     help="write COUNT subjects into the folder OUT (without it, OUT is one file)")
    sim.add_argument("--vary", action="store_true", help="with --count: vary frames (12-25) and breathing")
    sim.set_defaults(func=cmd_simulate)

    info = sub.add_parser("info", help="describe a k-space file")
    info.add_argument("file")
    add_load_options(info)
    info.set_defaults(func=cmd_info)

    sub.add_parser("methods", help="list methods and their parameters").set_defaults(func=cmd_methods)

    rec = sub.add_parser("recon", help="undersample (or use the file's mask) and reconstruct")
    rec.add_argument("input", help="k-space file, or 'sample' / 'real-sample' for the shipped cines")
    rec.add_argument("--method", default="lps", help=f"one of: {', '.join(methods.names())}")
    rec.add_argument("--mask", choices=[*KINDS, "file"],
                     help="undersampling pattern; default: the file's own samples ('file') when it is already "
                          "undersampled or radial, else vista (retrospective, from fully sampled k-space)")
    rec.add_argument("--accel", type=number(float, 1, 1000), default=8.0, help="acceleration R, counted outside the ACS")
    rec.add_argument("--accel-eff", type=number(float, 1, 1000), help="effective acceleration (all k-t locations / sampled ones), "
                                                     "as scanners quote it; chooses R and overrides --accel")
    rec.add_argument("--acs", type=number(int, 0, 4096),
                     help=f"fully sampled central lines (default {DEFAULT_ACS}; Cartesian retrospective masks only)")
    rec.add_argument("--seed", type=SEED, default=0, help="mask seed")
    rec.add_argument("--sens", default="espirit", choices=["espirit", "file"], help="coil maps source")
    rec.add_argument("--out", help="output .h5 (default: INPUT_METHOD.h5)")
    rec.add_argument("--png", help="also write a preview PNG")
    rec.add_argument("--json", help="also write the run's parameters, timing and metrics as JSON")
    rec.add_argument("--quiet", action="store_true", help="no progress bar")
    rec.add_argument("--recipe", help="take the input, load options, mask, method and parameters from a recipe "
                                      "(JSON saved by the napari widget); options given as well override it")
    add_dicom_options(rec, required=False)
    add_load_options(rec)
    if method is not None:
        add_method_options(rec, method)
    rec.set_defaults(func=cmd_recon)
    tr = sub.add_parser("train", help="train a plane prior (runs data-parallel under torchrun)")
    tr.add_argument("--data", required=True, action="append",
                    help="training source PATH[:WEIGHT], repeatable: a folder of fully sampled .h5 cines, or a "
                         "magnitude cine (.npz/.npy (slices, frames, y, x), or a DICOM folder); weights mix sources")
    tr.add_argument("--variants", type=number(int, 1, 10_000), default=16, help="augmented cines per slice of a magnitude source")
    tr.add_argument("--patient-variation", type=number(float, 0, 0.2), default=0.0,
                    help="make each augmented magnitude cine look like another patient's: smooth warps of its "
                         "anatomy and motion (displacement std, share of the field of view, e.g. 0.03) and a random "
                         "contrast curve; 0 = off")
    tr.add_argument("--skip-slices", type=lambda s: tuple(int(v) for v in s.split(",") if v), default=(),
                    help="slices of magnitude sources to keep out of training (a tuning set), e.g. 3,7")
    tr.add_argument("--planes", default="both", choices=plane_kinds())
    tr.add_argument("--preset", default="small", help="network size: tiny, small, medium, base, paper")
    tr.add_argument("--steps", type=number(int, 1), default=10000)
    tr.add_argument("--batch", type=number(int, 1, 4096), default=32)
    tr.add_argument("--crop", type=number(int, 0, 4096), default=64, help="random crop of the spatial axis (0 = none)")
    tr.add_argument("--lr", type=number(float, above=0, high=1), default=2e-4)
    tr.add_argument("--warmup", type=number(int, 0), default=500)
    tr.add_argument("--sigma-max", type=number(float, above=0, high=800), default=50.0)
    tr.add_argument("--sigma-focus", type=number(float, above=0, high=800),
                    help="train 3/4 of each batch at noise levels up to this one (the samplers that start from an "
                         "estimate use sigma <= 0.1), e.g. to fine-tune a prior with --init-from")
    tr.add_argument("--checkpoint-every", type=number(int, 1), default=1000)
    tr.add_argument("--max-minutes", type=number(float, above=0), help="stop (and save) when this much time has passed")
    tr.add_argument("--seed", type=SEED, default=0)
    tr.add_argument("--threads", type=number(int, 1, 1024), help="torch CPU threads per process")
    tr.add_argument("--init-from", help="start from these weights (.safetensors of the same preset), e.g. to "
                                        "continue a prior on new sources; ignored when resuming")
    tr.add_argument("--precision", choices=PRECISIONS, default="float32",
                    help="arithmetic of the network passes: 'auto' = bfloat16 where the CPU has AMX units "
                         "(weights, optimiser and loss stay float32)")
    tr.add_argument("--out", required=True, help="model file (.safetensors); training state goes beside it")
    tr.add_argument("--quiet", action="store_true")
    tr.set_defaults(func=cmd_train)

    parser.recon_parser = rec  # `stdm methods` shows the option names `stdm recon` really takes
    exp = sub.add_parser("export", help="export a reconstruction (.h5 from `stdm recon`) as a DICOM cine")
    exp.add_argument("result")
    add_dicom_options(exp, required=True)
    exp.set_defaults(func=cmd_export)
    return parser


def chosen_method(argv: list[str]) -> str | None:
    if not argv or argv[0] != "recon":
        return None
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--method", default="lps")
    return pre.parse_known_args(argv[1:])[0].method


def with_recipe(argv: list[str]) -> list[str]:
    """`stdm recon --recipe FILE [options]`: the recipe's input, load options, mask, method and parameters become
    options in front of the ones given, which override them (the input comes from the recipe)."""
    if not argv or argv[0] != "recon":
        return argv
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--recipe")
    known, rest = pre.parse_known_args(argv[1:])
    if not known.recipe:
        return argv
    from .pipeline import adds_acs
    from .recipe import read_recipe

    recipe = read_recipe(known.recipe)
    for line in recipe.weight_warnings():
        warnings.warn(f"recipe {known.recipe}: {line}")
    mask = recipe.mask
    tokens = [recipe.input, "--method", recipe.method, "--mask", mask.kind, "--accel", repr(float(mask.accel)),
              "--seed", str(int(mask.seed)), "--sens", recipe.sens]
    if adds_acs(mask.kind):  # the widget saves its (disabled) ACS control for the other kinds too
        tokens += ["--acs", str(int(mask.acs))]
    if mask.accel_eff is not None:
        tokens += ["--accel-eff", repr(float(mask.accel_eff))]
    for name, value in recipe.load.changed().items():
        option = next(f.metadata["cli"] for f in fields(recipe.load) if f.name == name)
        tokens += [option] if value is True else [option, str(value)]
    parser = build_parser(recipe.method).recon_parser
    for name, value in recipe.parameters.items():
        option = option_name_for_field(parser, name)
        if isinstance(value, bool):
            tokens.append(option if value else f"--no-{option[2:]}")
        else:
            tokens += [option, repr(value) if isinstance(value, float) else str(value)]
    return ["recon", *tokens, *rest]


def option_name_for_field(parser: argparse.ArgumentParser, field_name: str) -> str:
    """The option `stdm recon` takes for a method parameter (its dest is param_NAME)."""
    for action in parser._actions:
        if action.dest == f"param_{field_name}":
            return action.option_strings[0]
    raise ReconError(f"the recipe's parameter {field_name} is not an option of `stdm recon`.")


def one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"stdm: warning: {message}", file=sys.stderr)


def what_was_written() -> str:
    from .io.outputs import WRITTEN

    return f"already written: {', '.join(map(str, WRITTEN))}" if WRITTEN else "nothing was written"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    warnings.showwarning = one_line_warning
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, on_sigterm) if in_main_thread else None
    from .io.outputs import WRITTEN

    WRITTEN.clear()
    try:
        argv = with_recipe(argv)
        method = chosen_method(argv)
        if method is not None:
            methods.get(method)  # unknown method: one clear line before argparse sees its options
        args = build_parser(method).parse_args(argv)
        return args.func(args)
    except Cancelled as exc:
        print(f"stdm: cancelled: {exc}", file=sys.stderr)
        return EXIT_CANCELLED
    except Terminated:
        print(f"stdm: terminated; {what_was_written()}", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print(f"stdm: cancelled; {what_was_written()}", file=sys.stderr)
        return EXIT_CANCELLED
    except (ReconError, FileExistsError) as exc:
        print(f"stdm: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"stdm: error: {describe_os_error(exc)}; {what_was_written()}", file=sys.stderr)
        return EXIT_FAILED
    except MemoryError:
        print(f"stdm: error: out of memory; use a smaller input or fewer frames/coils; {what_was_written()}",
              file=sys.stderr)
        return EXIT_FAILED
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def describe_os_error(exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


if __name__ == "__main__":
    sys.exit(main())
