"""Paired comparison of two scored runs on the same test cases (per case: Dice averaged over classes).

    python benchmarks/paired.py benchmarks/work/scores/RUN_A benchmarks/work/scores/RUN_B

Prints the mean Dice of each, the mean per-case difference A - B with its standard error, on how
many cases A is better, and the two-sided p value of Wilcoxon's signed-rank test (SciPy). The
folders are those ``nnunet-weak evaluate`` writes (``summary.json``); both must score the same cases.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from scipy.stats import wilcoxon


def case_dice(folder: Path) -> dict[str, float]:
    per_case = json.loads((folder / "summary.json").read_text())["per_case"]
    return {case: sum(c["dice"] for c in classes.values()) / len(classes) for case, classes in per_case.items()}


def compare(a: dict[str, float], b: dict[str, float]) -> dict:
    if set(a) != set(b):
        raise ValueError(f"the runs scored different cases: only in A {sorted(set(a) - set(b))[:5]}, "
                         f"only in B {sorted(set(b) - set(a))[:5]}")
    cases = sorted(a)
    diff = [a[c] - b[c] for c in cases]
    n = len(diff)
    mean = sum(diff) / n
    se = math.sqrt(sum((d - mean) ** 2 for d in diff) / (n - 1) / n) if n > 1 else float("nan")
    return {"cases": n, "mean_a": sum(a.values()) / n, "mean_b": sum(b.values()) / n, "difference": mean,
            "standard_error": se, "a_better": sum(d > 0 for d in diff), "p_wilcoxon": float(wilcoxon(diff).pvalue)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    args = parser.parse_args(argv)
    try:
        r = compare(case_dice(args.a), case_dice(args.b))
    except (OSError, KeyError, ValueError) as error:
        sys.exit(f"paired.py: {error}")
    print(f"A {args.a.name}: {r['mean_a']:.4f}\nB {args.b.name}: {r['mean_b']:.4f}\n"
          f"A - B = {r['difference']:+.4f} (standard error {r['standard_error']:.4f}); A better on "
          f"{r['a_better']} of {r['cases']} cases; Wilcoxon signed-rank p = {r['p_wilcoxon']:.3g}")


if __name__ == "__main__":
    main()
