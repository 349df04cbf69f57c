"""The Python API refuses what the CLI refuses: a ReconError naming the value, before anything runs."""

import math

import numpy as np
import pytest

from recon import methods
from recon.data import CineData
from recon.errors import ReconError
from recon.masks import make_mask
from recon.pipeline import undersample

NAN, INF = math.nan, math.inf

MASKS = [("vista", NAN, 8, 0), ("vista", INF, 8, 0), ("kt-gaussian", -2, 8, 0), ("vista", 4, -1, 0),
         ("vista", 4, 8, -1), ("vista", 4, 8, 1.5), ("vista", 4, 8, True), ("radial", NAN, 0, 0),
         ("interleaved", 4, 1000, 0), ("nonsense", 4, 8, 0)]


@pytest.mark.parametrize("kind, accel, acs, seed", MASKS)
def test_mask_refuses_bad_numbers(kind, accel, acs, seed):
    with pytest.raises(ReconError):
        make_mask(kind, (6, 32, 32), accel, acs, seed)


@pytest.mark.parametrize("accel_eff", [NAN, INF, 0.5, -3, 1000])
def test_undersample_refuses_bad_effective_acceleration(small_cine, accel_eff):
    with pytest.raises(ReconError):
        undersample(small_cine, "vista", acs=8, accel_eff=accel_eff)


@pytest.mark.parametrize("method, params", [
    ("lps", {"lambda_l": NAN}), ("lps", {"iterations": -1}), ("lps", {"iterations": 2.5}),
    ("sense", {"iterations": INF}), ("dstdm", {"sigma_start": NAN}), ("dstdm", {"dc_weight": -1}),
    ("dstdm", {"sampler": "magic"}), ("dstdm", {"steps": 0}), ("gldm", {"priors": "nope"}),
    ("lps", {"no_such_parameter": 1}),
])
def test_method_parameters_are_checked_when_built(method, params):
    with pytest.raises(ReconError):
        methods.create(method, **params)


def cine_with(**change) -> CineData:
    rng = np.random.default_rng(0)
    kspace = (rng.standard_normal((4, 2, 16, 16)) + 1j * rng.standard_normal((4, 2, 16, 16))).astype(np.complex64)
    fields = {"kspace": kspace, **change}
    return CineData(**fields)


@pytest.mark.parametrize("change", [
    {"kspace": np.full((4, 2, 16, 16), np.nan, np.complex64)},
    {"kspace": np.zeros((4, 2, 16, 16), np.complex64)},
    {"kspace": np.ones((4, 2, 16, 16), np.float32)},
    {"kspace": np.ones((1, 2, 16, 16), np.complex64)},
    {"mask": np.ones((4, 16, 8), bool)},
    {"reference": np.ones((4, 15, 16), np.complex64)},
    {"sens": np.ones((3, 16, 16), np.complex64)},
])
def test_cine_data_refuses_what_the_engine_cannot_use(change):
    with pytest.raises(ReconError):
        cine_with(**change).validate()
