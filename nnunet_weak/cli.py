"""``nnunet-weak``: one entry point, sub-commands, nnU-Net's flag habits.

Examples::

    nnunet-weak convert hippocampus -i Task04_Hippocampus -o Dataset004_Hippocampus
    nnunet-weak slices -i $nnUNet_raw/Dataset004_Hippocampus -o $nnUNet_raw/Dataset104_HippoSlices --preset 3d2dct
    nnunet-weak points -i $nnUNet_raw/Dataset004_Hippocampus -o $nnUNet_raw/Dataset204_HippoPoints
    nnunet-weak scribbles -i $nnUNet_raw/Dataset004_Hippocampus -o $nnUNet_raw/Dataset404_HippoScribbles
    nnunet-weak semi   -i $nnUNet_raw/Dataset004_Hippocampus -o $nnUNet_raw/Dataset304_HippoSemi --labelled 4
    nnunet-weak check -d 104 -c 3d_fullres
    nnunet-weak evaluate -pred predictions/ -ref $nnUNet_raw/Dataset004_Hippocampus -o scores
    nnunet-weak benchmark -d Dataset004_Hippocampus -o hippo_benchmark --schedule cpu-2k --repeats 2
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from nnunet_weak.errors import WeakDatasetError

EPILOG = __doc__.split("Examples::", 1)[1]
# the demo's schedule: what fits about ten minutes on two CPU cores (nnunet_weak/demo.py)
DEMO_ITERATIONS = 1000


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: the message and where to read more, no usage block."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _number(kind, low=None, high=None, low_open=False):
    """An argparse type: ``kind`` (int or float) within [low, high] (``low_open``: above low)."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'a whole number' if kind is int else 'a number'}") \
                from None
        if value != value or (low is not None and (value <= low if low_open else value < low)) \
                or (high is not None and value > high):
            bound = f"above {low}" if low_open else f"at least {low}"
            rule = f"{bound} and at most {high}" if high is not None else bound
            raise argparse.ArgumentTypeError(f"{text} is out of range: must be {rule}")
        return value
    parse.__name__ = kind.__name__
    return parse


_COUNT = _number(int, 1)  # counts: at least 1
_INDEX = _number(int, 0)  # axes, margins, label values, seeds
_NON_NEGATIVE = _number(float, 0)
_SHARE = _number(float, 0, 1, low_open=True)  # shares and probabilities in (0, 1]


def _distinct(values: list | None, option: str) -> None:
    if values and len(set(values)) != len(values):
        raise WeakDatasetError(f"{option} names {sorted({v for v in values if values.count(v) > 1})} twice; "
                               "give each once")


def _dataset_folder(value: str) -> Path:
    """A raw dataset given as a path, a DatasetXXX_Name, or an id (looked up in $nnUNet_raw)."""
    from nnunet_weak.dataset.folders import find_dataset

    path = Path(value)
    if path.is_dir():
        return path
    raw = os.environ.get("nnUNet_raw")
    if raw is None:
        raise WeakDatasetError(f"dataset '{value}' not found: no such folder, and $nnUNet_raw is not set to look up "
                               "names and ids in; give the dataset's folder or set nnUNet_raw")
    try:
        return find_dataset(raw, value)
    except WeakDatasetError as e:
        raise WeakDatasetError(f"{e} (or give the dataset's folder)") from None


def _output_folder(value: str) -> Path:
    path = Path(value)
    raw = os.environ.get("nnUNet_raw")
    if len(path.parts) == 1 and raw:
        return Path(raw) / value
    return path


def _case_list(values: list[str] | None) -> list[str]:
    """Case names given inline or as files with one name per line."""
    names: list[str] = []
    for value in values or []:
        if Path(value).is_file():
            names += [line.strip() for line in Path(value).read_text().splitlines() if line.strip()]
        else:
            names.append(value)
    return names


def _add_common(p: argparse.ArgumentParser, input_help: str = "dense raw dataset: folder, name or id") -> None:
    p.add_argument("-i", required=True, help=input_help)
    p.add_argument("-o", required=True, help="output DatasetXXX_Name folder (bare names go to $nnUNet_raw)")
    p.add_argument("--seed", type=_INDEX, default=0, help="random seed (default 0); same seed, same dataset")
    p.add_argument("--exclude-cases", nargs="+", metavar="CASE_OR_FILE",
                   help="leave these cases out (e.g. a held-out test split)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output folder")


