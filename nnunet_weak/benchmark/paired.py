"""Paired comparison of scored runs on the same test cases (per case: Dice averaged over classes).

The per-case test compares trained networks, not methods: two trainings of one command can
differ with a tiny p. Given repeats, each case's Dice is averaged over a side's runs before the
test, and the difference of the two sides' means is set beside the largest difference between
two runs of one side (:func:`run_spread`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from scipy.stats import wilcoxon


def case_dice(run: Path) -> dict[str, float]:
    """Per case, Dice averaged over classes, from a score folder (``summary.json`` written by
    ``nnunet-weak evaluate``) or an archived summary file."""
    per_case = json.loads((run if run.is_file() else run / "summary.json").read_text())["per_case"]
    return {case: sum(c["dice"] for c in classes.values()) / len(classes) for case, classes in per_case.items()}


def check_same_cases(a: dict[str, float], b: dict[str, float]) -> None:
    if set(a) != set(b):
        raise ValueError(f"the runs scored different cases: only in A {sorted(set(a) - set(b))[:5]}, "
                         f"only in B {sorted(set(b) - set(a))[:5]}")


def compare(a: dict[str, float], b: dict[str, float]) -> dict:
    """Mean Dice of each side, mean per-case difference A - B with its standard error, on how many
    cases A is better, and Wilcoxon's signed-rank p (1 where every difference is zero)."""
    check_same_cases(a, b)
    cases = sorted(a)
    diff = [a[c] - b[c] for c in cases]
    n = len(diff)
    mean = sum(diff) / n
    se = math.sqrt(sum((d - mean) ** 2 for d in diff) / (n - 1) / n) if n > 1 else float("nan")
    p = float(wilcoxon(diff).pvalue) if any(diff) else 1.0  # SciPy refuses all-zero differences
    return {"cases": n, "mean_a": sum(a.values()) / n, "mean_b": sum(b.values()) / n, "difference": mean,
            "standard_error": se, "a_better": sum(d > 0 for d in diff), "p_wilcoxon": p}


def mean_over_runs(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each case's Dice averaged over repeated runs of one method (all must score the same cases)."""
    for run in runs[1:]:
        check_same_cases(runs[0], run)
    return {case: sum(run[case] for run in runs) / len(runs) for case in runs[0]}


def run_spread(runs: list[dict[str, float]]) -> float:
    """The largest difference between the mean Dice of two runs of one method (0 for a single run)."""
    means = [sum(run.values()) / len(run) for run in runs]
    return max(means) - min(means)
