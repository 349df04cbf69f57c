"""Calibration of the error maps: does a map rank pixels and patches the way the actual error does?

    python benchmarks/calibration.py                 # report set, default grid; resumes: runs whose final images
                                                     # are in --cache are not rerun, only scored again
    python benchmarks/calibration.py --summary       # rewrite markdown + PNG from the CSVs
    python benchmarks/calibration.py --cost          # prior map time vs the dSTDM run on the bundled sample

Held-out data only (benchmarks/cases.py, report set: the GIRAF real cine and the held-out phantom family). VISTA
masks with 8 ACS lines at effective accelerations 4, 8, 12 (as benchmarks/heldout.py, same mask seeds), dSTDM with
its defaults. Maps:

- `prior_map`: recon.prior_map of the final image (free with every diffusion run; docs/METHODS.md).
- `uncertainty`: std of the magnitude over K = 4 posterior samples (`samples=4`, 4x the run): only where --uq says.
- `prior_map per-frame`: the same with every location the frame did not sample counted as unmeasured (even when
  other frames sampled it), the first version; kept to show why the k-t version is the default.
- `magnitude`: the reconstructed magnitude itself, a trivial baseline (errors are larger where there is signal).

Error: | |x| - |ref| | (magnitude, what a reader sees). Body: |ref| > BODY x max |ref| (per cine). Spearman rank
correlation per pixel inside the body, and per non-overlapping 8 x 8 patch (per frame) with at least half its
pixels in the body, mean map vs mean error. The K = 4 run's first sample is exactly the default K = 1 run (same
seed), so one K = 4 run scores both the default run's prior map and the K-sample uncertainty (against the error of
the mean, which is what a K = 4 run returns). Reliability: body pixels in deciles of the map, mean map vs mean error
(in % of max |ref|), kept in calibration_bins.csv so the plot is redrawn without rerunning.
"""

from __future__ import annotations

import argparse
import csv
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.cases import cases  # noqa: E402
from recon import methods  # noqa: E402
from recon.errors import MaskError  # noqa: E402
from recon.metrics import psnr  # noqa: E402
from recon.pipeline import problem_for, undersample  # noqa: E402
from recon.prior_map import prior_map  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
ACS = 8
BODY = 0.1
PATCH = 8
BINS = 10
DEFAULT_CASES = ("giraf-s0", "heldout-500", "heldout-501")
DEFAULT_UQ = ("giraf-s0:8", "heldout-501:8")  # case:R_eff where K = 4 samples are run


def body_mask(reference: np.ndarray) -> np.ndarray:
    magnitude = np.abs(reference)
    return magnitude > BODY * magnitude.max()


def patch_means(a: np.ndarray, n: int = PATCH) -> np.ndarray:
    f, y, x = a.shape
    a = a[:, : y // n * n, : x // n * n].astype(np.float64)
    return a.reshape(f, y // n, n, x // n, n).mean(axis=(2, 4))


def scores(values: np.ndarray, error: np.ndarray, body: np.ndarray) -> dict:
    in_patch = patch_means(body) >= 0.5
    return {"spearman_pixel": float(spearmanr(values[body], error[body])[0]),
            "spearman_patch": float(spearmanr(patch_means(values)[in_patch], patch_means(error)[in_patch])[0]),
            "pixels": int(body.sum()), "patches": int(in_patch.sum())}


def reliability(values: np.ndarray, error: np.ndarray, body: np.ndarray, scale: float) -> list[tuple]:
    """(bin, mean map, mean error in % of `scale`, pixels) over deciles of the map inside the body."""
    v, e = values[body], error[body] / scale * 100
    edges = np.quantile(v, np.linspace(0, 1, BINS + 1))
    index = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, BINS - 1)
    return [(b, float(v[index == b].mean()), float(e[index == b].mean()), int((index == b).sum()))
            for b in range(BINS) if (index == b).any()]


def run_dstdm(problem, samples: int):
    """(first sample's final image, final iterate, seconds). With samples = 1 both are the same run."""
    method = methods.create("dstdm", samples=samples)
    first, last = None, None
    start = time.perf_counter()
    for last in method.iterate(problem):
        if first is None and last.step == method.steps:
            first = last.image
    return first, last, time.perf_counter() - start


def write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: float(f"{v:.5g}") if isinstance(v, float) else v for k, v in row.items()})


