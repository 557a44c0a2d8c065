"""PNG overview of cases: image, dense truth, weak annotation and prediction, per orientation.

What to look at before trusting a weak dataset or a model: are the slices/clicks where they
should be, is ``ignore`` (grey) where nothing was annotated, does the prediction follow the truth
between annotated slices?
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from nnunet_weak.annotations import annotated_slices
from nnunet_weak.dataset import Geometry, RawDataset, read_image
from nnunet_weak.dataset.integrity import check_image_file
from nnunet_weak.dataset.output import check_output_path
from nnunet_weak.dataset.raw import as_label_array
from nnunet_weak.errors import WeakDatasetError

_COLOURS = np.array([[0.9, 0.1, 0.1], [0.1, 0.5, 1.0], [0.1, 0.8, 0.2], [1.0, 0.8, 0.0], [0.8, 0.2, 0.9],
                     [0.0, 0.8, 0.8]])


def overlay(image: np.ndarray, labels: np.ndarray | None, ignore_label: int | None) -> np.ndarray:
    """RGB of a 2D ``image`` (scaled to its 1-99th percentile) with ``labels`` blended in; the
    ignore value shows as a grey veil."""
    low, high = np.percentile(image, [1, 99])
    grey = np.clip((image - low) / max(high - low, 1e-6), 0, 1)
    rgb = np.repeat(grey[..., None], 3, axis=-1)
    if labels is None:
        return rgb
    for value in np.unique(labels):
        if value == 0:
            continue
        mask = labels == value
        colour = np.array([0.55, 0.55, 0.55]) if value == ignore_label else _COLOURS[(int(value) - 1) % len(_COLOURS)]
        alpha = 0.6 if value == ignore_label else 0.45
        rgb[mask] = (1 - alpha) * rgb[mask] + alpha * colour
    return rgb


def panel_aspect(spacing: Sequence[float], axis: int) -> float:
    """Height/width of one pixel of a plane cut across ``axis`` of a volume with ``spacing`` (array
    order, mm), so that anisotropic voxels are drawn at their physical size."""
    rows, columns = (a for a in range(len(spacing)) if a != axis)
    return spacing[rows] / spacing[columns]


def _slice_positions(foreground: np.ndarray, annotated: np.ndarray, axis: int) -> list[int]:
    """Two slices along ``axis``: an annotated slice nearest the foreground's middle (if the axis has
    annotated slices) and one in the middle between annotations; otherwise thirds of the extent.

    Annotated slices are the fully annotated ones (sparse slices) or, where there are none, those
    holding some annotation (scribbles, clicks) if other slices across the foreground hold none."""
    other = tuple(a for a in range(foreground.ndim) if a != axis)
    present = np.flatnonzero(foreground.any(axis=other))
    low, high = (present[0], present[-1]) if present.size else (0, foreground.shape[axis] - 1)
    planes = annotated_slices(annotated).get(axis)
    if not planes:
        holding = annotated.any(axis=other)
        planes = [] if holding[low:high + 1].all() else np.flatnonzero(holding).tolist()
    if not planes:
        return sorted({int(round(low + (high - low) * i / 3)) for i in (1, 2)})
    middle = (low + high) / 2
    chosen = min(planes, key=lambda p: abs(p - middle))
    unannotated = [i for i in range(low, high + 1) if i not in planes] or [chosen]
    return sorted({chosen, min(unannotated, key=lambda p: abs(p - middle))})


def _check_inputs(weak: RawDataset, dense: RawDataset | None, cases: Sequence[str],
                  prediction_folders: Mapping[str, Path], output: Path, weak_column: bool) -> None:
    """Everything ``render_cases`` will read, checked before any PNG is written: the cases exist in
    each dataset, the dense dataset is dense, every prediction exists on its case's image grid."""
    check_output_path(output, reads=[weak.folder, *([dense.folder] if dense else []), *prediction_folders.values()])
    if dense is not None:
        dense.require_dense("show --dense")
    available = set(weak.image_cases())
    unknown = [c for c in cases if c not in available]
    if unknown:
        raise WeakDatasetError(f"case {unknown[0]} is not in {weak.folder} (cases: {', '.join(sorted(available)[:5])}"
                               f"{', ...' if len(available) > 5 else ''}); give cases of that dataset to --cases")
    for case in cases:
        geometry = Geometry.from_header(weak.image_files(case)[0])
        sources = {"its label map": weak.label_file(case)} if weak_column else {}
        if dense is not None:
            sources["--dense"] = dense.label_file(case)
        sources.update({f"prediction '{title}'": Path(folder) / f"{case}{weak.file_ending}"
                        for title, folder in prediction_folders.items()})
        for what, path in sources.items():
            if not path.is_file():
                raise WeakDatasetError(f"case {case}: {what} has no {path}; give a folder holding this case")
            check_image_file(path)
            problem = Geometry.from_header(path).mismatch(geometry)
            if problem:
                raise WeakDatasetError(f"case {case}: {path} and the image of {weak.name} differ in {problem}; "
                                       f"{what} must belong to the same dataset and grid")