def _build(args, kind: str, annotate, parameters: dict, cases=None, dense: bool = True, reads=()) -> dict:
    """Derive the weak dataset ``-o`` from ``-i`` (which must be dense unless ``dense`` is False)."""
    from nnunet_weak.dataset import RawDataset
    from nnunet_weak.derive import build_weak_dataset

    source = RawDataset(_dataset_folder(args.i))
    if dense:
        source.require_dense(f"nnunet-weak {args.command}")
    cases = list(source.cases() if cases is None else cases)
    excluded = set(_case_list(args.exclude_cases))
    unknown = excluded - set(cases)
    if unknown:
        raise WeakDatasetError(f"--exclude-cases names cases not in {source.name}: {sorted(unknown)[:5]}")
    cases = [c for c in cases if c not in excluded]
    sidecar = build_weak_dataset(source, _output_folder(args.o), kind, annotate, parameters, args.seed,
                                 cases=cases, overwrite=args.overwrite, reads=reads)
    t = sidecar["totals"]
    print(f"wrote {_output_folder(args.o)}: {t['cases']} cases, {t['labelled_cases']} with annotation, "
          f"{100 * t['annotated_fraction']:.2f} % of voxels annotated, {t['slices']} slices, {t['clicks']} clicks"
          + (f", {t['scribbles']} scribbles {t['scribble_length_mm'] / 1000:.2f} m long" if t["scribbles"] else ""))
    return sidecar


def cmd_slices(args) -> None:
    from nnunet_weak.derive import preset_annotator, slices_annotator

    _distinct(args.axes, "--axes")
    _distinct(args.orientations, "--orientations")
    if args.preset:
        given = [flag for flag, value in (("--count", args.count), ("--every", args.every), ("--axes", args.axes),
                                          ("--orientations", args.orientations)) if value]
        if given or args.same_count:
            raise WeakDatasetError(f"--preset {args.preset} fixes the slices; drop "
                                   f"{', '.join(given or ['--same-count'])} or drop --preset")
        annotate, parameters = preset_annotator(args.preset)
        parameters["preset"] = args.preset
    else:
        if (args.count is None) == (args.every is None):
            raise WeakDatasetError("give one of --count N or --every K (or --preset)")
        if args.axes is not None and args.orientations is not None:
            raise WeakDatasetError("give --axes or --orientations, not both")
        parameters = {"axes": args.axes, "orientations": args.orientations, "count": args.count,
                      "every": args.every, "same_count": args.same_count}
        if args.axes is None and args.orientations is None:
            parameters["axes"] = [0]
        annotate = slices_annotator(**parameters)
    _build(args, "sparse_slices", annotate, parameters)


def cmd_points(args) -> None:
    from nnunet_weak.derive import points_annotator

    parameters = {"protocol": "pa-seg-7", "margin": args.margin, "jitter": args.jitter,
                  "min_object_voxels": args.min_object_voxels}
    _build(args, "points", points_annotator(args.margin, args.jitter, args.min_object_voxels), parameters)


def cmd_scribbles(args) -> None:
    from nnunet_weak.derive import scribbles_annotator

    _distinct(args.axes, "--axes")
    _distinct(args.orientations, "--orientations")
    parameters = {"protocol": "scribblebench", "axes": args.axes, "orientations": args.orientations,
                  "slice_share": args.slice_share, "thickness": args.thickness}
    if args.axes is None and args.orientations is None:
        parameters["axes"] = [0]
    annotate = scribbles_annotator(parameters["axes"], args.orientations, args.slice_share, args.thickness)
    _build(args, "scribbles", annotate, parameters)


def cmd_semi(args) -> None:
    from nnunet_weak.dataset import RawDataset
    from nnunet_weak.derive import first_cases, pick_labelled, semi_supervised_annotator

    source = RawDataset(_dataset_folder(args.i))
    source.require_dense("nnunet-weak semi")
    cases = [c for c in source.cases() if c not in set(_case_list(args.exclude_cases))]
    names = _case_list(args.labelled_cases) or None
    if args.first is not None:
        names = first_cases(source, cases, args.first)
    labelled = pick_labelled(source, cases, args.seed, count=args.labelled, fraction=args.fraction, names=names)
    parameters = {"labelled": args.labelled, "fraction": args.fraction, "first": args.first,
                  "labelled_cases": labelled}
    _build(args, "semi_supervised", semi_supervised_annotator(labelled), parameters)