def cached_run(cache: Path, case: str, target: float, samples: int, problem) -> dict:
    """The run's images from the cache, or run dSTDM now and cache them (the expensive part, done once)."""
    path = cache / f"{case}_R{target:g}_K{samples}.npz"
    if not path.exists():
        first, last, seconds = run_dstdm(problem, samples)
        arrays = {"first": first, "seconds": seconds, "threads": torch.get_num_threads()}
        if samples > 1:
            arrays.update(mean=last.image, uncertainty=last.extras["uncertainty"])
        cache.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part.npz")
        np.savez(partial, **arrays)
        partial.rename(path)
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def evaluate(case: str, target: float, samples: int, info: dict, problem, reference, run: dict):
    """Rows (one per map) and reliability bins of one run; every map is recomputed from the cached images."""
    first = run["first"]
    start = time.perf_counter()
    first_map = prior_map(problem, first)
    map_seconds = time.perf_counter() - start
    body = body_mask(reference)
    peak = float(np.abs(reference).max())
    error_first = np.abs(np.abs(first) - np.abs(reference))
    evaluated = [("prior_map", "K=1 run", first_map, error_first, first),
                 ("prior_map per-frame", "K=1 run", prior_map(problem, first, temporal=False), error_first, first),
                 ("magnitude", "K=1 run", np.abs(first), error_first, first)]
    if samples > 1:
        mean = run["mean"]
        error_mean = np.abs(np.abs(mean) - np.abs(reference))
        evaluated += [("uncertainty", f"mean of K={samples}", run["uncertainty"], error_mean, mean),
                      ("prior_map", f"mean of K={samples}", prior_map(problem, mean), error_mean, mean)]
    rows, bins = [], []
    for name, image_kind, values, error, image in evaluated:
        row = {"case": case, "source": case.split("-")[0], "R_eff_target": f"{target:g}",
               "R_eff": round(info["effective_accel"], 2), "K": samples, "map": name, "image": image_kind,
               **scores(values, error, body), "psnr": psnr(image, reference),
               "run_seconds": round(float(run["seconds"]), 1), "map_seconds": round(map_seconds, 3),
               "threads": int(run["threads"])}
        rows.append(row)
        bins += [{"case": case, "R_eff_target": f"{target:g}", "K": samples, "map": name, "image": image_kind,
                  "bin": b, "map_mean": m, "error_pct": e, "pixels": n}
                 for b, m, e, n in reliability(values, error, body, peak)]
        print(f"{case:14s} R_eff {row['R_eff']:5.2f} K={samples} {name:19s} {image_kind:11s} "
              f"pixel {row['spearman_pixel']:.3f} patch {row['spearman_patch']:.3f} "
              f"PSNR {row['psnr']:.2f} run {row['run_seconds']:.0f} s map {map_seconds:.2f} s", flush=True)
    return rows, bins


def benchmark(args, path: Path, bins_path: Path) -> None:
    """Run what the cache lacks, then score every run of the grid and rewrite both CSVs."""
    uq = {tuple(s.split(":")) for s in args.uq}
    wanted = set(args.cases)
    rows, bins = [], []
    for case, cine, seed in cases("report", args.count, ("real", "heldout")):
        if case not in wanted:
            continue
        for target in args.accels:
            samples = 4 if (case, f"{target:g}") in uq else 1
            try:
                measured, info = undersample(cine, "vista", acs=ACS, seed=seed, accel_eff=target)
            except MaskError as exc:
                print(f"{case:14s} R_eff {target:5.2f} skipped: {exc}", flush=True)
                continue
            reference, measured.reference = measured.reference, None
            problem = problem_for(measured)
            run = cached_run(Path(args.cache), case, target, samples, problem)
            got_rows, got_bins = evaluate(case, target, samples, info, problem, reference, run)
            rows += got_rows
            bins += got_bins
            write_csv(path, rows)
            write_csv(bins_path, bins)


def cost(out: Path, repeats: int = 5) -> dict:
    """The prior map's time against the dSTDM run on the bundled sample (VISTA R 8, 20 ACS lines, as `stdm recon
    sample --method dstdm`)."""
    from recon.samples import sample_cine

    measured, _ = undersample(sample_cine(), "vista", 8, 20, seed=0)
    measured.reference = None
    problem = problem_for(measured)
    method = methods.create("dstdm")
    start = time.perf_counter()
    result = method.run(problem)
    run_seconds = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        prior_map(problem, result.image)
        times.append(time.perf_counter() - start)
    row = {"data": "sample (12 x 8 x 128 x 128)", "method": "dstdm (40 steps)", "threads": torch.get_num_threads(),
           "run_seconds": round(run_seconds, 2), "map_seconds_median": round(float(np.median(times)), 4),
           "share_pct": round(100 * float(np.median(times)) / run_seconds, 3)}
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    print(row)
    return row


