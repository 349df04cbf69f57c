"""napari-stdm reconstruction engine: pure Python (numpy, torch, sigpy, h5py). Never imports Qt or napari."""

__version__ = "0.1.0"
