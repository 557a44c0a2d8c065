"""Public datasets -> dense nnU-Net raw datasets (``nnunet-weak convert``), and the writer they share.

Each converter lists a source folder's ``(case, image, label)`` files, checking that every file is
there, and :func:`write_dense_dataset` copies them into nnU-Net's layout all or nothing.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from nnunet_weak.dataset.integrity import check_image_file
from nnunet_weak.dataset.output import atomic_output_dir
from nnunet_weak.dataset.raw import Geometry, as_label_array, read_image, write_label
from nnunet_weak.errors import WeakDatasetError

Cases = list[tuple[str, Path, Path]]


def write_dense_dataset(
    output: str | Path,
    cases: Sequence[tuple[str, Path, Path]],
    channel_names: Mapping[str, str],
    labels: Mapping[str, int],
    file_ending: str = ".nii.gz",
    overwrite: bool = False,
    extra: Mapping | None = None,
    reads: Sequence[str | Path] = (),
) -> Path:
    """Copy single-channel ``(case, image, label)`` files into ``output`` in nnU-Net's layout.

    Label maps are rewritten as integers (float files holding whole numbers are accepted) after
    checking that they match the image's geometry and hold only declared ``labels``. On any
    error nothing is left at ``output``.
    """
    output = Path(output)
    allowed = set(labels.values())
    with atomic_output_dir(output, overwrite=overwrite, reads=reads) as tmp:
        (tmp / "imagesTr").mkdir()
        (tmp / "labelsTr").mkdir()
        for case, image, label in tqdm(cases, desc=f"-> {output.name}", unit="case"):
            array, geometry = _read(label, case)
            problem = _header(image, case).mismatch(geometry)
            if problem:
                raise WeakDatasetError(f"case {case}: image {image} and label {label} differ in {problem}; "
                                       "resample the label map onto the image grid or leave the case out")
            array = as_label_array(array, f"case {case} ({label})")
            unknown = set(array.ravel().tolist()) - allowed
            if unknown:
                raise WeakDatasetError(f"case {case}: {label} holds label values {sorted(unknown)}, not in "
                                       f"{dict(labels)}; fix the label map or leave the case out")
            shutil.copyfile(image, tmp / "imagesTr" / f"{case}_0000{file_ending}")
            write_label(array, geometry, tmp / "labelsTr" / f"{case}{file_ending}")
        dataset_json = {"channel_names": dict(channel_names), "labels": dict(labels),
                        "numTraining": len(cases), "file_ending": file_ending, **(extra or {})}
        (tmp / "dataset.json").write_text(json.dumps(dataset_json, indent=1))
    return output


def _read(path: Path, case: str):
    try:
        return read_image(path)
    except WeakDatasetError as e:
        raise WeakDatasetError(f"case {case}: {e}, or leave the case out") from None


def _header(path: Path, case: str) -> Geometry:
    """Geometry of a source image, which is copied as it is: checked to be complete first."""
    try:
        check_image_file(path)
        return Geometry.from_header(path)
    except WeakDatasetError as e:
        raise WeakDatasetError(f"case {case}: {e}, or leave the case out") from None


def _source_folder(source: Path, example: str) -> Path:
    if not source.is_dir():
        raise WeakDatasetError(f"source folder {source} not found; give the folder that holds imagesTr/ and "
                               f"labelsTr/ (-i, e.g. {example})")
    return source


def _pair(source: Path, name: str) -> tuple[str, Path, Path]:
    image, label = source / "imagesTr" / f"{name}.nii.gz", source / "labelsTr" / f"{name}.nii.gz"
    for path in (image, label):
        if not path.is_file():
            raise WeakDatasetError(f"case {name}: {path} is missing; restore it from the download")
    return name, image, label


def hippocampus_cases(source: Path) -> Cases:
    """MSD Task04: every ``labelsTr/hippocampus_NNN.nii.gz`` with its ``imagesTr/`` image."""
    source = _source_folder(Path(source), "../shared/data/hippocampus or Task04_Hippocampus")
    labels = sorted((source / "labelsTr").glob("hippocampus_*.nii.gz"))
    if not labels:
        raise WeakDatasetError(f"no labelsTr/hippocampus_*.nii.gz in {source}; give the Task04_Hippocampus "
                               "folder (-i) that holds imagesTr/ and labelsTr/")
    return [_pair(source, p.name[: -len(".nii.gz")]) for p in labels]


def left_atrium_cases(source: Path) -> Cases:
    """2018 Atrial Segmentation Challenge: the cases of ``train.list``, in its order (the
    semi-supervised protocol labels its first N)."""
    source = _source_folder(Path(source), "../shared/data/left_atrium")
    listing = source / "train.list"
    if not listing.is_file():
        raise WeakDatasetError(f"{listing} not found; the left atrium source needs train.list (one case id a "
                               "line, in the order of the semi-supervised split) beside imagesTr/ and labelsTr/")
    order = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
    if not order:
        raise WeakDatasetError(f"{listing} lists no case; write one case id a line")
    return [_pair(source, case if case.startswith("la_") else f"la_{case}") for case in order]


@dataclass(frozen=True)
class PublicDataset:
    """A public dataset nnunet-weak converts: where its files are, what its labels mean."""

    name: str  # default output, DatasetXXX_Name
    cases: Callable[[Path], Cases]
    channels: dict[str, str]
    labels: dict[str, int]
    about: dict = field(default_factory=dict)  # extra dataset.json entries: licence, reference
    keep_order: bool = False  # record the source's case order in dataset.json's train_list


PUBLIC_DATASETS = {
    "hippocampus": PublicDataset(
        "Dataset004_Hippocampus", hippocampus_cases, {"0": "MRI"},
        {"background": 0, "anterior": 1, "posterior": 2},
        {"name": "Hippocampus", "licence": "CC-BY-SA 4.0",
         "reference": "MSD Task04_Hippocampus; Simpson et al. 2019 arXiv:1902.09063; Antonelli et al. 2022"}),
    "left-atrium": PublicDataset(
        "Dataset005_LeftAtrium", left_atrium_cases, {"0": "LGE-MRI"}, {"background": 0, "left_atrium": 1},
        {"name": "LeftAtrium",
         "reference": "2018 Atrial Segmentation Challenge; Xiong et al., Medical Image Analysis 67 (2021)"},
        keep_order=True),
}


def convert_public_dataset(kind: str, source: str | Path, output: str | Path, overwrite: bool = False) -> Path:
    """Convert the source folder of one of :data:`PUBLIC_DATASETS` into a dense raw dataset at ``output``."""
    if kind not in PUBLIC_DATASETS:
        raise WeakDatasetError(f"unknown dataset '{kind}'; choose one of {sorted(PUBLIC_DATASETS)}")
    dataset = PUBLIC_DATASETS[kind]
    cases = dataset.cases(Path(source))
    extra = dict(dataset.about)
    if dataset.keep_order:
        extra["train_list"] = [case for case, _, _ in cases]
    return write_dense_dataset(output, cases, dataset.channels, dataset.labels, overwrite=overwrite, extra=extra,
                               reads=[source])
