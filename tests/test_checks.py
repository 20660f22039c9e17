from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import pytest

from agents.cli import check_at_least, check_positive
from agents.trainer import TrainConfig
from glimpse_env import GlimpseEnv, check_env_id
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


@pytest.mark.parametrize(
    "env_id, message",
    [
        ("GlimpseCIFAR-v0", "unknown env id 'GlimpseCIFAR-v0'; registered glimpse environments: .*'GlimpseMNIST-v0'"),
        ("CartPole-v1", "env id 'CartPole-v1' is not a glimpse environment .its entry point is 'gymnasium.envs"),
        (3, "unknown env id 3;"),
    ],
)
def test_check_env_id_refuses_what_is_not_a_glimpse_environment(env_id, message):
    with pytest.raises(ValueError, match=message):
        check_env_id(env_id)


def test_check_env_id_accepts_a_users_registered_glimpse_environment():
    gym.register("UserGlimpse-v0", entry_point="glimpse_env.env:GlimpseEnv",
                 vector_entry_point="glimpse_env.vector:GlimpseVectorEnv", kwargs=dict(task="translated"))  # fmt: skip
    try:
        assert check_env_id("UserGlimpse-v0").kwargs == dict(task="translated")
        assert TrainConfig(env="UserGlimpse-v0").train_shift == 0  # a canvas task: no shift by default
    finally:
        del gym.registry["UserGlimpse-v0"]


def test_check_env_id_refuses_a_glimpse_env_without_the_native_vector_env():
    # the trainers build the native vector env; without it train_sb3 used to refuse the id up front
    gym.register("SingleGlimpse-v0", entry_point="glimpse_env.env:GlimpseEnv")
    try:
        with pytest.raises(ValueError, match="SingleGlimpse-v0' is not a glimpse environment .* its vector entry point None"):
            check_env_id("SingleGlimpse-v0")
    finally:
        del gym.registry["SingleGlimpse-v0"]


def test_script_setting_checks_name_the_flag_the_bound_and_what_else_is_allowed():
    @dataclass
    class Args:
        beam: int = 1
        limit: int | None = None
        lr: float = 1e-3

    check_at_least(Args(), 1, "beam", "limit")  # None passes: an optional setting
    with pytest.raises(ValueError, match=r"^--limit must be >= 1 sentences \(or none: all\), got 0$"):
        check_at_least(Args(limit=0), 1, "beam", "limit", allowed=" sentences (or none: all)")
    with pytest.raises(ValueError, match="^--lr must be > 0, got nan$"):
        check_positive(Args(lr=float("nan")), "lr")
