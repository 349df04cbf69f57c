"""A run's recipe: everything needed to run it again — the data (path or shipped sample, and how it was read), the
mask, the method and its parameters, the seeds, the weights files with their SHA-256, the package version.

Saved as JSON by the napari widget (and loaded back into its controls) and read by `stdm recon --recipe FILE`.
A recipe is checked when read: unknown methods, parameters, mask kinds or load options are refused by name.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path

from . import __version__, methods
from .errors import ReconError
from .io.options import LoadOptions
from .masks import KINDS
from .pipeline import SENS_SOURCES, MaskSpec

FORMAT = "napari-stdm recipe"
FORMAT_VERSION = 1
SAMPLES = ("sample", "real-sample")  # the shipped cines, by their CLI names
MAX_BYTES = 1_000_000


class RecipeError(ReconError):
    """A recipe file that cannot be used; the message names what is wrong."""


def sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Recipe:
    input: str  # a k-space file's path, or "sample" / "real-sample"
    method: str
    parameters: dict = field(default_factory=dict)
    mask: MaskSpec = field(default_factory=MaskSpec)
    load: LoadOptions = field(default_factory=LoadOptions)
    sens: str = "espirit"
    weights: dict = field(default_factory=dict)  # parameter -> {"path": str, "sha256": str or None}
    version: str = __version__

    def to_dict(self) -> dict:
        seeds = {"mask": self.mask.seed, **({"method": self.parameters["seed"]} if "seed" in self.parameters else {})}
        return {"format": FORMAT, "format_version": FORMAT_VERSION, "version": self.version,
                "data": {"input": self.input, "load": self.load.changed()},
                "mask": self.mask.as_dict(), "sens": self.sens, "method": self.method,
                "parameters": self.parameters, "seeds": seeds, "weights": self.weights}

    def save(self, path: str | Path) -> Path:
        from .io.atomic import atomic_path

        path = Path(path)
        with atomic_path(path) as tmp:
            Path(tmp).write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    def weight_warnings(self) -> list[str]:
        """One line per weights file that is gone or has changed since the recipe was written."""
        lines = []
        for name, entry in self.weights.items():
            path, expected = entry.get("path"), entry.get("sha256")
            if not path or not Path(path).is_file():
                lines.append(f"{name}: {path} is not there any more; the run will not be the same.")
            elif expected and sha256(path) != expected:
                lines.append(f"{name}: {path} has changed since the recipe was saved (SHA-256 differs).")
        return lines


def make_recipe(input: str, method: methods.Method, mask: MaskSpec, load: LoadOptions | None = None,
                sens: str = "espirit") -> Recipe:
    """The recipe of a run about to happen (or that happened): the weights files the method reads, hashed."""
    weights = {}
    for name, path in method.weight_files().items():
        digest = sha256(path) if Path(path).is_file() else None
        weights[name] = {"path": str(Path(path).resolve()) if digest else str(path), "sha256": digest}
    return Recipe(str(input), method.name, method.parameters(), mask, load or LoadOptions(), sens, weights)


def read_recipe(path: str | Path) -> Recipe:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise RecipeError(f"{path} is {path.stat().st_size:,} bytes; a recipe is a small JSON file.")
        values = json.loads(path.read_text(), parse_constant=lambda c: math.nan)
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(f"{path} could not be read ({exc}).") from None
    except ValueError as exc:
        raise RecipeError(f"{path} is not JSON ({exc}); a recipe is the JSON the napari widget saves.") from None
    return recipe_from_dict(values, str(path))


def recipe_from_dict(values, where: str = "recipe") -> Recipe:
    if not isinstance(values, dict) or values.get("format") != FORMAT:
        raise RecipeError(f"{where} is not a napari-stdm recipe (no \"format\": \"{FORMAT}\").")
    if not isinstance(values.get("format_version"), int) or values["format_version"] > FORMAT_VERSION:
        raise RecipeError(f"{where}: recipe format version {values.get('format_version')!r} is newer than this "
                          f"version reads ({FORMAT_VERSION}); update napari-stdm.")
    data, mask = values.get("data"), values.get("mask")
    if not isinstance(data, dict) or not isinstance(data.get("input"), str) or not data["input"]:
        raise RecipeError(f"{where}: \"data\" must name the input (a file path, or {' / '.join(SAMPLES)}).")
    method, parameters = values.get("method"), values.get("parameters", {})
    if not isinstance(method, str) or not isinstance(parameters, dict):
        raise RecipeError(f"{where}: \"method\" must be a method name and \"parameters\" an object.")
    if not isinstance(data.get("load", {}), (dict, type(None))):
        raise RecipeError(f"{where}: \"data\".\"load\" must be an object of load options, e.g. {{\"slice\": 0}}.")
    try:
        methods.create(method, **dict(parameters))  # unknown parameters, wrong kinds, limits, choices
        load = LoadOptions.from_dict(data.get("load"))
        spec = mask_spec(mask)
    except ReconError as exc:
        raise RecipeError(f"{where}: {exc}") from None
    sens = values.get("sens", "espirit")
    if sens not in SENS_SOURCES:
        raise RecipeError(f"{where}: coil maps source {sens!r} unknown; choose one of {', '.join(SENS_SOURCES)}.")
    weights = values.get("weights", {})
    if not isinstance(weights, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("path"), str) and isinstance(v.get("sha256"), (str, type(None)))
            for v in weights.values()):
        raise RecipeError(f"{where}: \"weights\" must map parameter names to {{path, sha256}}.")
    return Recipe(data["input"], method, dict(parameters), spec, load, sens, weights,
                  str(values.get("version", "unknown")))


def mask_spec(values) -> MaskSpec:
    if not isinstance(values, dict):
        raise ReconError("\"mask\" must be an object with kind, accel, acs, seed.")
    known = {f.name for f in fields(MaskSpec)}
    unknown = set(values) - known
    if unknown:
        raise ReconError(f"mask fields {sorted(unknown)} unknown; known: {', '.join(sorted(known))}.")
    spec = MaskSpec(**values)
    if spec.kind not in (*KINDS, "file"):
        raise ReconError(f"mask kind {spec.kind!r} unknown; choose one of {', '.join((*KINDS, 'file'))}.")
    for name, low, high in (("accel", 1, 1000), ("acs", 0, 4096), ("seed", 0, 2 ** 32 - 1)):
        value = getattr(spec, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or not low <= value <= high:
            raise ReconError(f"mask {name} {value!r} must be a number in [{low}, {high}].")
    if spec.accel_eff is not None and (not isinstance(spec.accel_eff, (int, float)) or not 1 <= spec.accel_eff <= 1000):
        raise ReconError(f"mask accel_eff {spec.accel_eff!r} must be a number in [1, 1000].")
    if not float(spec.acs).is_integer() or not float(spec.seed).is_integer():
        raise ReconError("mask acs and seed must be whole numbers.")
    return spec
