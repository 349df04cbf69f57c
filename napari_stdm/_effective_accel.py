"""R_eff next to R in the dock (EffectiveAccel, mixed into the dock): the chosen mask on the chosen data's grid,
recomputed whenever the data, mask kind, R, ACS lines or seed change."""

from __future__ import annotations

from recon.errors import ReconError
from recon.masks import make_mask
from recon.pipeline import adds_acs, measured_lines
from recon.radial import RadialCine, nyquist_spokes



class EffectiveAccel:
    """Needs the dock's `mask`, `accel`, `acs`, `seed` and `accel_eff` controls and DataSource's `layer_data` /
    `data_shape`."""

    def update_effective_accel(self, *_):
        """R_eff next to R: the chosen mask on the chosen data's grid (and the file's own samples, if any); for
        radial spokes, Nyquist spokes / spokes per frame. ACS lines mean nothing to radial masks."""
        data, shape = self.layer_data(), self.data_shape()
        self.enable_mask_controls()
        try:
            if isinstance(data, RadialCine):
                if self.mask.value != "file":
                    raise ReconError(f"this file holds radial spokes; a {self.mask.value} mask cannot be applied to "
                                     "them: choose mask 'file' (its own spokes).")
                self.show_effective_accel(nyquist_spokes(data.image_shape) / data.spokes, data.spokes)
                return
            own = None if data is None else measured_lines(data)
            if self.mask.value == "file":
                mask = own
            elif shape is None:
                mask = None
            else:
                built = make_mask(self.mask.value, shape, self.accel.value, self.acs.value, self.seed.value)
                if built.spokes is not None:
                    self.show_effective_accel(built.effective_accel, built.spokes)
                    return
                mask = built.array if own is None else built.array & own
        except ReconError as exc:
            self.accel_eff.value, self.accel_eff.tooltip = "R_eff –", str(exc)
            return
        if mask is None:
            self.accel_eff.value = "R_eff –"
            self.accel_eff.tooltip = "effective acceleration: shown once the data are loaded"
            return
        self.show_effective_accel(mask.size / max(int(mask.sum()), 1))

    def enable_mask_controls(self):
        """ACS lines only for Cartesian retrospective masks, R for any retrospective mask (also after a run, which
        enables every control again)."""
        self.acs.enabled = adds_acs(self.mask.value, self.layer_data())
        self.accel.enabled = self.mask.value != "file"

    def show_effective_accel(self, value: float, spokes: int | None = None):
        self.accel_eff.value = f"R_eff {value:.1f}"
        self.accel_eff.tooltip = (f"effective acceleration {value:.2f}: all k-t locations / sampled ones, ACS lines "
                                  "included") if spokes is None else (
            f"effective acceleration {value:.2f}: Nyquist spokes (pi/2 x matrix) / {spokes} golden-angle spokes per "
            "frame; for golden-angle, R is this effective acceleration")
