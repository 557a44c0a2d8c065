"""Extra networks and wrappers around nnU-Net's architectures."""
