"""True (non-Cartesian) golden-angle radial cines: trajectories, the NUFFT forward model, the radial Problem.

    radial = acquire_radial(cartesian_cine, spokes=21)       # or recon.io.load of a file with a trajectory
    problem = make_radial_problem(radial)                    # coil maps from the time average (no ACS needed)
    for it in methods.create("dstdm").iterate(problem): ...

The methods that only use the operator (zero-filled = gridding, CG-SENSE, L+S, dSTDM/STDM/spatial) run on it
unchanged; BART gets the trajectory (`pics -t`); GLDM's k-space priors are Cartesian and refuse it.
"""

from .data import RadialCine, acquire_radial
from .problem import RadialProblem, make_radial_problem
from .trajectory import golden_angle, nyquist_spokes, spokes_for_effective

__all__ = ["RadialCine", "RadialProblem", "acquire_radial", "golden_angle", "make_radial_problem", "nyquist_spokes",
           "spokes_for_effective"]
