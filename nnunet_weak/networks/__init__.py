"""Extra networks and wrappers around nnU-Net's architectures."""


def highest_resolution(output):
    """The full-resolution output of a network with (list) or without (tensor) deep supervision."""
    return output[0] if isinstance(output, (list, tuple)) else output
