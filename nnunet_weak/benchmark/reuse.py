"""Scores of earlier runs that a benchmark can take instead of training again.

A run is the same when its weak labels are the same voxel for voxel (:func:`labels_digest`, over
the decoded label maps, so two derivations written at different times match), its trainer, schedule
and repeat are, it was planned at the same target spacing (``run.target_spacing``; none: nnU-Net's
own), and it scored the same held-out cases. The archive is ``benchmarks/scores``'s kind
(``benchmarks/archive.py``): one ``<protocol>__<trainer>__<schedule>[__repeat-k][__settings]__<stamp>.json``
per run, its ``run`` entry holding ``weak_labels_sha256``. A run with trainer settings in its name
(e.g. ``unlabelled_on_top-1``) is taken only for a run with the same settings, so never a warm start
or a teacher, which the command does not make. ``nnunet-weak benchmark --archive`` writes its runs
there in the same form (:func:`archive_run`), so that another machine or a later session takes them
instead of training again.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path

import numpy as np

from nnunet_weak.benchmark.runs import settings_tag
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


def run_of(file: Path) -> tuple[str, str, int, str] | None:
    """(trainer, schedule, repeat, other settings) of an archived run's file name, the settings as
    :func:`~nnunet_weak.benchmark.runs.settings_tag` names them, less the repeat and the leading
    ``__`` (e.g. ``"unlabelled_on_top-1"``, ``""`` for none); None for a name of another shape."""
    parts = file.name.removesuffix(".json").split("__")
    if len(parts) < 4:
        return None
    trainer, schedule, settings = parts[1], parts[2], parts[3:-1]
    repeats = [int(m.group(1)) for m in map(_REPEAT.fullmatch, settings) if m]
    others = [part for part in settings if not _REPEAT.fullmatch(part)]
    return trainer, schedule, repeats[0] if repeats else 1, "__".join(others)


def find_archived(archive: Path, digest: str, trainer: str, schedule: str, repeat: int,
                  test_cases: list[str], target_spacing: list[float] | None = None,
                  settings: dict[str, str] | None = None) -> Path | None:
    """The first archived run (by file name) with these weak labels, trainer, schedule, repeat,
    trainer ``settings`` (none: a run with none; the repeat is not one of them) and target spacing
    (None: nnU-Net's own) that scored exactly ``test_cases``; None when there is none."""
    wanted = (trainer, schedule, repeat, settings_tag(settings or {}).removeprefix("__"))
    for file in sorted(Path(archive).glob("*.json")):
        if run_of(file) != wanted:
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
