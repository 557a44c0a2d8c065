"""Users' own clicks: NIfTI point maps and 3D Slicer ``.mrk.json`` markups -> :class:`Click` lists."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from nnunet_weak.annotations.points import Click, attach_outside_clicks

BACKGROUND_NAMES = ("background", "bg", "0")


def clicks_from_point_map(
    point_map: np.ndarray, classes: Sequence[int], background_value: int, spacing: Sequence[float]
) -> list[Click]:
    """Read clicks from a users' point map: 0 = no click, a class value = a click inside an
    object of that class, ``background_value`` = a click on background.

    Each inside click starts an object; each background click is attached to the nearest inside
    click in mm (``spacing`` in array order). Unknown values raise ``ValueError``.
    """
    values = set(np.unique(point_map).tolist()) - {0}
    unknown = sorted(values - set(classes) - {background_value})
    if unknown:
        raise ValueError(
            f"point map holds values {unknown}; expected 0 (no click), classes {list(classes)} "
            f"or {background_value} (background click)"
        )
    inside = [(tuple(int(i) for i in idx), int(point_map[tuple(idx)]))
              for idx in np.argwhere((point_map != 0) & (point_map != background_value))]
    outside = [tuple(int(i) for i in idx) for idx in np.argwhere(point_map == background_value)]
    return attach_outside_clicks(inside, outside, spacing)


def clicks_from_slicer_markups(
    markups: Mapping,
    class_names: Mapping[str, int],
    origin: Sequence[float],
    spacing: Sequence[float],
    direction: Sequence[float],
    shape: Sequence[int],
) -> list[Click]:
    """Read clicks from a 3D Slicer markups file (``*.mrk.json``, schema v1).

    A control point's label names its class (a class name from dataset.json or its number) for
    an inside click, or ``background`` / ``bg`` / ``0`` for a background click; a suffix after a
    dash or space is ignored (``"tumour-1"``). Positions are world coordinates in the file's
    ``coordinateSystem`` (LPS or RAS); ``origin``, ``spacing`` (x, y, z, mm) and the row-major
    ``direction`` place them on the voxel grid of array ``shape`` (z, y, x).

    Raises:
        ValueError: an unknown label, or a point outside the image.
    """
    origin, spacing = np.asarray(origin, float), np.asarray(spacing, float)
    inverse = np.linalg.inv(np.asarray(direction, float).reshape(3, 3))
    lookup = {name.lower(): value for name, value in class_names.items() if value != 0}
    lookup.update({str(value): value for value in class_names.values() if value != 0})
    inside, outside = [], []
    for markup in _markup_list(markups):
        system = markup.get("coordinateSystem", "LPS")
        if system not in ("LPS", "RAS"):
            raise ValueError(f"coordinateSystem '{system}' is not supported; save the markups in LPS or RAS")
        lps_sign = np.array([-1.0, -1.0, 1.0]) if system == "RAS" else 1.0
        points = markup.get("controlPoints", [])
        if not isinstance(points, list):
            raise ValueError("controlPoints must be a list of points")
        for point in points:
            position = point.get("position") if isinstance(point, Mapping) else None
            if not (isinstance(position, list) and len(position) == 3
                    and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in position)):
                raise ValueError(f"control point {point!r:.80} has no position [x, y, z] in mm")
            name = str(point.get("label", "")).strip().lower()
            base = name.replace(" ", "-").split("-")[0]
            world = np.asarray(position, float) * lps_sign
            ijk = np.rint(inverse @ (world - origin) / spacing).astype(int)
            index = tuple(int(i) for i in ijk[::-1])
            if any(not 0 <= i < n for i, n in zip(index, shape, strict=True)):
                raise ValueError(f"control point '{point.get('label')}' at {tuple(float(v) for v in world)} mm lies "
                                 "outside the image")
            if base in BACKGROUND_NAMES or name in BACKGROUND_NAMES:
                outside.append(index)
            elif name in lookup or base in lookup:
                inside.append((index, lookup.get(name, lookup.get(base))))
            else:
                raise ValueError(
                    f"control point label '{point.get('label')}' names no class; use one of "
                    f"{sorted(k for k in class_names if class_names[k] != 0)} or 'background'"
                )
    return attach_outside_clicks(inside, outside, spacing[::-1])


def _markup_list(markups) -> list[Mapping]:
    """The point-list markups of a ``.mrk.json`` document; anything else is refused by name."""
    if not isinstance(markups, Mapping) or not isinstance(markups.get("markups"), list):
        raise ValueError("not a 3D Slicer markups file: it needs a 'markups' list (schema "
                         "https://raw.githubusercontent.com/slicer/slicer/main/Modules/Loadable/Markups/Resources/"
                         "Schema/markups-schema-v1.0.3.json)")
    for markup in markups["markups"]:
        if not isinstance(markup, Mapping):
            raise ValueError(f"markup {markup!r:.60} is not an object")
        kind = markup.get("type", "Fiducial")  # Slicer writes it; hand-made files may leave it out
        if kind != "Fiducial":
            raise ValueError(f"markup of type {kind!r} is not supported; save clicks as a point list (type 'Fiducial')")
    return markups["markups"]
