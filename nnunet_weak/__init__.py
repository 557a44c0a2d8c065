"""nnunet_weak: train nnU-Net v2 from sparse slices, point clicks and unlabelled cases.

Kept import-light on purpose: the .pth start-up hook imports ``nnunet_weak.ext_trainer``,
so nothing here may pull in torch or nnU-Net.
"""

__version__ = "0.1.0"
