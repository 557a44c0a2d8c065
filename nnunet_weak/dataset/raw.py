"""An nnU-Net raw dataset on disk: ``dataset.json``, ``imagesTr/``, ``labelsTr/``.

Arrays are in SimpleITK's order, (z, y, x) for 3D, which is also the order nnU-Net's
default ``SimpleITKIO`` hands to preprocessing. Every axis index stored by nnunet_weak
(sparse slice axes, click coordinates) uses this order.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from nnunet_weak.dataset.integrity import check_image_file
from nnunet_weak.errors import WeakDatasetError

# Relative tolerance on spacing/origin/direction, like nnU-Net's own integrity check.
_GEOMETRY_RTOL = 1e-4
_GEOMETRY_ATOL = 1e-4


@dataclass(frozen=True)
class Geometry:
    """Physical placement of a voxel grid, as SimpleITK reports it (x, y, z order)."""

    spacing: tuple[float, ...]
    origin: tuple[float, ...]
    direction: tuple[float, ...]
    shape: tuple[int, ...]  # array order (z, y, x)

    @classmethod
    def of(cls, image: sitk.Image) -> Geometry:
        return cls(
            tuple(image.GetSpacing()),
            tuple(image.GetOrigin()),
            tuple(image.GetDirection()),
            tuple(reversed(image.GetSize())),
        )

    @classmethod
    def from_header(cls, path: str | os.PathLike) -> Geometry:
        """Geometry of an image file, reading only its header."""
        reader = sitk.ImageFileReader()
        reader.SetFileName(str(path))
        try:
            reader.ReadImageInformation()
        except RuntimeError as e:
            raise WeakDatasetError(f"cannot read {path} ({_sitk_reason(e)}); export it again as an image "
                                   "SimpleITK reads (e.g. .nii.gz)") from None
        return cls(
            tuple(reader.GetSpacing()),
            tuple(reader.GetOrigin()),
            tuple(reader.GetDirection()),
            tuple(reversed(reader.GetSize())),
        )

    @property
    def spacing_zyx(self) -> tuple[float, ...]:
        """Spacing in array order, in mm."""
        return tuple(reversed(self.spacing))

    def mismatch(self, other: Geometry) -> str | None:
        """Describe the first difference to ``other``, or None when they match."""
        if self.shape != other.shape:
            return f"shape {self.shape} vs {other.shape}"
        for name in ("spacing", "origin", "direction"):
            a, b = np.asarray(getattr(self, name)), np.asarray(getattr(other, name))
            if not np.allclose(a, b, rtol=_GEOMETRY_RTOL, atol=_GEOMETRY_ATOL):
                label = "orientation" if name == "direction" else name
                return f"{label} {tuple(np.round(a, 4))} vs {tuple(np.round(b, 4))}"
        return None

    def to_image(self, array: np.ndarray) -> sitk.Image:
        image = sitk.GetImageFromArray(array)
        image.SetSpacing(self.spacing)
        image.SetOrigin(self.origin)
        image.SetDirection(self.direction)
        return image


def _sitk_reason(error: RuntimeError) -> str:
    """The last line of a SimpleITK exception, which says what went wrong."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return (lines[-1] if lines else "unreadable")[:160]


def read_image(path: str | os.PathLike) -> tuple[np.ndarray, Geometry]:
    """Array and geometry of an image file, refused by name when missing, truncated or unreadable."""
    check_image_file(path)
    try:
        image = sitk.ReadImage(str(path))
    except RuntimeError as e:
        raise WeakDatasetError(f"cannot read {path} ({_sitk_reason(e)}); export it again as an image "
                               "SimpleITK reads (e.g. .nii.gz)") from None
    return sitk.GetArrayFromImage(image), Geometry.of(image)


def as_label_array(array: np.ndarray, where: str) -> np.ndarray:
    """Integer label map from a file's array; float files holding whole numbers are accepted."""
    if np.issubdtype(array.dtype, np.integer):
        return array.astype(np.int16 if array.max(initial=0) < 2**15 else np.int32)
    rounded = np.rint(array)
    if not np.all(rounded == array):
        raise WeakDatasetError(
            f"{where}: label map holds non-integer values (e.g. {array[rounded != array][0]}). "
            "Label maps must hold whole class numbers; re-export it as an integer image."
        )
    return rounded.astype(np.int16)


def write_label(array: np.ndarray, geometry: Geometry, path: str | os.PathLike) -> None:
    """Write an integer label map with ``geometry``, compressed."""
    dtype = np.uint8 if array.max(initial=0) < 256 and array.min(initial=0) >= 0 else np.int16
    sitk.WriteImage(geometry.to_image(array.astype(dtype)), str(path), useCompression=True)