def read_csv(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open() as f:
        return list(csv.DictReader(f))


def plot(bins: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("prior_map", "K=1 run"), ("uncertainty", "mean of K=4"), ("prior_map per-frame", "K=1 run"),
              ("magnitude", "K=1 run")]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 4.2))
    colours = {"4": "tab:blue", "8": "tab:orange", "12": "tab:red"}
    for ax, (name, image_kind) in zip(axes, panels):
        chosen = [b for b in bins if b["map"] == name and b["image"] == image_kind]
        for key in sorted({(b["case"], b["R_eff_target"]) for b in chosen}, key=lambda k: (k[0], float(k[1]))):
            rows = [b for b in chosen if (b["case"], b["R_eff_target"]) == key]
            style = "-" if key[0].startswith("giraf") else "--"
            ax.plot([float(b["map_mean"]) for b in rows], [float(b["error_pct"]) for b in rows], style, marker="o",
                    ms=3, color=colours.get(key[1], "k"), label=f"{key[0]} R_eff {key[1]}")
        unit = "(image units)" if name in ("uncertainty", "magnitude") else "(dimensionless)"
        ax.set_xlabel(f"{name} {unit}, decile mean")
        ax.set_ylabel("mean |error| in the decile (% of max |ref|)")
        ax.set_title(f"{name} ({image_kind})")
        ax.grid(alpha=0.3)
        if chosen:
            ax.legend(fontsize=7)
    fig.suptitle("Reliability: body pixels binned by map deciles (held-out report set, dSTDM, VISTA, 8 ACS)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def summary(path: Path, bins_path: Path, cost_path: Path, out: Path) -> None:
    rows, cost_rows = read_csv(path), read_csv(cost_path)
    if read_csv(bins_path):
        plot(read_csv(bins_path), out.with_suffix(".png"))
    lines = ["# Calibration of the error maps (held-out report set)", "",
             f"Machine: {platform.machine()}, torch {torch.__version__}; runs with 1 torch thread on a shared 2-core "
             "machine (times are wall clock, inflated by other jobs). dSTDM defaults (40 steps, x0-dc, zero-filled "
             f"start), VISTA masks, {ACS} ACS lines, R chosen for the target effective acceleration, ESPIRiT maps from "
             "the undersampled data. Error = | |x| - |ref| |. Body = |ref| > "
             f"{BODY:g} x max |ref|. Patch = {PATCH} x {PATCH} pixels of one frame, at least half in the body. "
             "Spearman rank correlation between the map and the error. Made by `python benchmarks/calibration.py`.",
             ""]
    if cost_rows:
        c = cost_rows[0]
        lines += ["## Cost of the prior map", "",
                  f"On the bundled sample ({c['data']}, VISTA R 8, 20 ACS), {c['method']}, {c['threads']} thread(s): "
                  f"run {float(c['run_seconds']):.1f} s, prior map {1000 * float(c['map_seconds_median']):.1f} ms "
                  f"(median of 5) = **{float(c['share_pct']):.2f} %** of the run.", ""]
        map_times = [(float(r["map_seconds"]), float(r["run_seconds"]), r["case"], r["K"]) for r in rows
                     if r["map"] == "prior_map" and r["image"] == "K=1 run"]
        if map_times:
            worst = max(m / (s / int(k)) for m, s, _, k in map_times)
            lines += [f"In the calibration runs the map took at most {100 * worst:.2f} % of one sample's run time.", ""]
    lines += ["## Spearman(map, |error|)", "",
              "| source | R_eff | map | image scored | n cases | per pixel | per 8x8 patch | PSNR dB |",
              "|---|---|---|---|---|---|---|---|"]
    groups = {}
    for r in rows:
        groups.setdefault((r["source"], float(r["R_eff_target"]), r["map"], r["image"]), []).append(r)
    order = {"prior_map": 0, "uncertainty": 1, "prior_map per-frame": 2, "magnitude": 3}
    for (source, target, name, image_kind), got in sorted(groups.items(),
                                                          key=lambda kv: (kv[0][0], kv[0][1], order[kv[0][2]], kv[0][3])):
        mean = lambda key: np.mean([float(r[key]) for r in got])  # noqa: E731
        lines.append(f"| {source} | {target:g} | {name} | {image_kind} | {len(got)} | {mean('spearman_pixel'):.3f} | "
                     f"{mean('spearman_patch'):.3f} | {mean('psnr'):.2f} |")
    lines += ["", "## Every run", "",
              "| case | R_eff | K | map | image | pixel | patch | body pixels | patches | run s | map s |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['R_eff']} | {r['K']} | {r['map']} | {r['image']} | "
                     f"{float(r['spearman_pixel']):.3f} | {float(r['spearman_patch']):.3f} | {r['pixels']} | "
                     f"{r['patches']} | {r['run_seconds']} | {r['map_seconds']} |")
    notes = out.with_name("calibration_notes.md")
    if notes.exists():
        lines += ["", notes.read_text().strip()]
    lines += ["", "![reliability](calibration.png)"]
    out.write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", default=list(DEFAULT_CASES), help="case names from the report set")
    parser.add_argument("--count", type=int, default=2, help="cases per source to draw names from")
    parser.add_argument("--accels", nargs="+", type=float, default=[4, 8, 12])
    parser.add_argument("--uq", nargs="*", default=list(DEFAULT_UQ), help="CASE:R_eff runs with K = 4 samples")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cache", default=str(Path.home() / ".cache" / "napari-stdm" / "calibration"),
                        help="where the runs' final images are kept (the benchmark resumes from it; maps are always "
                             "recomputed from the images)")
    parser.add_argument("--cost", action="store_true", help="only time the prior map against a run on the sample")
    parser.add_argument("--summary", action="store_true", help="only rewrite the markdown and PNG from the CSVs")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    RESULTS.mkdir(exist_ok=True)
    path, bins_path, cost_path = (RESULTS / f"calibration{s}.csv" for s in ("", "_bins", "_cost"))
    if args.cost:
        cost(cost_path)
    elif not args.summary:
        benchmark(args, path, bins_path)
    summary(path, bins_path, cost_path, RESULTS / "calibration.md")
    print(f"wrote {RESULTS}/calibration.{{md,csv,png}}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