def cmd_import_sparse(args) -> None:
    from nnunet_weak.dataset import RawDataset
    from nnunet_weak.derive import user_sparse_annotator

    source = RawDataset(_dataset_folder(args.i))
    classes = {value: name for name, value in source.labels.items()}
    if args.unannotated_value in classes and not args.unannotated_value_is_a_class:
        raise WeakDatasetError(
            f"--unannotated-value {args.unannotated_value} is the class '{classes[args.unannotated_value]}' in "
            f"{source.folder / 'dataset.json'}: every voxel of that class would become ignore. Give the value your "
            "viewer saves for unlabelled voxels, or add --unannotated-value-is-a-class if you mean it")
    parameters = {"unannotated_value": args.unannotated_value}
    sidecar = _build(args, "user_sparse", user_sparse_annotator(args.unannotated_value), parameters, dense=False)
    if args.unannotated_value in classes:
        changed = sum(r.get("class_voxels_made_ignore", 0) for r in sidecar["cases"].values())
        print(f"{changed} voxels of class '{classes[args.unannotated_value]}' ({args.unannotated_value}) became "
              "ignore (--unannotated-value-is-a-class)")


def cmd_import_points(args) -> None:
    from nnunet_weak.dataset import RawDataset
    from nnunet_weak.derive import user_points_annotator

    source = RawDataset(_dataset_folder(args.i))
    if not Path(args.points).is_dir():
        raise WeakDatasetError(f"--points {args.points} is not a folder; give the folder holding <case>.mrk.json "
                               f"or <case>{source.file_ending} point maps")
    parameters = {"points": str(Path(args.points).resolve()), "background_value": args.background_value}
    _build(args, "user_points", user_points_annotator(args.points, args.background_value), parameters,
           cases=source.image_cases(), dense=False, reads=[args.points])


def cmd_expand_points(args) -> None:
    from nnunet_weak.annotations.point_expansion import check_thresholds
    from nnunet_weak.dataset import RawDataset
    from nnunet_weak.derive import build_weak_dataset, expanded_points_annotator

    source = RawDataset(_dataset_folder(args.i))
    try:  # before any worker starts, so nothing is written
        check_thresholds(args.threshold, args.background_threshold)
    except ValueError as e:
        raise WeakDatasetError(f"{e} (--threshold, --background-threshold)") from None
    parameters = {"points_dataset": str(source.folder.resolve()), "threshold": args.threshold, "lambda": args.lam,
                  "iterations": args.iterations, "outside_seeds": args.outside_seeds,
                  "background_threshold": args.background_threshold}
    annotate = expanded_points_annotator(source, args.threshold, args.lam, args.iterations, args.outside_seeds,
                                         args.background_threshold)
    sidecar = build_weak_dataset(source, _output_folder(args.o), "points_expanded", annotate, parameters, None,
                                 overwrite=args.overwrite, processes=args.np)
    t = sidecar["totals"]
    print(f"wrote {_output_folder(args.o)}: {t['cases']} cases, {100 * t['annotated_fraction']:.2f} % of voxels "
          f"labelled by {t['clicks']} clicks")


