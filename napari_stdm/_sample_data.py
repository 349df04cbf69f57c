"""Sample-data entries: the shipped cines, as magnitude image layers with their geometry. The data ride along in
the layer metadata, so the dock widget reconstructs the sample the user opened."""

from recon.samples import real_cine, sample_cine

from ._layers import cine_layers


def synthetic_cine():
    data = sample_cine()
    return cine_layers(data, "synthetic cine", {"napari_stdm_data": data, "napari_stdm_sample": "sample"})


def real_anatomy_cine():
    data = real_cine()
    return cine_layers(data, "real SAX cine", {"napari_stdm_data": data, "napari_stdm_sample": "real-sample"})
