"""Score-based priors: VE-SDE, a compact U-Net, plane data sets, training and checkpoints."""
