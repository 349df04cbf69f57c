"""What `stdm recon` and `stdm export` write: every output planned before anything runs, then staged and committed
together (the .h5 result, PNG, JSON, the DICOM cine and its map series)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .arguments import number


def plan_recon_outputs(args, method) -> tuple:
    """Check every output of `stdm recon` before anything runs: none may be an input (the k-space file, a model
    file) or another output, a folder where a file belongs, or a DICOM folder holding anything but our series."""
    from .io.dicom import foreign_content
    from .io.outputs import OutputPlan

    named_files = [v for v in method.parameters().values() if isinstance(v, str)]
    plan = OutputPlan.for_inputs([args.input, *named_files])
    targets = {"out": plan.file(args.out or f"{Path(args.input).stem}_{args.method}.h5", "--out")}
    for what in ("png", "json"):
        if getattr(args, what):
            targets[what] = plan.file(getattr(args, what), f"--{what}")
    if args.dicom:
        targets["dicom"] = plan.folder(args.dicom, "--dicom", args.overwrite, foreign_content)
    map_names = getattr(method, "map_names", lambda: ())()
    targets.update(plan_map_folders(plan, args, map_names, f"{args.method} gives no maps (the diffusion methods do)"))
    return plan, targets


def plan_map_folders(plan, args, names, why_none: str) -> dict:
    """--dicom-maps: one sibling folder per map, DIR_prior_map and DIR_uncertainty, each its own series."""
    from .io.dicom import foreign_content, map_folder
    from .io.outputs import OutputError

    if not getattr(args, "dicom_maps", False):
        return {}
    if not args.dicom:
        raise OutputError("--dicom-maps needs --dicom DIR: the maps are written beside the cine series.")
    if not names:
        raise OutputError(f"--dicom-maps: {why_none}; leave --dicom-maps out.")
    return {f"dicom:{name}": plan.folder(map_folder(args.dicom, name), "--dicom-maps", args.overwrite, foreign_content)
            for name in names}


def write_dicom_maps(plan, targets: dict, cine_files: list, meta, image, maps: dict, info: dict,
                     spacing: float | None) -> dict:
    """Each planned map as its own series in the cine's study; returns {target: files}."""
    from .io.dicom import map_per_unit, write_map_series

    written = {}
    for key, target in targets.items():
        name = key.partition(":")[2]
        if not key.startswith("dicom:") or name not in maps:
            continue
        mask = info["mask"]
        written[target] = write_map_series(
            maps[name], meta, plan.path(target), cine_files[0], kind=name, per_unit=map_per_unit(name, image),
            method=info["method"], acceleration=f"{mask['kind']} R={mask.get('accel', mask['effective_accel']):g}",
            spacing=(spacing, spacing) if spacing else None)
    return written


def write_recon_outputs(plan, targets: dict, measured, result, info: dict, patient, spacing: float) -> None:
    """Stage every output, then commit them together: all are written, or none."""
    from .io import write_result
    from .preview import save_preview

    with plan.staged():
        write_result(plan.path(targets["out"]), measured, result.image, info, result.extras.get("uncertainty"),
                     result.extras.get("prior_map"), result.history)
        if "png" in targets:
            title = f"{info['method']}, {info['mask']['kind']} R_eff={info['mask']['effective_accel']:.1f}"
            if result.metrics:
                title += f", PSNR {result.metrics['psnr']:.2f} dB"
            save_preview(plan.path(targets["png"]), result.image, measured.reference, title)
        if "json" in targets:
            plan.path(targets["json"]).write_text(json.dumps(info, indent=2, default=float))
        if "dicom" in targets:
            files = write_dicom(plan.path(targets["dicom"]), measured.meta, result.image, info, patient,
                                spacing)
            map_files = write_dicom_maps(plan, targets, files, measured.meta, result.image, result.extras, info,
                                         spacing)
    for what, target in targets.items():
        count = f" ({len(files)} DICOM files)" if what == "dicom" else ""
        if what.startswith("dicom:"):
            count = f" ({len(map_files.get(target, []))} DICOM files, {what[6:]} series)"
        print(f"  wrote {target}{count}")


def dicom_patient(args):
    from .io.dicom import Patient

    return Patient(name=args.patient_name, id=args.patient_id)


def write_dicom(folder: Path, meta, image, info: dict, patient, spacing: float | None) -> list[Path]:
    """The DICOM series of a result into `folder` (a staging folder: the caller commits it)."""
    from .io.dicom import write_series

    mask = info["mask"]
    acceleration = f"{mask['kind']} R={mask.get('accel', mask['effective_accel']):g}"
    return write_series(image, meta, folder, method=info["method"], parameters=info["parameters"],
                        acceleration=acceleration, patient=patient,
                        spacing=(spacing, spacing) if spacing else None)


def cmd_export(args) -> int:
    from .io import read_result
    from .io.dicom import foreign_content
    from .io.native import read_result_maps
    from .io.outputs import OutputPlan

    plan = OutputPlan.for_inputs([args.result])
    target = plan.folder(args.dicom, "--dicom", args.overwrite, foreign_content)
    patient = dicom_patient(args)
    data, image, info = read_result(args.result)
    maps = read_result_maps(args.result) if args.dicom_maps else {}
    map_targets = plan_map_folders(plan, args, tuple(maps), f"{args.result} holds no maps")
    info.setdefault("method", "recon")
    info.setdefault("parameters", {})
    info.setdefault("mask", {"kind": "unknown", "effective_accel": float("nan")})
    with plan.staged():
        files = write_dicom(plan.path(target), data.meta, image, info, patient, args.spacing)
        map_files = write_dicom_maps(plan, map_targets, files, data.meta, image, maps, info, args.spacing)
    print(f"  wrote {len(files)} DICOM files to {target}")
    for where, written in map_files.items():
        print(f"  wrote {len(written)} DICOM files to {where}")
    return 0


def add_dicom_options(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--dicom", required=required, help="write the result as a DICOM cine series in this folder")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing DICOM folder")
    parser.add_argument("--dicom-maps", action="store_true",
                        help="also write the result's maps as their own DERIVED series in the same study, beside "
                             "DIR: DIR_prior_map (prior contribution) and, with --samples > 1, DIR_uncertainty "
                             "(research use)")
    parser.add_argument("--patient-name", default="Anonymous^Research", help="DICOM PatientName (default anonymous)")
    parser.add_argument("--patient-id", default="STDM-ANON", help="DICOM PatientID (default anonymous)")
    parser.add_argument("--spacing", type=number(float, above=0, high=100), default=1.0,
                        help="pixel spacing in mm when the source has none (stated in ImageComments)")
