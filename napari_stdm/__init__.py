"""napari plugin for napari-stdm. Thin: every computation lives in the `recon` engine."""

__version__ = "0.1.0"
