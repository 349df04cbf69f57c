import numpy as np
import pytest

from recon.metrics import all_metrics, nmse, psnr, psnr_per_frame, ssim


def test_metric_values_on_known_errors(rng):
    ref = rng.uniform(0, 1, (3, 32, 32))
    ref[0, 0, 0] = 1.0
    assert psnr(ref, ref) == float("inf")
    assert ssim(ref, ref) == pytest.approx(1.0)
    assert nmse(ref, ref) == 0
    shifted = ref + 0.1
    assert psnr(shifted, ref) == pytest.approx(20.0, abs=1e-6)
    assert nmse(shifted, ref) == pytest.approx(0.01 * ref.size / np.sum(ref ** 2))
    assert ssim(shifted + rng.normal(0, 0.2, ref.shape), ref) < 0.9
    assert psnr_per_frame(shifted, ref) == pytest.approx([20.0] * 3)


def test_metrics_use_magnitude(rng):
    ref = rng.uniform(0.1, 1, (2, 16, 16)).astype(np.complex64)
    assert all_metrics(ref * np.exp(1j * 0.7), ref)["psnr"] > 100
