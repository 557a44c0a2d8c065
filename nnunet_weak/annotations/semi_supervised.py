"""Semi-supervised annotation: a few cases fully labelled, the others not at all."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def choose_labelled_cases(
    cases: Sequence[str],
    rng: np.random.Generator,
    count: int | None = None,
    fraction: float | None = None,
    names: Sequence[str] | None = None,
) -> list[str]:
    """Pick the labelled cases: ``count`` of them, a ``fraction`` (rounded, at least 1), or ``names``.

    Random picks come from ``rng`` over the sorted case list, so the result depends only on
    the seed and the set of cases. ``names`` keeps the given order (e.g. the first 16 cases of
    the left atrium's ``train.list``, the standard protocol).
    """
    if sum(x is not None for x in (count, fraction, names)) != 1:
        raise ValueError("give exactly one of count, fraction or names")
    if names is not None:
        missing = sorted(set(names) - set(cases))
        if missing:
            raise ValueError(f"labelled cases {missing[:5]} are not in the dataset")
        return list(dict.fromkeys(names))
    if fraction is not None:
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {fraction}")
        count = max(1, int(round(fraction * len(cases))))
    if not 1 <= count <= len(cases):
        raise ValueError(f"cannot label {count} of {len(cases)} cases")
    ordered = sorted(cases)
    picked = rng.choice(len(ordered), size=count, replace=False)
    return [ordered[i] for i in sorted(picked)]
