"""Annotator time of a weak dataset, from its ``annotation.json`` sidecar: a transparent model.

Pure Python (no nnU-Net, no images): the sidecar counts slices, clicks, scribbles and labelled
cases; what the dense truth shows on each slice comes in as ``slice_objects`` (how many
foreground classes each slice holds, along each array axis, per case).

The model, seconds:

- a contoured slice: ``contour_seconds`` per foreground class on it, ``empty_slice_seconds`` if it
  holds none (someone still has to look and confirm);
- a click: ``click_seconds``;
- a scribble: ``scribble_seconds`` per stroke plus ``scribble_mm_seconds`` per mm of its length;
- a fully labelled case: ``full_case_seconds`` when given, else every slice along array axis 0 that
  holds foreground, contoured once per class on it (``contour_seconds`` each).

Each default says whether it was measured, derived or assumed, and where it comes from
(``../shared/annotation_time.md`` collects the sources; documentation/benchmark.md discusses them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from nnunet_weak.benchmark import toml
from nnunet_weak.errors import WeakDatasetError


@dataclass(frozen=True)
class Rate:
    """Seconds per unit, with how the number was obtained and its source."""

    seconds: float | None
    status: str  # "measured", "derived", "assumed" or "given" (from a cost file)
    source: str


DEFAULTS: dict[str, Rate] = {
    "contour_seconds": Rate(60.0, "assumed", "no measured time for one contoured medical slice was found; taken "
                            "from 54-79 s per accurate outline of a natural-image object (Bearman et al., What's "
                            "the Point, ECCV 2016, sec. 1)"),
    "empty_slice_seconds": Rate(5.0, "assumed", "looking through a slice that holds none of the classes; no source"),
    "click_seconds": Rate(2.0, "derived", "extreme clicking, 7 s for 4 clicks on an object, ~1.75 s a click, "
                          "rounded up (Papadopoulos et al., ICCV 2017, abstract; natural images)"),
    "scribble_seconds": Rate(5.0, "assumed", "one stroke; no measured medical scribble time was found (3-10 s "
                             "plausible)"),
    "scribble_mm_seconds": Rate(0.0, "assumed", "per mm of stroke on top of the per-stroke time; off by default"),
    "full_case_seconds": Rate(None, "derived", "contoured foreground slices along axis 0 x classes on each x "
                              "contour_seconds; measured whole cases take 479-840 s (McGrath et al. IJCARS 2020; "
                              "PMID 26494877) to 600-1500 s (Chlebus et al. 2019; Mikhailov et al. 2024)"),
}

# sidecar kinds whose labelled cases were labelled in full (every voxel)
FULL_CASE_KINDS = ("semi_supervised",)


def load_cost_model(path: Path | None) -> dict[str, Rate]:
    """The defaults, with the rates a JSON or TOML file ``path`` gives replaced (``{"click_seconds":
    3}``). Raises WeakDatasetError naming the file and key for anything else."""
    if path is None:
        return dict(DEFAULTS)
    path = Path(path)
    try:
        text = path.read_text()
        given = json.loads(text) if path.suffix == ".json" else toml.loads(text)
    except OSError as e:
        raise WeakDatasetError(f"cost model {path} cannot be read ({e.strerror})") from None
    except (ValueError, toml.TOMLDecodeError) as e:
        raise WeakDatasetError(f"cost model {path} is not valid {'JSON' if path.suffix == '.json' else 'TOML'} "
                               f"({e})") from None
    if not isinstance(given, dict):
        raise WeakDatasetError(f"cost model {path} must map rate names to seconds, e.g. {{\"click_seconds\": 3}}")
    model = dict(DEFAULTS)
    for key, value in given.items():
        if key not in DEFAULTS:
            raise WeakDatasetError(f"cost model {path}: key '{key}' is not a rate; use {', '.join(DEFAULTS)}")
        if type(value) not in (int, float) or value < 0 or (key == "full_case_seconds" and value == 0):
            raise WeakDatasetError(f"cost model {path}: key '{key}' must be a number of seconds, at least 0"
                                   f"{' (above 0)' if key == 'full_case_seconds' else ''}, got {value!r}")
        model[key] = Rate(float(value), "given", str(path))
    return model


def annotator_seconds(sidecar: dict, slice_objects: dict[str, dict[str, list[int]]],
                      model: dict[str, Rate] | None = None) -> dict[str, float]:
    """Estimated annotator seconds of the weak dataset whose sidecar content is ``sidecar``, per
    component (``contours``, ``empty_slices``, ``clicks``, ``scribbles``, ``full_cases``) and in
    all (``total``).

    ``slice_objects[case][axis]`` lists, for every slice along array axis ``axis`` ("0", "1", "2"),
    how many foreground classes the dense truth holds on it; needed for the cases with slices or
    fully labelled cases."""
    rate = {k: r.seconds for k, r in (model or DEFAULTS).items()}
    parts = dict.fromkeys(("contours", "empty_slices", "clicks", "scribbles", "full_cases"), 0.0)
    full = sidecar["kind"] in FULL_CASE_KINDS
    for case, record in sidecar["cases"].items():
        for axis, indices in record.get("slices", {}).items():
            objects = [_objects(slice_objects, case, axis)[i] for i in indices]
            parts["contours"] += sum(objects) * rate["contour_seconds"]
            parts["empty_slices"] += sum(n == 0 for n in objects) * rate["empty_slice_seconds"]
        parts["clicks"] += len(record.get("clicks", [])) * rate["click_seconds"]
        parts["scribbles"] += (record.get("scribbles", 0) * rate["scribble_seconds"]
                               + record.get("scribble_length_mm", 0.0) * rate["scribble_mm_seconds"])
        if full and record["labelled"]:
            parts["full_cases"] += (rate["full_case_seconds"] if rate["full_case_seconds"] is not None
                                    else sum(_objects(slice_objects, case, "0")) * rate["contour_seconds"])
    parts["total"] = sum(parts.values())
    return parts


def _objects(slice_objects: dict[str, dict[str, list[int]]], case: str, axis: str) -> list[int]:
    try:
        return slice_objects[case][axis]
    except KeyError:
        raise WeakDatasetError(f"case {case}: no per-slice class counts along axis {axis} from the dense truth; "
                               "the weak dataset was not derived from the dense dataset benchmarked") from None
