"""MSD Task04 hippocampus (as in ../shared/data/hippocampus) -> dense nnU-Net raw dataset.

    python dataset_conversion/hippocampus.py SOURCE_FOLDER $nnUNet_raw/Dataset004_Hippocampus

SOURCE_FOLDER holds imagesTr/hippocampus_NNN.nii.gz and labelsTr/hippocampus_NNN.nii.gz
(single-channel MRI, 1 mm; 0 background, 1 anterior, 2 posterior). Licence CC-BY-SA 4.0;
cite Simpson et al. 2019 (arXiv:1902.09063) and Antonelli et al., Nat. Commun. 13, 4128 (2022).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nnunet_weak.dataset.convert import write_dense_dataset

LABELS = {"background": 0, "anterior": 1, "posterior": 2}
CHANNELS = {"0": "MRI"}
REFERENCE = "MSD Task04_Hippocampus; Simpson et al. 2019 arXiv:1902.09063; Antonelli et al. 2022"


def source_cases(source: Path) -> list[tuple[str, Path, Path]]:
    labels = sorted((source / "labelsTr").glob("hippocampus_*.nii.gz"))
    if not labels:
        raise SystemExit(f"no labelsTr/hippocampus_*.nii.gz in {source}")
    return [(p.name[: -len(".nii.gz")], source / "imagesTr" / p.name, p) for p in labels]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path)
    parser.add_argument("output", type=Path, help="e.g. $nnUNet_raw/Dataset004_Hippocampus")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    write_dense_dataset(args.output, source_cases(args.source), CHANNELS, LABELS, overwrite=args.overwrite,
                        extra={"name": "Hippocampus", "licence": "CC-BY-SA 4.0", "reference": REFERENCE})


if __name__ == "__main__":
    main()
