"""Scores of earlier runs that a benchmark can take instead of training again.

A run is the same when its weak labels are the same voxel for voxel (:func:`labels_digest`, over
the decoded label maps, so two derivations written at different times match), its trainer, schedule
and repeat are, it was planned at the same target spacing (``run.target_spacing``; none: nnU-Net's
own), and it scored the same held-out cases. The archive is ``benchmarks/scores``'s kind
(``benchmarks/archive.py``): one ``<protocol>__<trainer>__<schedule>[__repeat-k]__<stamp>.json`` per
run, its ``run`` entry holding ``weak_labels_sha256``; runs with other settings in their name
(warm starts, teachers, trainer settings) are never taken. ``nnunet-weak benchmark --archive``
writes its runs there in the same form (:func:`archive_run`), so that another machine or a later
session takes them instead of training again.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path

import numpy as np

from nnunet_weak.dataset import RawDataset

_REPEAT = re.compile(r"repeat-(\d+)")


def labels_digest(dataset: RawDataset) -> str:
    """SHA-256 of a weak dataset's labels: its label names and values (the ignore label among them)
    and every case's label map, decoded, in case order."""
    digest = hashlib.sha256(json.dumps(dataset.labels, sort_keys=True).encode())
    for case in dataset.cases():
        label, _ = dataset.read_label(case)
        array = np.ascontiguousarray(np.asarray(label), dtype=np.int32)
        digest.update(f"{case}:{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def run_of(file: Path) -> tuple[str, str, int] | None:
    """(trainer, schedule, repeat) of an archived run's file name; None for a run with settings
    other than a repeat."""
    parts = file.name.removesuffix(".json").split("__")
    if len(parts) < 4:
        return None
    trainer, schedule, settings = parts[1], parts[2], parts[3:-1]
    if len(settings) > 1 or (settings and not _REPEAT.fullmatch(settings[0])):
        return None
    return trainer, schedule, int(_REPEAT.fullmatch(settings[0]).group(1)) if settings else 1


def find_archived(archive: Path, digest: str, trainer: str, schedule: str, repeat: int,
                  test_cases: list[str], target_spacing: list[float] | None = None) -> Path | None:
    """The first archived run (by file name) with these weak labels, trainer, schedule, repeat and
    target spacing (None: nnU-Net's own) that scored exactly ``test_cases``; None when there is none."""
    for file in sorted(Path(archive).glob("*.json")):
        if run_of(file) != (trainer, schedule, repeat):
            continue
        try:
            summary = json.loads(file.read_text())
        except (OSError, ValueError):
            continue
        about = summary.get("run", {})
        if about.get("weak_labels_sha256") == digest and about.get("target_spacing") == target_spacing and \
                sorted(summary.get("per_case", {})) == sorted(test_cases):
            return file
    return None


def archive_run(scores: Path, archive: Path, name: str, about: dict | None = None) -> Path:
    """Copy ``scores/summary.json`` to ``archive/<name>__<YYYYmmdd-HHMM>.json`` (the time it was
    scored, so that a repeat of the same command elsewhere gets its own file), ``about`` kept under
    ``"run"`` and the scoring machine's absolute paths reduced to folder names; written whole or not
    at all, never over another file (the same run name scored in the same minute, e.g. one arm in two
    cross-validation folds, gets ``<stamp>-2``). ``name`` is ``<protocol>__<trainer>__<schedule>[__repeat-k]``
    (:func:`run_of`)."""
    summary_file = Path(scores) / "summary.json"
    summary = json.loads(summary_file.read_text())
    if about:
        summary["run"] = about
    for key in ("reference", "predictions"):
        if key in summary:
            summary[key] = Path(summary[key]).name
    stamp = time.strftime("%Y%m%d-%H%M", time.gmtime(summary_file.stat().st_mtime))
    target, copy = Path(archive) / f"{name}__{stamp}.json", 1
    while target.exists():
        copy += 1
        target = Path(archive) / f"{name}__{stamp}-{copy}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".json.partial")
    partial.write_text(json.dumps(summary, indent=1, allow_nan=True) + "\n")
    partial.replace(target)
    return target
