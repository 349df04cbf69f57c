"""GLDM (Guan et al., NMR Biomed 2025): zero-shot global-to-local k-space diffusion, built only from undersampled,
time-interleaved acquisitions."""
