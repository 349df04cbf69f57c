"""Held-out benchmark of the priors: data the models were neither trained nor tuned on, at effective accelerations.

    python benchmarks/heldout.py                          # report set, default grid (resumes: rows already in the
                                                          # CSV are kept and skipped)
    python benchmarks/heldout.py --set tuning --rows dstdm dstdm-s0.3 --accels 8   # choose defaults here only
    python benchmarks/heldout.py --summary                # rewrite the markdown from the CSV

Masks: VISTA (and kt-gaussian / radial at R_eff 8) with 8 ACS lines, R chosen to give the effective acceleration
R_eff = all k-t locations / sampled ones. Coil maps: ESPIRiT from the undersampled data, the same for every method.
PSNR / SSIM on magnitude against the fully sampled reference over the whole field of view.
"""

from __future__ import annotations

import argparse
import csv
import platform
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.cases import SOURCES, cases  # noqa: E402
from benchmarks.memory import PeakRSS  # noqa: E402
from recon import methods  # noqa: E402
from recon.errors import MaskError  # noqa: E402
from recon.metrics import all_metrics  # noqa: E402
from recon.pipeline import MaskSpec, prepare, reconstruct  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
ACS = 8

# label -> (method, parameters)
ROWS = {
    "zero-filled": ("zero-filled", {}),
    "L+S": ("lps", {}),
    "BART tTV": ("bart-ttv", {}),
    "BART LLR": ("bart-llr", {}),
    "spatial": ("spatial", {}),
    "STDM": ("stdm", {}),
    "dSTDM": ("dstdm", {}),
    # L+S at the threshold the tuning set chose for golden-angle radial at R_eff 8 (results/radial_tuning.md)
    "L+S λ_S 0.005": ("lps", {"lambda_s": 0.005}),
    "dSTDM paper (noise, predictor, 100)": ("dstdm", {"init": "noise", "sampler": "predictor", "steps": 100}),
    "dSTDM-seq": ("dstdm-seq", {}),
    "GLDM": ("gldm", {}),
    "GLDM priors=none": ("gldm", {"priors": "none"}),  # its low-rank step + DC alone: what the priors add
    "GLDM + 60 s scan-specific": ("gldm", {"finetune_seconds": 60.0}),
    # the GLDM shipped before 2026-11-30: phantom-only, position-free priors, the paper's sampling (45 levels from
    # sigma 4, zero-filled start, predictor + corrector); `make gldm-phantom-priors` puts its weights in data/gldm/old
    "GLDM before (paper sampling, phantom priors)": ("gldm", {
        "global_model": "data/gldm/old/gldm_global.safetensors", "local_model": "data/gldm/old/gldm_local.safetensors",
        "steps": 45, "init": "zero-filled", "sigma_start": 0.0, "sampler": "predictor", "eta": 1.0}),
    "GLDM, phantom priors": ("gldm", {"global_model": "data/gldm/old/gldm_global.safetensors",
                                      "local_model": "data/gldm/old/gldm_local.safetensors"}),
}
MAIN_ROWS = ("zero-filled", "L+S", "BART tTV", "dSTDM")


def run_row(label: str, problem, reference, extra: dict) -> dict:
    name, params = ROWS[label] if label in ROWS else (label, {})
    method = methods.create(name, **{**params, **extra})
    with PeakRSS() as peak:
        start = time.perf_counter()
        result = reconstruct(problem, method)  # the shared driver; scored afterwards, outside the timing
        seconds = time.perf_counter() - start
    return {"row": label, "seconds": round(seconds, 2), "peak_mb": round(peak.mb), **all_metrics(result.image, reference)}


def tagged(label: str, params: list[str]) -> str:
    """A row's name in the results: its label, plus the extra parameters it ran with."""
    return f"{label} [{' '.join(params)}]" if params else label


def done_keys(path: Path) -> set[tuple]:
    if not path.exists():
        return set()
    with path.open() as f:
        return {(r["case"], r["mask"], r["R_eff_target"], r["row"]) for r in csv.DictReader(f)}


def append(path: Path, row: dict) -> None:
    new = not path.exists()
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow({k: float(f"{v:.6g}") if isinstance(v, float) else v for k, v in row.items()})


def grid(args):
    """(mask kind, target R_eff, rows) in the order they run."""
    for kind in args.masks:
        for accel in args.accels:
            yield kind, accel, args.rows
    for kind in args.extra_masks:
        yield kind, 8.0, [r for r in args.rows if r in MAIN_ROWS]


