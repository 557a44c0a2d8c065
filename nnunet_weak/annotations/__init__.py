"""Simulate or read weak annotations; numpy in, numpy out, no nnU-Net.

Every function here returns either a boolean "annotated" mask or clicks; turning them into
a label map with nnU-Net's ``ignore`` value is :func:`weak_label_map`.
"""

from nnunet_weak.annotations.masking import annotated_slices, weak_label_map
from nnunet_weak.annotations.point_files import clicks_from_point_map, clicks_from_slicer_markups
from nnunet_weak.annotations.points import Click, clicks_to_label_map, seven_point_clicks
from nnunet_weak.annotations.semi_supervised import choose_labelled_cases
from nnunet_weak.annotations.sparse_slices import anatomical_axes, choose_slices, slice_mask

__all__ = [
    "Click",
    "anatomical_axes",
    "annotated_slices",
    "choose_labelled_cases",
    "choose_slices",
    "clicks_from_point_map",
    "clicks_from_slicer_markups",
    "clicks_to_label_map",
    "seven_point_clicks",
    "slice_mask",
    "weak_label_map",
]
