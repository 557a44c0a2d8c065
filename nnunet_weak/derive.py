"""Build a weak-annotation nnU-Net raw dataset from a dense one (or from users' own annotations).

One loop (:func:`build_weak_dataset`) handles what every kind shares: the case list, one random
generator per case (so results do not depend on order or on which cases are included), copying
images, writing label maps with the ``ignore`` value, ``dataset.json``, the sidecar, progress,
errors that name the case, and all-or-nothing output. Each kind only says how one case's label
map is made: the ``*_annotator`` factories below.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import shutil
import signal
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from nnunet_weak.annotations import (
    anatomical_axes,
    annotated_slices,
    choose_labelled_cases,
    choose_slices,
    clicks_from_point_map,
    clicks_from_slicer_markups,
    clicks_to_label_map,
    seven_point_clicks,
    slice_mask,
    weak_label_map,
)
from nnunet_weak.annotations.point_expansion import expand_clicks
from nnunet_weak.annotations.points import Click
from nnunet_weak.annotations.pseudo_labels import fill_ignore_with_predictions
from nnunet_weak.annotations.scribbles import (
    check_scribble_options,
    scribble_slices,
    scribbles_to_label_map,
    simulate_scribbles,
)
from nnunet_weak.annotations.sparse_slices import PRESETS
from nnunet_weak.dataset import Geometry, RawDataset, atomic_output_dir, read_image, write_label
from nnunet_weak.dataset.folders import dataset_id
from nnunet_weak.dataset.integrity import check_image_file
from nnunet_weak.dataset.raw import as_label_array
from nnunet_weak.dataset.sidecar import read_sidecar, write_sidecar
from nnunet_weak.errors import WeakDatasetError

# (source, case, rng) -> (weak label map, geometry, sidecar record without the cost fields)
Annotator = Callable[[RawDataset, str, np.random.Generator], tuple[np.ndarray, Geometry, dict]]

def case_rng(seed: int, case: str) -> np.random.Generator:
    """A generator that depends on the seed and the case name only."""
    return np.random.default_rng([seed, zlib.crc32(case.encode())])


def ignore_label_for(source: RawDataset) -> int:
    """nnU-Net wants ``ignore`` one above the highest class."""
    return source.ignore_label if source.ignore_label is not None else max(source.labels.values()) + 1


def check_output_name(output: Path) -> None:
    number = dataset_id(output.name)
    if number is None:
        raise WeakDatasetError(
            f"output folder name '{output.name}' is not an nnU-Net dataset name; use DatasetXXX_Name "
            "with a 3-digit id, e.g. Dataset104_HippocampusSlices."
        )
    if output.parent.is_dir():
        clash = [p.name for p in output.parent.glob(f"Dataset{number}_*") if p.name != output.name]
        if clash:
            raise WeakDatasetError(
                f"dataset id {number} is already used by {clash[0]} in {output.parent}; nnU-Net "
                "needs unique ids. Pick another id for the output."
            )


def build_weak_dataset(
    source: RawDataset,
    output: str | Path,
    kind: str,
    annotate: Annotator,
    parameters: dict,
    seed: int | None,
    cases: Sequence[str] | None = None,
    overwrite: bool = False,
    processes: int = 1,
    reads: Sequence[str | Path] = (),
) -> dict:
    """Write the weak dataset to ``output`` and return its sidecar content.

    ``processes`` > 1 annotates cases in parallel (forked workers; results keep case order).
    ``reads``: folders besides ``source`` that the annotator reads (the output may not touch them)."""
    output = Path(output)
    check_output_name(output)
    cases = list(source.cases() if cases is None else cases)
    if not cases:
        raise WeakDatasetError(f"{source.folder}: no cases to annotate")
    ignore = ignore_label_for(source)
    records: dict[str, dict] = {}
    with atomic_output_dir(output, overwrite=overwrite, reads=[source.folder, *reads]) as tmp:
        (tmp / "imagesTr").mkdir()
        (tmp / "labelsTr").mkdir()
        global _JOB  # noqa: PLW0603 - read by forked workers
        _JOB = (source, annotate, seed or 0)
        with _pool(processes) as pool:
            results = pool.imap(_annotate_case, cases) if pool else map(_annotate_case, cases)
            for case, (weak, geometry, record) in zip(cases, tqdm(results, total=len(cases), unit="case",
                                                                  desc=f"{kind} -> {output.name}"), strict=True):
                _write_case(tmp, source, case, weak, geometry, record, ignore, records)
        dataset_json = dict(source.dataset_json)
        dataset_json["labels"] = {**source.labels, "ignore": ignore}
        dataset_json["numTraining"] = len(cases)
        (tmp / "dataset.json").write_text(json.dumps(dataset_json, indent=1))
        sidecar = write_sidecar(tmp, kind, parameters, seed, str(source.folder.resolve()), ignore, records)
    return sidecar


_JOB: tuple | None = None  # (source, annotator, seed) for forked workers: closures do not pickle


def _annotate_case(case: str):
    source, annotate, seed = _JOB
    try:
        return annotate(source, case, case_rng(seed, case))
    except WeakDatasetError as e:
        raise WeakDatasetError(f"case {case}: {e}" if case not in str(e) else str(e)) from None
    except ValueError as e:
        raise WeakDatasetError(f"case {case} of {source.name}: {e}") from None


@contextlib.contextmanager
def _pool(processes: int):
    if processes <= 1:
        yield None
        return
    # workers ignore Ctrl-C: the parent alone reports it (one line) and removes the partial output
    with multiprocessing.get_context("fork").Pool(processes, initializer=signal.signal,
                                                  initargs=(signal.SIGINT, signal.SIG_IGN)) as pool:
        yield pool


def _write_case(folder: Path, source: RawDataset, case: str, weak: np.ndarray, geometry: Geometry, record: dict,
                ignore: int, records: dict) -> None:
    write_label(weak, geometry, folder / "labelsTr" / f"{case}{source.file_ending}")
    for image in source.image_files(case):
        shutil.copyfile(image, folder / "imagesTr" / image.name)
    annotated = int(np.count_nonzero(weak != ignore))
    records[case] = {"labelled": annotated > 0, "annotated_voxels": annotated, "total_voxels": int(weak.size),
                     **record}


def slices_annotator(
    axes: Sequence[int] | None = None,
    orientations: Sequence[str] | None = None,
    count: int | None = None,
    every: int | None = None,
    same_count: bool = False,
) -> Annotator:
    """Sparse slices along array ``axes`` or named ``orientations`` (axial, coronal, sagittal).

    ``same_count``: the first axis uses ``count``/``every``, the others as many slices, evenly
    spaced (3D2DCT's protocol).
    """
    if (axes is None) == (orientations is None):
        raise WeakDatasetError("give either --axes or --orientations")

    def annotate(source: RawDataset, case: str, rng: np.random.Generator):
        dense, geometry = source.read_label(case)
        chosen = _array_axes(axes, orientations, geometry, dense.ndim)
        slices = {}
        for i, axis in enumerate(chosen):
            if i > 0 and same_count:
                picked = choose_slices(dense.shape[axis], rng, count=len(slices[chosen[0]]))
            else:
                picked = choose_slices(dense.shape[axis], rng, count=count, every=every)
            slices[axis] = sorted(int(s) for s in picked)
        weak = weak_label_map(dense, slice_mask(dense.shape, slices), ignore_label_for(source))
        return weak, geometry, {"slices": {str(a): s for a, s in slices.items()}}

    return annotate


def _array_axes(axes: Sequence[int] | None, orientations: Sequence[str] | None, geometry: Geometry,
                ndim: int) -> list[int]:
    """Array axes given directly or as anatomical plane names (from the image's direction)."""
    chosen = list(axes) if axes is not None else [anatomical_axes(geometry.direction)[o] for o in orientations]
    for axis in chosen:
        if not 0 <= axis < ndim:
            raise WeakDatasetError(f"axis {axis} does not exist in a {ndim}D image; use 0..{ndim - 1}")
    return chosen


def preset_annotator(name: str) -> tuple[Annotator, dict]:
    if name not in PRESETS:
        raise WeakDatasetError(f"unknown preset '{name}'; choose from {sorted(PRESETS)}")
    return slices_annotator(**PRESETS[name]), dict(PRESETS[name])


def points_annotator(margin: int = 2, jitter: float = 0.0, min_object_voxels: int = 1) -> Annotator:
    """PA-Seg's seven clicks per object of every foreground class."""

    def annotate(source: RawDataset, case: str, rng: np.random.Generator):
        dense, geometry = source.read_label(case)
        clicks = seven_point_clicks(dense, source.foreground_classes, rng, margin, jitter, min_object_voxels)
        if not any(c.role == "inside" for c in clicks):
            raise WeakDatasetError(
                f"case {case} has no foreground to click. Leave it out with --exclude-cases {case}, "
                "or use 'nnunet-weak semi' to keep it as an unlabelled case."
            )
        weak = clicks_to_label_map(dense.shape, clicks, ignore_label_for(source))
        return weak, geometry, {"clicks": [c.to_json() for c in clicks]}

    return annotate


def scribbles_annotator(axes: Sequence[int] | None = None, orientations: Sequence[str] | None = None,
                        slice_share: float = 1.0, thickness: int = 3) -> Annotator:
    """Scribbles (ScribbleBench's protocol) on slices along array ``axes`` or named ``orientations``.

    The record holds the cost: ``scribbles`` (strokes), ``scribble_length_mm`` (their centrelines'
    length) and ``scribble_slices`` ({axis: [index, ...]}).
    """
    if (axes is None) == (orientations is None):
        raise WeakDatasetError("give either --axes or --orientations")
    try:  # before any case is read, so nothing is written
        check_scribble_options(slice_share, thickness)
    except ValueError as e:
        raise WeakDatasetError(f"{e} (--slice-share, --thickness)") from None

    def annotate(source: RawDataset, case: str, rng: np.random.Generator):
        dense, geometry = source.read_label(case)
        chosen = _array_axes(axes, orientations, geometry, dense.ndim)
        scribbles = simulate_scribbles(dense, geometry.spacing_zyx, rng, chosen, slice_share, thickness,
                                       classes=[0, *source.foreground_classes])
        weak = scribbles_to_label_map(dense.shape, scribbles, ignore_label_for(source))
        return weak, geometry, {
            "scribbles": len(scribbles),
            "scribble_length_mm": round(sum(s.length_mm for s in scribbles), 3),
            "scribble_slices": {str(a): s for a, s in scribble_slices(scribbles).items()},
        }

    return annotate


def semi_supervised_annotator(labelled: Sequence[str]) -> Annotator:
    """Dense labels for ``labelled`` cases, all ``ignore`` for the rest."""
    labelled = set(labelled)

    def annotate(source: RawDataset, case: str, rng: np.random.Generator):
        dense, geometry = source.read_label(case)
        if case in labelled:
            return dense, geometry, {}
        return np.full(dense.shape, ignore_label_for(source), dtype=dense.dtype), geometry, {}

    return annotate


def first_cases(source: RawDataset, cases: Sequence[str], count: int) -> list[str]:
    """The first ``count`` of ``cases`` in the order of dataset.json's ``train_list`` (sorted order
    where it has none): the left atrium benchmark labels the first 4 or 8 cases of its train.list."""
    order = source.dataset_json.get("train_list") or sorted(cases)
    return [c for c in order if c in set(cases)][:count]


def pick_labelled(source: RawDataset, cases: Sequence[str], seed: int, count=None, fraction=None, names=None):
    try:
        return choose_labelled_cases(cases, np.random.default_rng(seed), count, fraction, names)
    except ValueError as e:
        raise WeakDatasetError(f"{source.name}: {e}") from None


def user_sparse_annotator(unannotated_value: int) -> Annotator:
    """Users' sparse label maps, where ``unannotated_value`` marks voxels nobody labelled."""

    def annotate(source: RawDataset, case: str, rng: np.random.Generator):
        labels, geometry = source.read_label(case, also_allowed={unannotated_value})
        annotated = labels != unannotated_value
        if not annotated.any():
            record = {}
        else:
            record = {"slices": {str(a): s for a, s in annotated_slices(annotated).items()}}
        if unannotated_value in source.labels.values():  # the user said the class loses these voxels
            record["class_voxels_made_ignore"] = int(np.count_nonzero(~annotated))
        return weak_label_map(labels, annotated, ignore_label_for(source)), geometry, record

    return annotate


def user_points_annotator(points_folder: str | Path, background_value: int = 255) -> Annotator:
    """Users' clicks: ``<case>.mrk.json`` (3D Slicer markups) or ``<case><file_ending>`` point maps."""
    points_folder = Path(points_folder)

    def annotate(source: RawDataset, case: str, rng: np.random.Generator):
        for image in source.image_files(case):
            if not image.is_file():
                raise WeakDatasetError(f"case {case}: image {image} is missing; every channel in dataset.json needs "
                                       "a file imagesTr/<case>_<channel:04d><file_ending>")
            check_image_file(image)  # copied into the output
        geometry = Geometry.from_header(source.image_files(case)[0])
        markups = points_folder / f"{case}.mrk.json"
        point_map = points_folder / f"{case}{source.file_ending}"
        if markups.is_file():
            try:
                content = json.loads(markups.read_text())
                clicks = clicks_from_slicer_markups(content, source.labels, geometry.origin, geometry.spacing,
                                                    geometry.direction, geometry.shape)
            except (ValueError, UnicodeDecodeError) as e:  # JSONDecodeError is a ValueError
                raise WeakDatasetError(f"case {case}: {markups}: {e}") from None
        elif point_map.is_file():
            array, point_geometry = read_image(point_map)
            problem = point_geometry.mismatch(geometry)
            if problem:
                raise WeakDatasetError(f"case {case}: point map and image differ in {problem}; "
                                       "save the point map on the image's grid.")
            clicks = clicks_from_point_map(as_label_array(array, f"case {case}"), source.foreground_classes,
                                           background_value, geometry.spacing_zyx)
        else:
            raise WeakDatasetError(
                f"case {case}: no clicks found; expected {markups.name} or {point_map.name} in {points_folder}"
            )
        weak = clicks_to_label_map(geometry.shape, clicks, ignore_label_for(source))
        return weak, geometry, {"clicks": [c.to_json() for c in clicks]}

    return annotate


def expanded_points_annotator(points_dataset: RawDataset, threshold: float = 0.2, lam: float = 0.5,
                              iterations: int = 4, outside_seeds: bool = False,
                              background_threshold: float | None = None) -> Annotator:
    """Clicks of a points dataset (``nnunet-weak points`` or ``import-points``) expanded by geodesic
    distance over the first image channel (PA-Seg's seed expansion)."""
    sidecar = read_sidecar(points_dataset.folder)
    if sidecar["kind"] not in ("points", "user_points"):
        raise WeakDatasetError(f"{points_dataset.name} holds {sidecar['kind']} annotations, not clicks; make it with "
                               "'nnunet-weak points' or 'nnunet-weak import-points'")

    def annotate(source: RawDataset, case: str, rng: np.random.Generator):
        image, geometry = read_image(source.image_files(case)[0])
        clicks = [Click.from_json(c) for c in sidecar["cases"][case]["clicks"]]
        labels = expand_clicks(image, clicks, ignore_label_for(source), geometry.spacing_zyx, threshold, lam,
                               iterations, outside_seeds, background_threshold)
        return labels, geometry, {"clicks": sidecar["cases"][case]["clicks"]}

    return annotate


def pseudo_label_annotator(weak_dataset: RawDataset, predictions: str | Path, confidence: float = 0.9) -> Annotator:
    """Keep a weak dataset's labels and give its ``ignore`` voxels the confident predictions saved by
    ``nnUNetv2_predict --save_probabilities`` in ``predictions`` (``<case>.npz``). The record keeps the
    weak dataset's (slices, clicks) and counts only people's labels as annotated (the cost); the filled
    voxels are ``pseudo_labelled_voxels``."""
    sidecar = read_sidecar(weak_dataset.folder)
    if sidecar["kind"] == "pseudo_labels":  # its filled voxels would count as people's labels
        raise WeakDatasetError(f"{weak_dataset.name} already holds pseudo labels; fill the dataset they were made "
                               f"from ({sidecar['parameters']['weak_dataset']}) with the new teacher's predictions")
    records = sidecar["cases"]
    predictions = Path(predictions)

    def annotate(source: RawDataset, case: str, rng: np.random.Generator):
        weak, geometry = source.read_label(case)
        ignore = ignore_label_for(source)
        annotated = int(np.count_nonzero(weak != ignore))
        record = {**records[case], "labelled": annotated > 0, "annotated_voxels": annotated,
                  "pseudo_labelled_voxels": 0}
        if annotated == weak.size:
            return weak, geometry, record
        npz = predictions / f"{case}.npz"
        if not npz.is_file():
            raise WeakDatasetError(f"case {case}: no {npz.name} in {predictions}; predict this dataset's imagesTr "
                                   "with nnUNetv2_predict ... --save_probabilities into that folder")
        try:
            with np.load(npz) as saved:
                if "probabilities" not in saved.files:
                    raise WeakDatasetError(f"case {case}: {npz} holds no 'probabilities'; give the .npz files that "
                                           "nnUNetv2_predict --save_probabilities writes")
                probabilities = saved["probabilities"]
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
            raise WeakDatasetError(f"case {case}: {npz} is corrupt or not an .npz file ({e}); predict it again "
                                   "with nnUNetv2_predict --save_probabilities") from None
        filled, record["pseudo_labelled_voxels"] = fill_ignore_with_predictions(weak, probabilities, ignore,
                                                                                confidence)
        return filled, geometry, record

    return annotate
