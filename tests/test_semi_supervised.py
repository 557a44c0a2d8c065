import numpy as np
import pytest

from nnunet_weak.annotations import choose_labelled_cases

CASES = [f"case_{i:03d}" for i in range(50)]


def test_count_and_fraction_pick_distinct_cases_deterministically():
    a = choose_labelled_cases(CASES, np.random.default_rng(1), count=4)
    assert len(set(a)) == 4 and set(a) <= set(CASES)
    assert a == choose_labelled_cases(list(reversed(CASES)), np.random.default_rng(1), count=4)
    assert len(choose_labelled_cases(CASES, np.random.default_rng(1), fraction=0.1)) == 5
    assert len(choose_labelled_cases(CASES, np.random.default_rng(1), fraction=0.001)) == 1


def test_names_keep_order_and_must_exist():
    assert choose_labelled_cases(CASES, np.random.default_rng(0), names=["case_007", "case_002"]) == [
        "case_007", "case_002"]
    with pytest.raises(ValueError, match="not in the dataset"):
        choose_labelled_cases(CASES, np.random.default_rng(0), names=["nope"])


@pytest.mark.parametrize("kwargs", [{"count": 0}, {"count": 51}, {"fraction": 1.5}, {}])
def test_bad_requests_raise(kwargs):
    with pytest.raises(ValueError):
        choose_labelled_cases(CASES, np.random.default_rng(0), **kwargs)
