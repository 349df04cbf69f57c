"""True (non-Cartesian) golden-angle radial cines: trajectories, the NUFFT forward model, the radial Problem.

    radial = acquire_radial(cartesian_cine, spokes=21)       # or recon.io.load of a file with a trajectory
    problem = make_radial_problem(radial)                    # coil maps from the time average (no ACS needed)
    for it in methods.create("dstdm").iterate(problem): ...

The methods that only use the operator (zero-filled = gridding, CG-SENSE, L+S, dSTDM/STDM/spatial) run on it
unchanged; BART gets the trajectory (`pics -t`); GLDM's k-space priors are Cartesian and refuse it.
"""

from .data import RadialCine, acquire_radial
from .trajectory import golden_angle, nyquist_spokes, spokes_for_effective


def __getattr__(name: str):
    # the Problem needs sigpy (numba): loaded on first use, not when `stdm` starts (a Ctrl-C inside numba's import
    # aborts the process instead of cancelling it)
    if name in ("RadialProblem", "make_radial_problem"):
        from . import problem

        return getattr(problem, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["RadialCine", "RadialProblem", "acquire_radial", "golden_angle", "make_radial_problem", "nyquist_spokes",
           "spokes_for_effective"]