def benchmark(args, path: Path) -> None:
    done = done_keys(path)
    rows = [r for r in args.rows if not ROWS.get(r, ("",))[0].startswith("bart") or shutil.which("bart")]
    args.rows = rows
    extra = dict(kv.split("=", 1) for kv in args.params)
    extra = {k: float(v) if v.replace(".", "", 1).isdigit() else v for k, v in extra.items()}
    extra = {k: int(v) if isinstance(v, float) and k in ("steps", "samples") else v for k, v in extra.items()}
    for case, cine, seed in cases(args.set, args.count, tuple(args.sources), tuple(args.seeds)):
        for kind, target, labels in grid(args):
            mask = kind if args.acs == ACS else f"{kind} ACS {args.acs}"
            todo = [r for r in labels if (case, mask, f"{target:g}", tagged(r, args.params)) not in done]
            if not todo:
                continue
            try:
                problem, reference, prepared = prepare(cine, MaskSpec(kind, acs=args.acs, seed=seed, accel_eff=target))
            except MaskError as exc:  # e.g. R_eff 12 on 96 lines leaves nothing outside 8 ACS lines
                print(f"{case:16s} {kind:11s} R_eff {target:5.2f} skipped: {exc}", flush=True)
                continue
            info = prepared.mask
            for label in todo:
                row = {"case": case, "shape": "x".join(map(str, cine.shape)), "mask": mask, "R_eff_target": f"{target:g}",
                       "R_eff": round(info["effective_accel"], 2), "acs": args.acs,
                       **run_row(label, problem, reference, extra), "row": tagged(label, args.params)}
                append(path, row)
                print(f"{case:16s} {mask:11s} R_eff {row['R_eff']:5.2f} {row['row']:36s} {row['psnr']:6.2f} dB "
                      f"SSIM {row['ssim']:.3f} {row['seconds']:7.1f} s {row['peak_mb']:6d} MB", flush=True)


def summary(path: Path, out: Path, title: str) -> None:
    with path.open() as f:
        rows = list(csv.DictReader(f))
    source = lambda case: case.split("-")[0]  # noqa: E731
    groups = {}
    for r in rows:
        groups.setdefault((source(r["case"]), r["mask"], float(r["R_eff_target"])), {}).setdefault(r["row"], []).append(r)
    labels = list(dict.fromkeys(r["row"] for r in rows))
    lines = [f"# {title}", "",
             f"Machine: {platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}. "
             "PSNR (dB, magnitude, whole FOV) as mean over cases; `n` = cases. ACS lines: 8 (unless the mask says "
             "otherwise, e.g. `vista ACS 0`); R chosen for the "
             "target effective acceleration (all k-t locations / sampled ones). Coil maps: ESPIRiT from the "
             "undersampled data. GIRAF and Sunnybrook are real magnitude cines with **simulated phase, coils "
             "and noise**. Time: the method alone on 2 cores (maps not included).", "",
             "| source | mask | R_eff | " + " | ".join(labels) + " |", "|---|---|---|" + "---|" * len(labels)]
    for (src, mask, target), by_row in sorted(groups.items()):
        cells = []
        for label in labels:
            got = by_row.get(label, [])
            cells.append(f"{np.mean([float(r['psnr']) for r in got]):.2f} (n={len(got)})" if got else "")
        lines.append(f"| {src} | {mask} | {target:g} | " + " | ".join(cells) + " |")
    lines += ["", "## Every run", "", "| case | mask | R_eff | row | PSNR | SSIM | time s | peak MB |",
              "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['mask']} | {r['R_eff']} | {r['row']} | {float(r['psnr']):.2f} | "
                     f"{float(r['ssim']):.3f} | {r['seconds']} | {r['peak_mb']} |")
    out.write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=["report", "tuning"], default="report")
    parser.add_argument("--count", type=int, default=3, help="cases per source")
    parser.add_argument("--sources", nargs="+", choices=SOURCES, default=list(SOURCES),
                        help="real: GIRAF (report) / Sunnybrook tuning slices (tuning); heldout: held-out phantoms")
    parser.add_argument("--seeds", nargs="+", type=int, default=[], help="held-out phantoms of the set by seed "
                        "(instead of the first --count)")
    parser.add_argument("--rows", nargs="+", default=list(ROWS), help=f"rows: {', '.join(ROWS)} or a method name")
    parser.add_argument("--params", nargs="*", default=[], help="extra method parameters KEY=VALUE for every row")
    parser.add_argument("--accels", nargs="+", type=float, default=[4, 8, 12], help="target effective accelerations")
    parser.add_argument("--masks", nargs="+", default=["vista"], help="masks run at every --accels")
    parser.add_argument("--extra-masks", nargs="*", default=["kt-gaussian", "radial"], help="masks run at R_eff 8")
    parser.add_argument("--acs", type=int, default=ACS, help="ACS lines of every mask (0: calibration from the "
                                                                 "time-averaged data alone)")
    parser.add_argument("--name", help="results file stem (default: heldout_<set>)")
    parser.add_argument("--summary", action="store_true", help="only rewrite the markdown from the CSV")
    args = parser.parse_args(argv)
    name = args.name or f"heldout_{args.set}"
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.csv"
    if not args.summary:
        benchmark(args, path)
    summary(path, RESULTS / f"{name}.md", f"Held-out benchmark ({args.set} set)")
    print(f"wrote {RESULTS}/{name}.{{csv,md}}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