def render_cases(dataset: str | Path, cases: Sequence[str] | None, output: str | Path,
                 dense: str | Path | None = None, predictions: str | Path | Mapping[str, Path] | None = None,
                 weak_column: bool = True) -> list[Path]:
    """Write ``<output>/<case>.png`` for each case (default: the first three) and return the paths.

    ``dataset`` supplies the images (and, with ``weak_column``, the weak annotation); ``predictions``
    is a folder, or several as {column title: folder}. A held-out test case has no weak annotation:
    draw it with ``weak_column=False`` (its label in ``dataset`` would be dense truth). Voxels are drawn
    at their physical aspect ratio (anisotropic spacing is not stretched)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weak = RawDataset(dataset)
    dense_ds = RawDataset(dense) if dense else None
    output = Path(output)
    if predictions is None:
        prediction_folders = {}
    elif isinstance(predictions, Mapping):
        prediction_folders = dict(predictions)
    else:
        prediction_folders = {"prediction": predictions}
    cases = list(cases or weak.cases()[:3])
    _check_inputs(weak, dense_ds, cases, prediction_folders, output, weak_column)
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for case in cases:
        image, geometry = read_image(weak.image_files(case)[0])
        spacing = geometry.spacing_zyx
        columns = {"image": None}
        if dense_ds is not None:
            columns["dense truth"] = dense_ds.read_label(case)[0]
        if weak_column:
            columns["weak annotation"] = weak.read_label(case)[0]
        for title, folder in prediction_folders.items():
            columns[title] = as_label_array(read_image(Path(folder) / f"{case}{weak.file_ending}")[0],
                                            f"{title} of {case}")
        reference = columns.get("dense truth", columns.get("weak annotation"))
        if reference is None:
            raise ValueError("render_cases needs dense truth or the weak annotation to choose slices")
        foreground = (reference > 0) & (reference != weak.ignore_label)
        annotated = columns["weak annotation"] != weak.ignore_label if weak_column else np.zeros_like(foreground)
        rows = [(axis, index) for axis in range(image.ndim) for index in _slice_positions(foreground, annotated, axis)]
        fig, axes = plt.subplots(len(rows), len(columns), figsize=(2.2 * len(columns), 2.2 * len(rows)),
                                 squeeze=False)
        for r, (axis, index) in enumerate(rows):
            for c, (title, labels) in enumerate(columns.items()):
                section = np.take(image, index, axis=axis)
                labels2d = None if labels is None else np.take(labels, index, axis=axis)
                ax = axes[r, c]
                ax.imshow(overlay(section, labels2d, weak.ignore_label), interpolation="nearest",
                          aspect=panel_aspect(spacing, axis))
                ax.set_xticks([])
                ax.set_yticks([])
                if r == 0:
                    ax.set_title(title, fontsize=9)
                if c == 0:
                    ax.set_ylabel(f"axis {axis}, slice {index}", fontsize=8)
        legend = "; grey = ignore (not annotated)" if weak_column else "; held out: no weak annotation"
        fig.suptitle(f"{case} ({weak.name}){legend}", fontsize=9)
        fig.tight_layout()
        path = output / f"{case}.png"
        fig.savefig(path, dpi=80)
        plt.close(fig)
        written.append(path)
    return written
