"""How the stock ``nnUNetv2_*`` commands find our trainers.

nnunetv2 (>= 2.8.0) looks for a trainer class it does not ship in the folders listed in the
``nnUNet_extTrainer`` environment variable, importing every module there as a top-level
module. :data:`SHIM_FOLDER` holds a single module that re-exports :mod:`nnunet_weak.trainers`,
so the classes nnU-Net finds are the very classes of our package (pointing the variable at the
package folder itself would import our modules a second time under other names).

Installing nnunet_weak adds ``nnunet_weak_ext_trainer.pth`` to site-packages; Python runs it at
start-up and it calls :func:`register`, so every process of the environment (DDP workers and
export pools included, which inherit the variable anyway) sees the folder. Set
``nnunet_weak_no_auto_register=1`` to switch that off and manage the variable yourself;
``nnunet-weak ext-trainer-path`` prints the folder.

:data:`SHIM_FOLDER` exposes the recommended trainers and the predict-only ensembles. The
experimental and diagnostic ones (:mod:`nnunet_weak.trainers.experimental`) are in
:data:`EXPERIMENTAL_FOLDER`, which nothing adds automatically: a user opts in with
``export nnUNet_extTrainer="$nnUNet_extTrainer:$(nnunet-weak ext-trainer-path --experimental)"``.

Nothing here may import torch or nnU-Net: it runs in every Python process of the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

SHIM_FOLDER = Path(__file__).resolve().parent / "shim"
EXPERIMENTAL_FOLDER = Path(__file__).resolve().parent / "experimental_shim"
ENV_VAR = "nnUNet_extTrainer"
OPT_OUT_VAR = "nnunet_weak_no_auto_register"


def register(environ: dict | None = None) -> None:
    """Append :data:`SHIM_FOLDER` to ``nnUNet_extTrainer`` unless it is there or the user opted out."""
    environ = os.environ if environ is None else environ
    if environ.get(OPT_OUT_VAR, "").strip() not in ("", "0"):
        return
    folders = [p for p in environ.get(ENV_VAR, "").split(os.pathsep) if p.strip()]
    if str(SHIM_FOLDER) not in folders:
        environ[ENV_VAR] = os.pathsep.join([*folders, str(SHIM_FOLDER)])


def with_experimental(value: str) -> str:
    """``nnUNet_extTrainer`` value ``value`` with :data:`EXPERIMENTAL_FOLDER` appended (once)."""
    folders = [p for p in value.split(os.pathsep) if p.strip()]
    if str(EXPERIMENTAL_FOLDER) not in folders:
        folders.append(str(EXPERIMENTAL_FOLDER))
    return os.pathsep.join(folders)
