"""Simulate or read weak annotations; numpy in, numpy out, no nnU-Net.

Every function here returns a boolean "annotated" mask, clicks or scribbles; turning them into
a label map with nnU-Net's ``ignore`` value is :func:`weak_label_map`, :func:`clicks_to_label_map`
or :func:`scribbles_to_label_map`.
"""

from nnunet_weak.annotations.masking import annotated_slices, weak_label_map
from nnunet_weak.annotations.point_files import clicks_from_point_map, clicks_from_slicer_markups
from nnunet_weak.annotations.points import Click, clicks_to_label_map, seven_point_clicks
from nnunet_weak.annotations.scribbles import Scribble, scribbles_to_label_map, simulate_scribbles
from nnunet_weak.annotations.semi_supervised import choose_labelled_cases
from nnunet_weak.annotations.sparse_slices import anatomical_axes, choose_slices, slice_mask

__all__ = [
    "Click",
    "Scribble",
    "anatomical_axes",
    "annotated_slices",
    "choose_labelled_cases",
    "choose_slices",
    "clicks_from_point_map",
    "clicks_from_slicer_markups",
    "clicks_to_label_map",
    "scribbles_to_label_map",
    "seven_point_clicks",
    "simulate_scribbles",
    "slice_mask",
    "weak_label_map",
]
