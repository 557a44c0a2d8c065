"""Keep a scored run's per-case figures in the repository, so that later sessions can pair with it.

    python benchmarks/archive.py benchmarks/work/scores/RUN [benchmarks/work/scores/RUN2 ...]

``benchmarks/work`` (predictions, checkpoints, scores) is not committed, and a fresh machine starts
without it: runs measured on an earlier machine could no longer be compared case by case. This
copies a run's ``summary.json`` (written by ``nnunet-weak evaluate``) to
``benchmarks/scores/<run>__<YYYYmmdd-HHMM>.json``, the time being when it was scored, so that a
repeat of the same command on another machine gets its own file. ``benchmarks/run.py`` archives
every run it scores and adds its command and the training's log files (``"run"``): the same log
names in two files mean one training scored twice, not two trainings. The command is kept as run:
a checkpoint it names by absolute path stays so, since run.py's folder names hash that path. ``benchmarks/paired.py``
takes these files as well as score folders. run.py also records the digest of the run's weak labels,
its seconds per iteration and peak memory, by which ``nnunet-weak benchmark --reuse-scores
benchmarks/scores`` takes the run instead of training it again; ``--weak DATASET FILE...`` records the
digest in files archived before (and ``--target-spacing 2 2 2`` the spacing a left-atrium run was
planned at, which the command also matches).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ARCHIVE = HERE / "scores"


def archive(scores: Path, archive_dir: Path = ARCHIVE, about: dict | None = None) -> Path:
    """Copy ``scores/summary.json`` to ``archive_dir`` under the run's name (run.py names a score
    folder after its run) and scoring time, ``about`` (e.g. the command and the training's log file,
    which tells a re-scored training from a new one) kept under ``"run"``."""
    from nnunet_weak.benchmark.reuse import archive_run

    return archive_run(scores, archive_dir, scores.name, about)


def add_weak_labels_digest(files: list[Path], weak: Path, target_spacing: list[float] | None = None) -> None:
    """Record in archived runs (made before run.py recorded it) the digest of the weak labels they
    trained on, and the ``target_spacing`` they were planned at if given, so that ``nnunet-weak
    benchmark --reuse-scores`` can match them."""
    from nnunet_weak.benchmark.reuse import labels_digest
    from nnunet_weak.dataset import RawDataset

    digest = labels_digest(RawDataset(weak))
    for file in files:
        summary = json.loads(file.read_text())
        summary.setdefault("run", {})["weak_labels_sha256"] = digest
        if target_spacing is not None:
            summary["run"]["target_spacing"] = [float(s) for s in target_spacing]
        partial = file.with_suffix(".json.partial")
        partial.write_text(json.dumps(summary, indent=1, allow_nan=True) + "\n")
        partial.replace(file)
        print(f"{file}: weak_labels_sha256 {digest[:12]}... of {weak.name}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scores", type=Path, nargs="+", help="score folders written by nnunet-weak evaluate "
                        "(with --weak: archived files)")
    parser.add_argument("--to", type=Path, default=ARCHIVE, help="archive folder (default benchmarks/scores)")
    parser.add_argument("--weak", type=Path, help="record in the archived files given the digest of this weak "
                        "dataset's labels, the one they trained on (for runs archived before run.py recorded it)")
    parser.add_argument("--target-spacing", type=float, nargs=3, metavar="MM", help="with --weak: the spacing "
                        "the runs were planned at (run.py's left-atrium protocols: 2 2 2)")
    args = parser.parse_args(argv)
    if args.target_spacing is not None and args.weak is None:
        parser.error("--target-spacing goes with --weak")
    if args.weak is not None:
        add_weak_labels_digest(args.scores, args.weak, args.target_spacing)
        return
    missing = [str(f) for f in args.scores if not (f / "summary.json").is_file()]
    if missing:
        sys.exit(f"archive.py: no summary.json in {', '.join(missing)}; score the run first (nnunet-weak evaluate)")
    for folder in args.scores:
        print(archive(folder, args.to))


if __name__ == "__main__":
    main()