def cmd_pseudo_label(args) -> None:
    from nnunet_weak.annotations.pseudo_labels import check_confidence
    from nnunet_weak.dataset import RawDataset
    from nnunet_weak.derive import build_weak_dataset, pseudo_label_annotator

    source = RawDataset(_dataset_folder(args.i))
    try:  # before any worker starts, so nothing is written
        check_confidence(args.confidence)
    except ValueError as e:
        raise WeakDatasetError(f"{e} (--confidence)") from None
    predictions = Path(args.p)
    if not predictions.is_dir():
        raise WeakDatasetError(f"predictions folder {predictions} not found; write it with nnUNetv2_predict -i "
                               f"{source.folder / 'imagesTr'} -o {predictions} ... --save_probabilities")
    parameters = {"weak_dataset": str(source.folder.resolve()), "predictions": str(predictions.resolve()),
                  "confidence": args.confidence}
    sidecar = build_weak_dataset(source, _output_folder(args.o), "pseudo_labels",
                                 pseudo_label_annotator(source, predictions, args.confidence), parameters, None,
                                 overwrite=args.overwrite, processes=args.np, reads=[predictions])
    filled = sum(r["pseudo_labelled_voxels"] for r in sidecar["cases"].values())
    t = sidecar["totals"]
    print(f"wrote {_output_folder(args.o)}: {t['cases']} cases, {100 * t['annotated_fraction']:.2f} % of voxels "
          f"labelled by people, {100 * filled / t['total_voxels']:.2f} % pseudo-labelled")


def cmd_convert(args) -> None:
    from nnunet_weak.dataset.convert import PUBLIC_DATASETS, convert_public_dataset

    output = _output_folder(args.o or PUBLIC_DATASETS[args.kind].name)
    convert_public_dataset(args.kind, args.i, output, overwrite=args.overwrite)
    print(f"wrote {output}: {len(list((output / 'labelsTr').iterdir()))} cases")


def cmd_check(args) -> None:
    from nnunet_weak.preprocessing_check import check_dataset_against_plans

    check_dataset_against_plans(args.d, args.c, args.p)
    print(f"OK: sparse annotations of dataset {args.d} survive {args.c} preprocessing ({args.p}).")


def cmd_evaluate(args) -> None:
    from nnunet_weak.evaluation.evaluate import evaluate_folders

    evaluate_folders(args.pred, _dataset_folder(args.ref), args.o, tolerance_mm=args.tolerance,
                     allow_missing=args.allow_missing)
    print(Path(args.o, "summary.md").read_text())


def cmd_show(args) -> None:
    from nnunet_weak.visualise import render_cases

    dense = _dataset_folder(args.dense) if args.dense else None
    written = render_cases(_dataset_folder(args.i), args.cases, args.o, dense=dense, predictions=args.pred)
    for path in written:
        print(path)


def cmd_ext_trainer_path(args) -> None:
    from nnunet_weak.ext_trainer import EXPERIMENTAL_FOLDER, SHIM_FOLDER

    print(EXPERIMENTAL_FOLDER if args.experimental else SHIM_FOLDER)


def cmd_demo(args) -> None:
    from nnunet_weak.demo import run_demo

    run_demo(Path(args.o), iterations=args.iterations, overwrite=args.overwrite, trainer=args.tr,
             baseline=args.baseline)


def _trainers_override(values: list[str] | None) -> dict[str, tuple[str, ...]]:
    """``KIND=TRAINER[,TRAINER...]`` items (``KIND=`` for the stock trainer alone) as a mapping."""
    from nnunet_weak.benchmark.protocol import KEYS

    override = {}
    for item in values or []:
        kind, sep, trainers = item.partition("=")
        if not sep or kind not in KEYS:
            raise WeakDatasetError(f"--trainers-override takes KIND=TRAINER[,TRAINER] with KIND one of "
                                   f"{', '.join(KEYS)}, got '{item}'")
        override[kind] = tuple(t for t in trainers.split(",") if t)
    return override


def _target_spacing(values: list[float] | None) -> list[float] | None:
    """``--target-spacing``: one value for every axis, or three; positive millimetres."""
    if values is None:
        return None
    if len(values) not in (1, 3) or not all(v > 0 for v in values):
        raise WeakDatasetError(f"--target-spacing takes one or three positive spacings in mm (nnU-Net's axis "
                               f"order), got {' '.join(f'{v:g}' for v in values)}")
    return values * 3 if len(values) == 1 else values


