"""2018 Atrial Segmentation Challenge (as in ../shared/data/left_atrium) -> dense nnU-Net raw dataset.

    python dataset_conversion/left_atrium.py SOURCE_FOLDER $nnUNet_raw/Dataset005_LeftAtrium

SOURCE_FOLDER holds imagesTr/la_<ID>.nii.gz, labelsTr/la_<ID>.nii.gz (LGE-MRI, 0.625 mm,
0 background, 1 left atrium) and train.list, whose order the semi-supervised protocol uses
(the first 16, 8 or 4 cases labelled). The order is kept in dataset.json under "train_list".
Cite Xiong et al., Medical Image Analysis 67 (2021).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nnunet_weak.dataset.convert import write_dense_dataset

LABELS = {"background": 0, "left_atrium": 1}
CHANNELS = {"0": "LGE-MRI"}
REFERENCE = "2018 Atrial Segmentation Challenge; Xiong et al., Medical Image Analysis 67 (2021)"


def source_cases(source: Path) -> list[tuple[str, Path, Path]]:
    order = [line.strip() for line in (source / "train.list").read_text().splitlines() if line.strip()]
    cases = []
    for case_id in order:
        name = case_id if case_id.startswith("la_") else f"la_{case_id}"
        image, label = source / "imagesTr" / f"{name}.nii.gz", source / "labelsTr" / f"{name}.nii.gz"
        if not image.is_file() or not label.is_file():
            raise SystemExit(f"train.list names {case_id} but {image} or {label} is missing")
        cases.append((name, image, label))
    return cases


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path)
    parser.add_argument("output", type=Path, help="e.g. $nnUNet_raw/Dataset005_LeftAtrium")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    cases = source_cases(args.source)
    write_dense_dataset(args.output, cases, CHANNELS, LABELS, overwrite=args.overwrite,
                        extra={"name": "LeftAtrium", "reference": REFERENCE, "train_list": [c[0] for c in cases]})


if __name__ == "__main__":
    main()
