"""Action wrappers of :mod:`glimpse_env.wrappers`: the maps both ways, the spaces, check_env."""

from __future__ import annotations

import itertools
import os
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gymnasium_check_env
from stable_baselines3.common.env_checker import check_env

import glimpse_env
from glimpse_env import GlimpseEnv, GlimpseVectorEnv
from glimpse_env.wrappers import (
    BoxAction,
    BoxVectorAction,
    MultiDiscreteAction,
    MultiDiscreteVectorAction,
    box_to_dict,
    dict_to_box,
    dict_to_multidiscrete,
    grid_centres,
    multidiscrete_to_dict,
    wrap_actions,
)

N_CLASSES = 4


def small_data(n: int = 12, side: int = 16, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, side, side), dtype=np.uint8), np.arange(n) % N_CLASSES


def small_env(**kwargs) -> GlimpseEnv:
    images, labels = small_data()
    return GlimpseEnv(images=images, labels=labels, glimpse_size=4, n_scales=2, n_glimpses=3, **kwargs)


def mnist_dir() -> Path | None:
    for candidate in (os.environ.get("GLIMPSE_DATA_DIR"), Path(__file__).resolve().parents[2] / "shared" / "data"):
        if candidate and (Path(candidate) / "mnist").is_dir():
            return Path(candidate)
    return None


# ---- the pure maps ------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_grid_centres_tile_the_square(n):
    centres = grid_centres(n)
    assert centres.shape == (n,) and centres.dtype == np.float32
    np.testing.assert_allclose(np.diff(centres), 2.0 / n, rtol=1e-6)  # equal cells
    np.testing.assert_allclose(centres, -centres[::-1], atol=1e-7)  # symmetric about 0
    assert -1 < centres.min() and centres.max() < 1
    if n % 2:
        assert 0.0 in centres  # odd grids can look at the centre, where episodes start


def test_multidiscrete_round_trip_is_exact_on_every_action():
    n = 5
    actions = np.array(list(itertools.product(range(n), range(n), range(N_CLASSES))))  # (n*n*N, 3)
    as_dict = multidiscrete_to_dict(actions, n, N_CLASSES)
    assert as_dict["location"].shape == (len(actions), 2) and as_dict["location"].dtype == np.float32
    np.testing.assert_array_equal(as_dict["label"], actions[:, 2])
    np.testing.assert_array_equal(as_dict["location"][:, 0], grid_centres(n)[actions[:, 0]])  # x from the column cell
    np.testing.assert_array_equal(as_dict["location"][:, 1], grid_centres(n)[actions[:, 1]])  # y from the row cell
    np.testing.assert_array_equal(dict_to_multidiscrete(as_dict, n), actions)


def test_dict_to_multidiscrete_quantises_to_the_nearest_centre():
    n = 7
    rng = np.random.default_rng(1)
    action = {"location": rng.uniform(-1, 1, (50, 2)).astype(np.float32), "label": rng.integers(0, N_CLASSES, 50)}
    back = multidiscrete_to_dict(dict_to_multidiscrete(action, n), n, N_CLASSES)
    assert np.abs(back["location"] - action["location"]).max() <= 1.0 / n + 1e-6
    np.testing.assert_array_equal(back["label"], action["label"])
    corners = dict_to_multidiscrete({"location": np.array([[-1.0, 1.0]]), "label": np.array([0])}, n)
    np.testing.assert_array_equal(corners, [[0, n - 1, 0]])  # the borders fall in the outer cells


def test_box_maps_both_ways_with_leading_axes():
    rng = np.random.default_rng(2)
    action = {"location": rng.uniform(-1, 1, (2, 3, 2)).astype(np.float32), "label": rng.integers(0, N_CLASSES, (2, 3))}
    box = dict_to_box(action, N_CLASSES)
    assert box.shape == (2, 3, 2 + N_CLASSES) and box.dtype == np.float32
    assert set(np.unique(box[..., 2:])) == {-1.0, 1.0}
    back = box_to_dict(box, N_CLASSES)
    np.testing.assert_array_equal(back["location"], action["location"])
    np.testing.assert_array_equal(back["label"], action["label"])
    raw = np.array([1.7, -3.0, 0.1, 0.9, -0.2, 0.3], np.float32)  # out-of-range location, scores
    mapped = box_to_dict(raw, N_CLASSES)
    np.testing.assert_array_equal(mapped["location"], [1.0, -1.0])
    assert mapped["label"] == 1


def test_bad_actions_and_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="grid cells must lie in"):
        multidiscrete_to_dict(np.array([5, 0, 0]), 5, N_CLASSES)
    with pytest.raises(ValueError, match="class indices"):
        multidiscrete_to_dict(np.array([0, 0, N_CLASSES]), 5, N_CLASSES)
    with pytest.raises(ValueError, match="integer array"):
        multidiscrete_to_dict(np.array([0.0, 0.0, 1.0]), 5, N_CLASSES)
    with pytest.raises(ValueError, match="class scores"):
        box_to_dict(np.zeros(3), N_CLASSES)
    with pytest.raises(ValueError, match="grid_size"):
        MultiDiscreteAction(small_env(), grid_size=0)
    with pytest.raises(TypeError, match="action space is Dict"):
        BoxAction(gym.make("CartPole-v1"))
    with pytest.raises(ValueError, match="encoding"):
        wrap_actions(small_env(), "continuous")


