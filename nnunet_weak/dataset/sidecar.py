"""``annotation.json``: how a weak dataset was made and what its annotation cost.

Written next to ``dataset.json`` in every weak dataset. nnU-Net ignores it; our trainers,
checks and benchmark rows read it. Layout::

    {
      "format_version": 1,
      "kind": "sparse_slices" | "points" | "scribbles" | "semi_supervised" | "user_sparse"
              | "user_points" | "points_expanded" | "pseudo_labels",
      "parameters": {...},          # every option of the command that made it
      "seed": 0,
      "source": "/path/to/dense/Dataset004_Hippocampus",
      "ignore_label": 3,
      "axes": "array order (z, y, x) as read by SimpleITK",
      "cases": {"hippocampus_001": {"labelled": true, "annotated_voxels": 4210, "total_voxels": 61880,
                                    "slices": {"0": [3, 15]}, "clicks": [...],
                                    "scribbles": 120, "scribble_length_mm": 1890.5,
                                    "scribble_slices": {"0": [0, 1, ...]}}},
      "totals": {"cases": 2, "labelled_cases": 2, "annotated_voxels": ..., "annotated_fraction": ...,
                 "slices": ..., "clicks": ..., "scribbles": ..., "scribble_length_mm": ...}

"slices" are fully annotated planes (sparse slices); scribbles lie on planes without filling them,
so their planes are "scribble_slices" and are not counted as "slices".
    }
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from nnunet_weak.errors import WeakDatasetError

SIDECAR_NAME = "annotation.json"
FORMAT_VERSION = 1


def totals(cases: dict[str, dict]) -> dict:
    """Annotation cost summed over cases."""
    annotated = sum(c["annotated_voxels"] for c in cases.values())
    total = sum(c["total_voxels"] for c in cases.values())
    return {
        "cases": len(cases),
        "labelled_cases": sum(bool(c["labelled"]) for c in cases.values()),
        "annotated_voxels": annotated,
        "total_voxels": total,
        "annotated_fraction": annotated / total if total else 0.0,
        "slices": sum(len(v) for c in cases.values() for v in c.get("slices", {}).values()),
        "clicks": sum(len(c.get("clicks", [])) for c in cases.values()),
        "scribbles": sum(c.get("scribbles", 0) for c in cases.values()),
        "scribble_length_mm": round(sum(c.get("scribble_length_mm", 0.0) for c in cases.values()), 3),
    }


def write_sidecar(folder: str | os.PathLike, kind: str, parameters: dict, seed: int | None, source: str,
                  ignore_label: int, cases: dict[str, dict]) -> dict:
    content = {
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "parameters": parameters,
        "seed": seed,
        "source": source,
        "ignore_label": ignore_label,
        "axes": "array order (z, y, x) as read by SimpleITK",
        "cases": cases,
        "totals": totals(cases),
    }
    (Path(folder) / SIDECAR_NAME).write_text(json.dumps(content, indent=1))
    return content


def read_sidecar(folder: str | os.PathLike) -> dict:
    path = Path(folder) / SIDECAR_NAME
    if not path.is_file():
        raise WeakDatasetError(
            f"{folder} has no {SIDECAR_NAME}: it was not made by nnunet-weak. Create it with "
            "'nnunet-weak slices|points|scribbles|semi|import-sparse|import-points'."
        )
    content = json.loads(path.read_text())
    if content.get("format_version") != FORMAT_VERSION:
        raise WeakDatasetError(f"{path}: unsupported format_version {content.get('format_version')}")
    return content


def annotated_axes(sidecar: dict) -> list[int]:
    """Array axes along which some case has sparse slices, sorted."""
    return sorted({int(a) for c in sidecar["cases"].values() for a in c.get("slices", {})})