class RawDataset:
    """A dense or weak nnU-Net raw dataset folder (``nnUNet_raw/DatasetXXX_Name``)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        json_file = self.folder / "dataset.json"
        if not json_file.is_file():
            raise WeakDatasetError(
                f"{self.folder} is not an nnU-Net raw dataset: dataset.json is missing. "
                "Point to a folder like nnUNet_raw/Dataset004_Hippocampus."
            )
        self.dataset_json: dict = _read_dataset_json(json_file)
        self.file_ending: str = self.dataset_json["file_ending"]
        self.channels: list[str] = sorted(self.dataset_json["channel_names"], key=int)

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def labels(self) -> dict[str, int]:
        """Class name -> value, without the ``ignore`` entry."""
        return {k: int(v) for k, v in self.dataset_json["labels"].items() if k != "ignore"}

    @property
    def ignore_label(self) -> int | None:
        value = self.dataset_json["labels"].get("ignore")
        return None if value is None else int(value)

    @property
    def foreground_classes(self) -> list[int]:
        return sorted(v for v in self.labels.values() if v != 0)

    @property
    def weak_kind(self) -> str | None:
        """What makes this a weak dataset (its annotation.json's kind, or its ignore label), or None."""
        sidecar = self.folder / "annotation.json"
        if sidecar.is_file():
            try:
                return f"a weak dataset ({json.loads(sidecar.read_text()).get('kind', 'unknown kind')})"
            except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
                return "a weak dataset (annotation.json)"
        if self.ignore_label is not None:
            return "a weak dataset (it declares an ignore label)"
        return None

    def require_dense(self, command: str) -> None:
        """Refuse a weak dataset where dense labels are needed: slices of slices, clicks on fragments."""
        kind = self.weak_kind
        if kind is not None:
            raise WeakDatasetError(f"{self.folder} is {kind}, but {command} needs DENSE labels; give the dense "
                                   "dataset it was made from (annotation.json names it under 'source')")

    def cases(self) -> list[str]:
        folder = self.folder / "labelsTr"
        if not folder.is_dir():
            raise WeakDatasetError(f"{self.folder} has no labelsTr folder: this command needs label maps "
                                   "(labelsTr/<case><file_ending>); only import-points takes images alone")
        names = sorted(p.name for p in folder.iterdir() if p.name.endswith(self.file_ending))
        return [n[: -len(self.file_ending)] for n in names]

    def image_cases(self) -> list[str]:
        """Cases named by the first channel's images (a dataset of images alone has no labelsTr)."""
        first = f"_{int(self.channels[0]):04d}{self.file_ending}"
        folder = self.folder / "imagesTr"
        cases = sorted(p.name[: -len(first)] for p in folder.glob(f"*{first}")) if folder.is_dir() else []
        if not cases:
            raise WeakDatasetError(f"{folder} holds no image named <case>{first}; nnU-Net's layout is "
                                   "imagesTr/<case>_<channel:04d><file_ending>")
        return cases

    def image_files(self, case: str) -> list[Path]:
        return [self.folder / "imagesTr" / f"{case}_{int(c):04d}{self.file_ending}" for c in self.channels]

    def label_file(self, case: str) -> Path:
        return self.folder / "labelsTr" / f"{case}{self.file_ending}"

    def read_label(self, case: str, also_allowed: set[int] = frozenset()) -> tuple[np.ndarray, Geometry]:
        """Read and check one case: images present, geometry matching, label values declared
        in dataset.json (or in ``also_allowed``)."""
        where = f"case {case} of {self.name}"
        for image_file in self.image_files(case):
            if not image_file.is_file():
                raise WeakDatasetError(
                    f"{where}: image {image_file.name} is missing; every channel in dataset.json "
                    "needs a file imagesTr/<case>_<channel:04d><file_ending>."
                )
        array, geometry = read_image(self.label_file(case))
        for image_file in self.image_files(case):
            check_image_file(image_file)  # images are copied into what we write: a cut-off one is refused
            image_geometry = Geometry.from_header(image_file)
            problem = image_geometry.mismatch(geometry)
            if problem:
                raise WeakDatasetError(
                    f"{where}: image {image_file.name} and its label map differ in {problem}. "
                    "Resample the label map onto the image grid (e.g. with SimpleITK or 3D Slicer) "
                    "so both have the same shape, spacing, origin and orientation."
                )
        labels = as_label_array(array, where)
        allowed = set(self.labels.values()) | set(also_allowed)
        if self.ignore_label is not None:
            allowed.add(self.ignore_label)
        unknown = sorted(set(np.unique(labels).tolist()) - allowed)
        if unknown:
            raise WeakDatasetError(
                f"{where}: label values {unknown} are not declared in dataset.json "
                f"(declared: {sorted(allowed)}). Add them to 'labels' in dataset.json or fix the label map."
            )
        return labels, geometry



def _read_dataset_json(path: Path) -> dict:
    """dataset.json, checked for what our commands use; a problem is refused naming the file and the fix."""
    try:
        content = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise WeakDatasetError(f"{path} is not valid JSON ({e}); fix or rewrite it") from None
    if not isinstance(content, dict):
        raise WeakDatasetError(f"{path} must hold a JSON object with channel_names, labels and file_ending")
    missing = [key for key in ("channel_names", "labels", "file_ending") if key not in content]
    if missing:
        raise WeakDatasetError(f"{path} lacks {', '.join(missing)}; nnU-Net's dataset.json needs channel_names, "
                               'labels and file_ending (e.g. "file_ending": ".nii.gz")')
    ending = content["file_ending"]
    if not isinstance(ending, str) or not ending.startswith("."):
        raise WeakDatasetError(f'{path}: file_ending must be a string like ".nii.gz", not {ending!r}')
    channels = content["channel_names"]
    if not isinstance(channels, dict) or not channels or not all(str(k).isdigit() for k in channels):
        raise WeakDatasetError(f'{path}: channel_names must map channel numbers to names, e.g. {{"0": "MRI"}}')
    labels = content["labels"]
    if not isinstance(labels, dict) or not labels:
        raise WeakDatasetError(f'{path}: labels must map class names to values, e.g. {{"background": 0, "organ": 1}}')
    for name, value in labels.items():
        if isinstance(value, (list, tuple)):
            raise WeakDatasetError(f"{path}: label '{name}' is a region ({value}); nnunet-weak supports one value "
                                   "per class only. Convert the dataset to plain class labels.")
        if isinstance(value, bool) or not isinstance(value, int) and not (isinstance(value, str) and value.isdigit()):
            raise WeakDatasetError(f"{path}: label '{name}' has value {value!r}; label values must be whole "
                                   "numbers >= 0")
    if labels.get("background") is not None and int(labels["background"]) != 0:
        raise WeakDatasetError(f"{path}: background must be 0, as nnU-Net requires")
    return content