def cmd_benchmark(args) -> None:
    from nnunet_weak.benchmark.cost import load_cost_model
    from nnunet_weak.benchmark.protocol import DEFAULT_PROTOCOL, read_protocol
    from nnunet_weak.benchmark.report import write_report
    from nnunet_weak.benchmark.runner import run_benchmark

    arms = read_protocol(Path(args.protocol or DEFAULT_PROTOCOL), _trainers_override(args.trainers_override))
    cost_model = load_cost_model(args.cost_model)
    reuse = Path(args.reuse_scores) if args.reuse_scores else None
    if reuse is not None and not reuse.is_dir():
        raise WeakDatasetError(f"--reuse-scores {reuse}: no such folder; give a folder of archived scores "
                               "(benchmarks/archive.py's, e.g. benchmarks/scores)")
    archive = Path(args.archive) if args.archive else None
    if archive is not None and archive.exists() and not archive.is_dir():
        raise WeakDatasetError(f"--archive {archive} is a file; give a folder (made if missing)")
    spacing = _target_spacing(args.target_spacing)
    if args.folds is not None:
        from nnunet_weak.benchmark.folds import run_cross_validation

        rows = run_cross_validation(_dataset_folder(args.d), Path(args.o), arms, args.schedule, args.repeats,
                                    cost_model, args.folds, jobs=args.jobs, reuse=reuse, archive=archive,
                                    target_spacing=spacing, train=not args.no_train)
    else:
        rows = run_benchmark(_dataset_folder(args.d), Path(args.o), arms, args.schedule, args.repeats, cost_model,
                             test_cases=_case_list(args.test_cases) or None, jobs=args.jobs, reuse=reuse,
                             archive=archive, target_spacing=spacing, train=not args.no_train)
    folder = write_report(rows, Path(args.o), cost_model)
    print((folder / "report.md").read_text().split("\n## Ours against stock", 1)[0])  # table and what to buy
    print(f"report: {folder} (report.md, results.csv, results.json, dice_vs_cost.png)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="nnunet-weak", description="Weak annotations for nnU-Net v2.",
                                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def add(name, func, help_text, example):
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=f"example:\n  {example}",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.set_defaults(func=func)
        return p

    p = add("convert", cmd_convert, "turn a public dataset's download into a dense nnU-Net raw dataset",
            "nnunet-weak convert hippocampus -i Task04_Hippocampus -o Dataset004_Hippocampus\n"
            "  nnunet-weak convert left-atrium -i LA2018 -o Dataset005_LeftAtrium   (LA2018: imagesTr/, labelsTr/, "
            "train.list)")
    p.add_argument("kind", choices=["hippocampus", "left-atrium"],
                   help="hippocampus: MSD Task04 (imagesTr/, labelsTr/ hippocampus_NNN.nii.gz); left-atrium: 2018 "
                   "Atrial Segmentation Challenge (imagesTr/, labelsTr/ la_<ID>.nii.gz and train.list, whose order "
                   "is kept in dataset.json's train_list)")
    p.add_argument("-i", required=True, help="the downloaded source folder")
    p.add_argument("-o", help="output DatasetXXX_Name folder (bare names go to $nnUNet_raw; default "
                   "Dataset004_Hippocampus / Dataset005_LeftAtrium)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output folder")

    p = add("slices", cmd_slices, "simulate sparse slices from dense labels",
            "nnunet-weak slices -i Dataset004_Hippocampus -o Dataset104_HippoSlices "
            "--orientations axial coronal --count 3")
    _add_common(p)
    p.add_argument("--axes", type=_INDEX, nargs="+", help="array axes (z=0, y=1, x=2) to annotate slices along")
    p.add_argument("--orientations", nargs="+", choices=["axial", "coronal", "sagittal"],
                   help="planes to annotate, found from the image orientation")
    p.add_argument("--count", type=_COUNT, help="slices per axis, evenly spaced from a random offset")
    p.add_argument("--every", type=_COUNT, help="every k-th slice from a random offset")
    p.add_argument("--same-count", action="store_true", help="other axes get as many slices as the first")
    p.add_argument("--preset", help="a published protocol: 3d2dct (every 12th axial slice + as many coronal)")

    p = add("points", cmd_points, "simulate PA-Seg's seven clicks per object from dense labels",
            "nnunet-weak points -i Dataset004_Hippocampus -o Dataset204_HippoPoints")
    _add_common(p)
    p.add_argument("--margin", type=_INDEX, default=2, help="voxels between an object's extent and its outside clicks")
    p.add_argument("--jitter", type=_NON_NEGATIVE, default=0.0,
                   help="max voxels the inside click strays from the centre")
    p.add_argument("--min-object-voxels", type=_COUNT, default=1, help="objects smaller than this get no clicks")

    p = add("scribbles", cmd_scribbles, "simulate scribbles from dense labels (ScribbleBench's protocol): per "
            "slice and class, background included, one stroke inside and one along the boundary",
            "nnunet-weak scribbles -i Dataset004_Hippocampus -o Dataset404_HippoScribbles --slice-share 0.25")
    _add_common(p)
    axes = p.add_mutually_exclusive_group()
    axes.add_argument("--axes", type=_INDEX, nargs="+", help="array axes (z=0, y=1, x=2) whose slices get scribbles "
                      "(default 0)")
    axes.add_argument("--orientations", nargs="+", choices=["axial", "coronal", "sagittal"],
                      help="planes whose slices get scribbles, found from the image orientation")
    p.add_argument("--slice-share", type=_SHARE, default=1.0, help="share of each axis's slices that get "
                   "scribbles, evenly spaced from a random offset (default 1: every slice, as ScribbleBench)")
    p.add_argument("--thickness", type=_COUNT, default=3, help="stroke width in voxels of the slice's finest "
                   "spacing, odd (default 3, as ScribbleBench); the brush is round in mm")

    p = add("semi", cmd_semi, "keep a few cases labelled, make the others unlabelled (all ignore)",
            "nnunet-weak semi -i Dataset004_Hippocampus -o Dataset304_HippoSemi --labelled 4")
    _add_common(p)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--labelled", type=_COUNT, help="number of labelled cases, drawn with --seed")
    g.add_argument("--fraction", type=_SHARE, help="fraction of labelled cases, drawn with --seed")
    g.add_argument("--labelled-cases", nargs="+", metavar="CASE_OR_FILE", help="exactly these cases")
    g.add_argument("--first", type=_COUNT, help="the first N cases of dataset.json's train_list (left atrium protocol)")

    p = add("import-sparse", cmd_import_sparse, "convert your own sparse label maps (e.g. slices drawn in a viewer)",
            "nnunet-weak import-sparse -i Dataset050_MySparse -o Dataset150_MySparseWeak --unannotated-value 255")
    _add_common(p, "raw dataset whose labelsTr holds your partial label maps: folder, name or id")
    p.add_argument("--unannotated-value", type=_INDEX, required=True,
                   help="label value meaning 'nobody labelled this'")
    p.add_argument("--unannotated-value-is-a-class", action="store_true", help="the unannotated value is also a "
                   "class in dataset.json and you mean it: that class's voxels become ignore (their count is printed)")

    p = add("import-points", cmd_import_points, "convert your own clicks (point maps or 3D Slicer .mrk.json)",
            "nnunet-weak import-points -i Dataset060_MyImages -o Dataset160_MyClicks --points clicks/")
    _add_common(p, "raw dataset with the images (imagesTr/ and dataset.json; labelsTr/ is not needed)")
    p.add_argument("--points", required=True, help="folder with <case>.mrk.json or <case><file_ending> point maps")
    p.add_argument("--background-value", type=_COUNT, default=255, help="point-map value of a background click")

    p = add("expand-points", cmd_expand_points, "grow clicks into partial labels by geodesic distance (PA-Seg)",
            "nnunet-weak expand-points -i Dataset204_HippoPoints -o Dataset205_HippoPointsExpanded -np 2")
    p.add_argument("-i", required=True, help="a points dataset made by 'nnunet-weak points' or 'import-points'")
    p.add_argument("-o", required=True, help="output DatasetXXX_Name folder (bare names go to $nnUNet_raw)")
    p.add_argument("--threshold", type=float, default=0.2, help="foreground below this share of the box's "
                   "largest geodesic distance (PA-Seg: 0.2)")
    p.add_argument("--lam", type=_number(float, 0, 1), default=0.5,
                   help="lambda: 0 Euclidean, 1 intensity-weighted (0.5)")
    p.add_argument("--iterations", type=_COUNT, default=4, help="rounds of the six distance sweeps (4)")
    p.add_argument("--outside-seeds", action="store_true", help="a voxel joins an object only if geodesically "
                   "closer to its inside click than to its outside clicks (not in PA-Seg; fewer wrong labels)")
    p.add_argument("--background-threshold", type=float, default=None, help="inside the boxes too, background "
                   "at or above this share of the box's largest geodesic distance from every object (not in "
                   "PA-Seg; off by default)")
    p.add_argument("-np", type=_COUNT, default=1, help="cases processed in parallel (1)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output folder")

    p = add("pseudo-label", cmd_pseudo_label, "fill a weak dataset's ignore voxels with a trained network's "
            "confident predictions (self-training)",
            "nnunet-weak pseudo-label -i Dataset304_HippoSemi -p teacher_predictions/ -o Dataset305_HippoPseudo")
    p.add_argument("-i", required=True, help="weak dataset made by nnunet-weak (people's labels are kept)")
    p.add_argument("-p", required=True, help="folder of <case>.npz written by nnUNetv2_predict --save_probabilities "
                   "on the weak dataset's imagesTr")
    p.add_argument("-o", required=True, help="output DatasetXXX_Name folder (bare names go to $nnUNet_raw)")
    p.add_argument("--confidence", type=_SHARE, default=0.9, help="fill a voxel only where the largest class "
                   "probability is at least this (0.9); the rest stays ignore")
    p.add_argument("-np", type=_COUNT, default=1, help="cases processed in parallel (1)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output folder")

    p = add("check", cmd_check, "check that nnU-Net's resampling keeps sparse slices where they are",
            "nnunet-weak check -d 104 -c 3d_fullres -p nnUNetPlans")
    p.add_argument("-d", required=True, help="dataset id or name (plans must exist in $nnUNet_preprocessed)")
    p.add_argument("-c", default="3d_fullres", help="configuration (default 3d_fullres)")
    p.add_argument("-p", default="nnUNetPlans", help="plans identifier (default nnUNetPlans)")

    p = add("evaluate", cmd_evaluate, "score predictions against DENSE labels: Dice, HD95 (mm), surface Dice",
            "nnunet-weak evaluate -pred predictions/ -ref Dataset004_Hippocampus -o scores/")
    p.add_argument("-pred", required=True, help="folder of predicted label maps")
    p.add_argument("-ref", required=True, help="dense raw dataset (its labelsTr and dataset.json are used)")
    p.add_argument("-o", required=True, help="output folder for summary.json and summary.md")
    p.add_argument("--tolerance", type=_number(float, 0, low_open=True), default=1.0,
                   help="surface Dice tolerance in mm (default 1)")
    p.add_argument("--allow-missing", "--chill", action="store_true", help="score the predictions present when some "
                   "reference cases have none, e.g. a held-out split (default: an error, as nnU-Net's evaluation "
                   "without --chill)")

    p = add("benchmark", cmd_benchmark, "train stock and our trainers on weak labels of several kinds and budgets "
            "derived from a dense dataset; report Dice against annotator hours (documentation/benchmark.md)",
            "nnunet-weak benchmark -d Dataset004_Hippocampus -o hippo_benchmark --schedule cpu-2k --repeats 2")
    p.add_argument("-d", required=True, help="dense raw dataset: folder, name or id")
    p.add_argument("-o", required=True, help="work folder, one per benchmark (finished steps in it are reused)")
    p.add_argument("--protocol", help="TOML file of annotation kinds and budgets (default: the bundled "
                   "nnunet_weak/benchmark/default_protocol.toml)")
    p.add_argument("--schedule", default="cpu-1k", choices=["smoke", "cpu-1k", "cpu-2k", "cpu-4k", "gpu-stock"],
                   help="smoke 2x5, cpu-1k/2k/4k 20/40/80 x 50 iterations on CPU plans; gpu-stock: nnU-Net's "
                   "own (untested) (default cpu-1k)")
    p.add_argument("--repeats", type=_COUNT, default=1, help="trainings of every run (default 1)")
    p.add_argument("--jobs", type=_COUNT, default=1, help="runs (training, prediction, scoring) at a time; the CPU "
                   "schedules train on one thread each, so up to one per core (default 1)")
    p.add_argument("--trainers-override", nargs="+", metavar="KIND=TRAINER[,TRAINER]",
                   help="our trainers for a kind instead of the protocol's (KIND= for stock alone)")
    p.add_argument("--cost-model", help="JSON or TOML file of annotator seconds overriding the defaults")
    p.add_argument("--reuse-scores", metavar="FOLDER", help="archived scores of earlier runs (benchmarks/archive.py's "
                   "files): a run with the same weak labels voxel for voxel, trainer, schedule and repeat on the same "
                   "held-out cases is taken from there instead of trained again")
    p.add_argument("--archive", metavar="FOLDER", help="keep every run scored here in FOLDER (made if missing) in "
                   "the form --reuse-scores reads, so that another machine or a later benchmark takes it instead of "
                   "training again (may be the --reuse-scores folder)")
    p.add_argument("--no-train", action="store_true", help="report the runs scored already (here or in "
                   "--reuse-scores) without planning, training or predicting anything; the report lists the runs "
                   "still to train (e.g. a look at a long benchmark from a second shell)")
    p.add_argument("--target-spacing", nargs="+", type=float, metavar="MM",
                   help="plan at this spacing instead of nnU-Net's own (nnU-Net's -overwrite_target_spacing, its "
                   "axis order; one value for all axes), e.g. large images on a CPU schedule; predictions are "
                   "scored at the images' own spacing")
    split = p.add_mutually_exclusive_group()
    split.add_argument("--test-cases", nargs="+", metavar="CASE_OR_FILE",
                       help="held-out test cases (default: every fifth case in sorted order)")
    # nnU-Net's five folds (nnunet_adapter.CROSSVAL_FOLDS; not imported here: it loads torch)
    split.add_argument("--folds", nargs="+", type=int, choices=range(5), metavar="FOLD",
                       help="nnU-Net's 5-fold cross-validation instead of held-out cases: the folds to run (0-4; "
                       "'--folds 0 1 2 3 4' for all), each holding out nnU-Net's validation cases of the fold and "
                       "deriving the weak labels from its training cases alone; scores pooled over the folds")

    p = add("show", cmd_show, "render image, dense truth, weak annotation and prediction of cases to PNG",
            "nnunet-weak show -i Dataset104_HippoSlices --dense Dataset004_Hippocampus --pred pred/ -o pngs/")
    p.add_argument("-i", required=True, help="weak (or dense) raw dataset")
    p.add_argument("-o", required=True, help="output folder for <case>.png")
    p.add_argument("--cases", nargs="+", help="cases to render (default: the first three)")
    p.add_argument("--dense", help="dense raw dataset for the truth column")
    p.add_argument("--pred", help="folder of predictions for the prediction column")

    p = add("ext-trainer-path", cmd_ext_trainer_path, "print the folder to put in nnUNet_extTrainer",
            'export nnUNet_extTrainer="$(nnunet-weak ext-trainer-path)"')
    p.add_argument("--experimental", action="store_true", help="print the opt-in folder of the experimental and "
                   'diagnostic trainers instead: export nnUNet_extTrainer="$nnUNet_extTrainer:$(nnunet-weak '
                   'ext-trainer-path --experimental)"')

    p = add("demo", cmd_demo, "bundled hippocampus cases -> sparse slices -> stock nnUNetv2 commands -> a model "
            "scored on held-out cases against their dense truth (about 10 minutes on 2 CPU cores)",
            "nnunet-weak demo -o nnunet_weak_demo")
    p.add_argument("-o", default="nnunet_weak_demo", help="work folder (default ./nnunet_weak_demo)")
    p.add_argument("--iterations", type=_COUNT, default=DEMO_ITERATIONS,
                   help=f"training iterations (default {DEMO_ITERATIONS}; fewer give a worse model)")
    p.add_argument("-tr", default="nnUNetTrainerBenchmark", help="trainer (default nnUNetTrainerBenchmark, the stock "
                   "trainer, which fits the ten minutes; nnUNetTrainerCrossTeach, made for sparse slices, takes "
                   "about 2.2x as long per iteration)")
    p.add_argument("--baseline", action="store_true", help="with -tr of ours: also train the stock trainer on the "
                   "same slices and show both")
    p.add_argument("--overwrite", action="store_true", help="replace an existing work folder")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # --help, or a usage error already printed in one line
        return e.code if isinstance(e.code, int) else 2
    try:
        args.func(args)
    except WeakDatasetError as e:
        print(f"nnunet-weak {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"nnunet-weak {args.command}: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
