"""Write a dense nnU-Net raw dataset from image/label file pairs (used by ``dataset_conversion/``)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from tqdm import tqdm

from nnunet_weak.dataset.output import atomic_output_dir
from nnunet_weak.dataset.raw import Geometry, as_label_array, read_image, write_label
from nnunet_weak.errors import WeakDatasetError


def write_dense_dataset(
    output: str | Path,
    cases: Sequence[tuple[str, Path, Path]],
    channel_names: Mapping[str, str],
    labels: Mapping[str, int],
    file_ending: str = ".nii.gz",
    overwrite: bool = False,
    extra: Mapping | None = None,
) -> Path:
    """Copy single-channel ``(case, image, label)`` files into ``output`` in nnU-Net's layout.

    Label maps are rewritten as integers (float files holding whole numbers are accepted) after
    checking that they match the image's geometry and hold only declared ``labels``.
    """
    output = Path(output)
    allowed = set(labels.values())
    with atomic_output_dir(output, overwrite=overwrite) as tmp:
        (tmp / "imagesTr").mkdir()
        (tmp / "labelsTr").mkdir()
        for case, image, label in tqdm(cases, desc=f"-> {output.name}", unit="case"):
            array, geometry = read_image(label)
            problem = Geometry.from_header(image).mismatch(geometry)
            if problem:
                raise WeakDatasetError(f"case {case}: image {image} and label {label} differ in {problem}")
            array = as_label_array(array, f"case {case}")
            unknown = set(array.ravel().tolist()) - allowed
            if unknown:
                raise WeakDatasetError(f"case {case}: label values {sorted(unknown)} not in {dict(labels)}")
            shutil.copyfile(image, tmp / "imagesTr" / f"{case}_0000{file_ending}")
            write_label(array, geometry, tmp / "labelsTr" / f"{case}{file_ending}")
        dataset_json = {"channel_names": dict(channel_names), "labels": dict(labels),
                        "numTraining": len(cases), "file_ending": file_ending, **(extra or {})}
        (tmp / "dataset.json").write_text(json.dumps(dataset_json, indent=1))
    return output
