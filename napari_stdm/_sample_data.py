"""Sample-data entries: the shipped cines, as magnitude image layers."""

from recon.samples import real_cine, sample_cine

from ._layers import cine_layers


def synthetic_cine():
    return cine_layers(sample_cine(), "synthetic cine")


def real_anatomy_cine():
    return cine_layers(real_cine(), "real SAX cine")