# ---- the wrappers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["multidiscrete", "box"])
def test_wrapper_steps_the_env_with_the_mapped_action(encoding):
    """Two envs with one seed: the wrapped one fed flat actions, the bare one fed their Dict images."""
    wrapped, bare = wrap_actions(small_env(), encoding, grid_size=5), small_env()
    assert isinstance(wrapped, MultiDiscreteAction if encoding == "multidiscrete" else BoxAction)
    assert wrapped.observation_space == bare.observation_space
    wrapped.action_space.seed(3)
    for episode in range(2):
        obs_w, _ = wrapped.reset(seed=10 + episode)
        obs_b, _ = bare.reset(seed=10 + episode)
        done = False
        while not done:
            np.testing.assert_array_equal(obs_w["glimpse"], obs_b["glimpse"])
            np.testing.assert_array_equal(obs_w["location"], obs_b["location"])
            action = wrapped.action_space.sample()
            np.testing.assert_array_equal(wrapped.reverse_action(wrapped.action(action))[..., :2 if encoding == "box" else 3],
                                          action[..., :2 if encoding == "box" else 3])  # fmt: skip
            obs_w, r_w, done, _, info_w = wrapped.step(action)
            obs_b, r_b, done_b, _, info_b = bare.step(wrapped.action(action))
            assert (r_w, done, info_w) == (r_b, done_b, info_b)


@pytest.mark.parametrize("encoding", ["multidiscrete", "box"])
def test_sb3_check_env_passes_on_wrapped_envs(encoding):
    env = wrap_actions(small_env(), encoding, grid_size=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SB3 calls a float (K, G, G) Box "an image"; we pass our own extractor
        check_env(env, warn=True)
        gymnasium_check_env(env, skip_render_check=True)


@pytest.mark.parametrize("encoding", ["multidiscrete", "box"])
def test_gymnasium_check_env_passes_on_a_registered_id_wrapped(encoding):
    data_dir = mnist_dir()
    if data_dir is None:
        pytest.skip("MNIST not found in $GLIMPSE_DATA_DIR or <repo>/../shared/data")
    env = wrap_actions(gym.make("GlimpseMNIST-v0", max_images=50, data_dir=data_dir, download=False), encoding)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gymnasium_check_env(env, skip_render_check=True)  # it remakes the env from env.spec, which must name the wrapper
    assert type(env.spec.make()) is type(env)


@pytest.mark.parametrize("env_id", sorted(glimpse_env.ENV_IDS))
def test_sb3_check_env_passes_on_registered_ids(env_id):
    data_dir = mnist_dir()
    if data_dir is None:
        pytest.skip("MNIST not found in $GLIMPSE_DATA_DIR or <repo>/../shared/data")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for encoding, split in [("multidiscrete", "train"), ("box", "val")]:  # val: fixed canvases
            check_env(wrap_actions(gym.make(env_id, split=split, max_images=50, data_dir=data_dir, download=False), encoding))


@pytest.mark.parametrize("encoding", ["multidiscrete", "box"])
def test_vector_wrapper_maps_each_row(encoding):
    images, labels = small_data()
    kwargs = dict(images=images, labels=labels, glimpse_size=4, n_scales=2, n_glimpses=3)
    wrapped = wrap_actions(GlimpseVectorEnv(4, **kwargs), encoding, grid_size=5)
    bare = GlimpseVectorEnv(4, **kwargs)
    single = wrap_actions(small_env(), encoding, grid_size=5)
    assert isinstance(wrapped, MultiDiscreteVectorAction if encoding == "multidiscrete" else BoxVectorAction)
    assert wrapped.single_action_space == single.action_space
    assert wrapped.action_space.shape == (4, *single.action_space.shape)
    assert wrapped.metadata["autoreset_mode"] == bare.metadata["autoreset_mode"]
    wrapped.reset(seed=5)
    bare.reset(seed=5)
    wrapped.action_space.seed(6)
    for _ in range(7):  # across an autoreset
        actions = wrapped.action_space.sample()
        mapped = wrapped.actions(actions)
        for i in range(4):  # row i maps as the single wrapper maps it
            row = single.action(actions[i])
            np.testing.assert_array_equal(mapped["location"][i], row["location"])
            assert mapped["label"][i] == row["label"]
        out_w, out_b = wrapped.step(actions), bare.step(mapped)
        for a, b in zip(out_w[:4], out_b[:4]):
            if isinstance(a, dict):
                for key in a:
                    np.testing.assert_array_equal(a[key], b[key])
            else:
                np.testing.assert_array_equal(a, b)
