"""Train and predict every (plans, configuration, trainer) combination in ONE process.

Run by ``tests/test_compatibility_matrix.py`` as ``python compatibility_matrix_driver.py SPEC.json
RESULT.json`` with ``nnUNet_raw/_preprocessed/_results`` set (nnU-Net reads them at import). Each
combination goes through nnU-Net's own ``run_training`` (what ``nnUNetv2_train`` calls: training,
final checkpoint, validation) and nnU-Net's ``nnUNetPredictor`` from the trained model folder (what
``nnUNetv2_predict`` calls). One process instead of two commands per combination keeps the matrix
inside the suite's time budget. A combination that raises is recorded with its message, never
stops the others.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path

import torch


def run_combination(dataset: str, plans: str, configuration: str, trainer: str, images: Path, output: Path) -> dict:
    from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor
    from nnunetv2.paths import nnUNet_results
    from nnunetv2.run.run_training import run_training
    from nnunetv2.utilities.dataset_name_id_conversion import maybe_convert_to_dataset_name

    try:
        run_training(dataset, configuration, 0, trainer, plans, device=torch.device("cpu"))
    except Exception as error:  # noqa: BLE001 - the test decides whether this refusal was expected
        return {"status": "raised", "message": str(error).strip(), "traceback": traceback.format_exc()}
    folder = Path(nnUNet_results) / maybe_convert_to_dataset_name(dataset) / f"{trainer}__{plans}__{configuration}"
    output.mkdir(parents=True, exist_ok=True)
    predictor = nnUNetPredictor(use_mirroring=False, device=torch.device("cpu"), allow_tqdm=False)
    try:
        predictor.initialize_from_trained_model_folder(str(folder), (0,), "checkpoint_final.pth")
        predictor.predict_from_files_sequential(str(images), str(output), save_probabilities=False, overwrite=True)
    except Exception:  # noqa: BLE001
        return {"status": "prediction failed", "traceback": traceback.format_exc()}
    return {"status": "ok", "predictions": sorted(p.name for p in output.glob("*.nii.gz"))}


def main(spec_file: str, result_file: str) -> None:
    spec = json.loads(Path(spec_file).read_text())
    torch.set_num_threads(1)
    results = []
    for plans in spec["plans"]:
        for configuration in spec["configurations"]:
            for trainer in spec["trainers"]:
                output = Path(spec["output"]) / f"{plans}__{configuration}__{trainer}"
                began = time.monotonic()
                result = run_combination(spec["dataset"], plans, configuration, trainer, Path(spec["images"]), output)
                result["seconds"] = round(time.monotonic() - began, 1)
                results.append({"plans": plans, "configuration": configuration, "trainer": trainer, **result})
                print(plans, configuration, trainer, result["status"], result["seconds"], flush=True)
                Path(result_file).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:])
