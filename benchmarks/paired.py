"""Paired comparison of scored runs on the same test cases (per case: Dice averaged over classes).

    python benchmarks/paired.py benchmarks/work/scores/RUN_A benchmarks/work/scores/RUN_B
    python benchmarks/paired.py RUN_A RUN_A_REPEAT --vs RUN_B RUN_B_REPEAT
    python benchmarks/paired.py benchmarks/scores/RUN_A__20261124-2012.json benchmarks/work/scores/RUN_B

Prints the mean Dice of each, the mean per-case difference A - B with its standard error, on how
many cases A is better, and the two-sided p value of Wilcoxon's signed-rank test (SciPy). A run is
a folder that ``nnunet-weak evaluate`` wrote (``summary.json``) or a run's archived copy of it in
``benchmarks/scores/`` (``benchmarks/archive.py``); all must score the same cases.

The per-case test compares trained networks, not methods: two trainings of one command can
differ with a tiny p (RESULTS.md). Given repeats (several runs on a side, ``--vs`` before B's
runs), each case's Dice is averaged over a side's runs before the test, and the difference of
the two sides' means is set beside the largest difference between two runs of one side.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nnunet_weak.benchmark.paired import case_dice, compare, mean_over_runs, run_spread


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+", help="A's run(s); without --vs exactly two runs, A and B")
    parser.add_argument("--vs", type=Path, nargs="+", help="B's run(s), when a side has repeats")
    args = parser.parse_args(argv)
    if args.vs is None and len(args.runs) != 2:
        parser.error("give two runs, A and B, or A's runs then --vs and B's runs")
    side_a, side_b = (args.runs, args.vs) if args.vs else (args.runs[:1], args.runs[1:])
    try:
        runs_a, runs_b = [case_dice(f) for f in side_a], [case_dice(f) for f in side_b]
        r = compare(mean_over_runs(runs_a), mean_over_runs(runs_b))
    except (OSError, KeyError, ValueError) as error:
        sys.exit(f"paired.py: {error}")
    for label, folders, runs, mean in (("A", side_a, runs_a, r["mean_a"]), ("B", side_b, runs_b, r["mean_b"])):
        each = ", ".join(f"{f.name} {sum(run.values()) / len(run):.4f}" for f, run in zip(folders, runs, strict=True))
        print(f"{label} {each}" if len(runs) == 1 else f"{label} mean of {len(runs)} runs {mean:.4f}: {each}")
    print(f"A - B = {r['difference']:+.4f} (standard error {r['standard_error']:.4f}); A better on "
          f"{r['a_better']} of {r['cases']} cases; Wilcoxon signed-rank p = {r['p_wilcoxon']:.3g}")
    if len(runs_a) > 1 or len(runs_b) > 1:
        spread = max(run_spread(runs_a), run_spread(runs_b))
        verdict = "larger than" if abs(r["difference"]) > spread else "within"
        print(f"runs of one side differ by up to {spread:.4f}: the difference is {verdict} that spread")


if __name__ == "__main__":
    main()
