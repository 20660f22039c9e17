import numpy as np
import pytest

from glimpse_env import GlimpseEnv
from glimpse_env.checks import check_int


def test_check_int_returns_a_python_int_for_python_and_numpy_integers():
    assert check_int("n", 3) == 3
    value = check_int("n", np.int64(0), low=0)
    assert value == 0 and type(value) is int


@pytest.mark.parametrize("value", [True, 2.0, "3", None, 0])
def test_check_int_names_the_value_and_what_is_allowed(value):
    with pytest.raises(ValueError, match=f"^glimpses must be an integer >= 1 \\(per episode\\), got {value!r}$"):
        check_int("glimpses", value, 1, " (per episode)")


def test_scale_factor_error_says_why_it_must_be_whole():
    with pytest.raises(ValueError, match="scale_factor must be an integer >= 1 .so that every coarse pixel averages"):
        GlimpseEnv(images=np.zeros((2, 28, 28), np.uint8), labels=np.zeros(2, np.int64), scale_factor=1.5)
