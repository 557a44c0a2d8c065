"""Reading and writing nnU-Net raw datasets (images, label maps, dataset.json)."""

from nnunet_weak.dataset.output import atomic_output_dir
from nnunet_weak.dataset.raw import Geometry, RawDataset, read_image, write_label

__all__ = ["Geometry", "RawDataset", "atomic_output_dir", "read_image", "write_label"]
