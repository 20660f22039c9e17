"""GlimpseEnv and GlimpseVectorEnv: spaces, timing, rewards, seeding, equivalence, registration, errors."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode

import glimpse_env
from glimpse_env import GlimpseEnv, GlimpseVectorEnv, extract_glimpses


def toy_env(toy_images, **kwargs):
    images, labels = toy_images
    return GlimpseEnv(images=images, labels=labels, glimpse_size=4, n_scales=2, n_glimpses=4, **kwargs)


def act(location, label=0):
    return {"location": np.asarray(location, np.float32), "label": label}


def test_check_env_on_user_images(toy_images):
    check_env(toy_env(toy_images), skip_render_check=False)
    check_env(toy_env(toy_images, start="random", canvas_size=40, n_clutter=3, augment=True))
    check_env(toy_env(toy_images, max_shift=2))
    check_env(toy_env(toy_images, canvas_size=40, max_rotation=10, max_zoom=10))


@pytest.mark.parametrize("env_id", sorted(glimpse_env.ENV_IDS))
def test_every_registered_id(env_id, data_dir):
    env = gym.make(env_id, data_dir=data_dir, max_images=64)
    check_env(env.unwrapped)
    spec = glimpse_env.ENV_IDS[env_id]
    obs, _ = env.reset(seed=3)
    assert obs["glimpse"].shape == (spec["n_scales"], spec["glimpse_size"], spec["glimpse_size"])
    # determinism: the same seed replays the same episode, different seeds differ
    replay = gym.make(env_id, data_dir=data_dir, max_images=64)
    episodes = []
    for e in (env, replay):
        obs, _ = e.reset(seed=11)
        seen = [obs["glimpse"]]
        for t in range(spec["n_glimpses"]):
            obs, *_ = e.step(act([0.3 - 0.1 * t, -0.2 + 0.1 * t]))
            seen.append(obs["glimpse"])
        episodes.append(np.stack(seen))
    np.testing.assert_array_equal(*episodes)
    vec = gym.make_vec(env_id, num_envs=3, data_dir=data_dir, max_images=64)
    assert isinstance(vec.unwrapped, GlimpseVectorEnv)
    assert vec.unwrapped.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP


def test_make_overrides_and_paper_defaults(data_dir):
    env = gym.make("GlimpseClutteredMNIST100-v0", data_dir=data_dir, max_images=20, n_glimpses=3)
    config = env.unwrapped.config
    assert (config.glimpse_size, config.n_scales, config.n_glimpses) == (12, 4, 3)
    assert config.source.image_shape == (1, 100, 100) and config.source.n_clutter == 8


def test_timing_rewards_and_info(toy_images):
    images, labels = toy_images
    env = toy_env(toy_images)
    obs, info = env.reset(seed=0, options={"index": 5})
    assert info == {} and obs["location"].tolist() == [0.0, 0.0]
    np.testing.assert_array_equal(obs["glimpse"], extract_glimpses(images[5:6], np.zeros((1, 2)), 4, 2)[0])
    path = [[0.5, -0.5], [-0.9, 0.1], [1.0, 1.0]]
    for t, location in enumerate(path):  # steps 1 .. T-1 move and return glimpse t + 1
        obs, reward, terminated, truncated, info = env.step(act(location))
        assert (reward, terminated, truncated, info) == (0.0, False, False, {})
        np.testing.assert_allclose(obs["location"], location)
        want = extract_glimpses(images[5:6], np.array([location], np.float32), 4, 2)[0]
        np.testing.assert_array_equal(obs["glimpse"], want)
    true = int(labels[5])
    obs, reward, terminated, truncated, info = env.step(act([-1, -1], label=true))  # step T: judged
    assert (reward, terminated, truncated) == (1.0, True, False)
    assert info == {"label": true, "is_success": True}
    np.testing.assert_allclose(obs["location"], path[-1])  # the last location is ignored
    with pytest.raises(RuntimeError, match="reset"):
        env.step(act([0, 0]))
    env.reset(options={"index": 5})
    for _ in range(4):
        *_, reward, terminated, truncated, info = env.step(act([0, 0], label=(true + 1) % 4))
    assert reward == 0.0 and info["is_success"] is False


def test_random_start_is_seeded(toy_images):
    env = toy_env(toy_images, start="random")
    a = env.reset(seed=4)[0]["location"]
    b = env.reset(seed=4)[0]["location"]
    c = env.reset(seed=5)[0]["location"]
    np.testing.assert_array_equal(a, b)
    assert (a != c).any() and np.abs(a).max() <= 1


@pytest.mark.parametrize(
    "action,message",
    [
        (act([1.5, 0]), r"in \[-1, 1\], got \[1.5, 0.0\]"),
        (act([np.nan, 0]), "finite"),
        ({"location": np.zeros(3, np.float32), "label": 0}, r"shape \(2,\)"),
        ({"location": np.zeros((1, 2), np.float32), "label": 0}, r"shape \(2,\)"),
        (act([0, 0], label=4), r"\[0, 4\), got 4"),
        (act([0, 0], label=-1), "got -1"),
        (act([0, 0], label=1.0), "integer"),
        ({"location": np.zeros(2, np.float32)}, "dict with keys"),
        (np.zeros(3), "dict with keys"),
        ({"location": "ab", "label": 0}, "action must hold numbers"),
    ],
)
def test_bad_actions_are_explained(toy_images, action, message):
    env = toy_env(toy_images)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step(action)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(n_glimpses=0), "n_glimpses"),
        (dict(glimpse_size=-2), "glimpse_size"),
        (dict(start="corner"), "start must be one of"),
        (dict(render_mode="human"), "render_mode"),
        (dict(n_classes=2), "n_classes=2 but the labels go up to 3"),
        (dict(max_images=-1), "max_images must be an integer >= 1 or None, got -1"),
        (dict(max_images=2.5), "max_images must be an integer >= 1 or None, got 2.5"),
        (dict(canvas_size=60.5), "canvas_size must be an integer >= 0 .or None., got 60.5"),
        (dict(canvas_size=40, n_clutter=-1), "n_clutter must be an integer >= 0, got -1"),
        (dict(canvas_size=40, n_clutter=2.5), "n_clutter must be an integer >= 0, got 2.5"),
    ],
)
def test_bad_arguments_are_explained(toy_images, kwargs, message):
    images, labels = toy_images
    args = dict(images=images, labels=labels) | kwargs
    with pytest.raises(ValueError, match=message):
        GlimpseEnv(**args)


@pytest.mark.parametrize("index", [2.7, True, "3"])
def test_reset_index_must_be_an_integer(toy_images, index):
    env = toy_env(toy_images)
    for fine in (np.int64(3), np.array(3), torch.tensor(3)):
        env.reset(options={"index": fine})
    with pytest.raises(ValueError, match="options\\['index'\\] must be an integer image index"):
        env.reset(options={"index": index})


def test_render_draws_the_glimpse(toy_images):
    env = toy_env(toy_images, render_mode="rgb_array")
    env.reset(seed=0)
    env.step(act([0.5, 0.5]))
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    assert frame.shape[0] % 20 == 0 and frame.shape[1] % 24 == 0  # whole-pixel zoom of a 20x24 image
    assert toy_env(toy_images).render() is None


# ---- vector env ----------------------------------------------------------------------------


def run_single_envs(make, seed, n, actions):
    """Reference: n single envs seeded seed + i, autoreset by hand as NEXT_STEP does."""
    envs = [make() for _ in range(n)]
    obs = [e.reset(seed=seed + i)[0] for i, e in enumerate(envs)]
    done = [False] * n
    trace = [(np.stack([o["glimpse"] for o in obs]), np.stack([o["location"] for o in obs]), np.zeros(n), np.zeros(n, bool))]
    for action in actions:
        step_obs, rewards, terms = [], [], []
        for i, e in enumerate(envs):
            if done[i]:
                o, _ = e.reset()
                r, term = 0.0, False
            else:
                o, r, term, _, _ = e.step({"location": action["location"][i], "label": action["label"][i]})
            done[i] = term
            step_obs.append(o), rewards.append(r), terms.append(term)
        trace.append((np.stack([o["glimpse"] for o in step_obs]), np.stack([o["location"] for o in step_obs]),
                      np.array(rewards), np.array(terms)))  # fmt: skip
    return trace


def run_vector_env(env, seed, actions):
    obs, _ = env.reset(seed=seed)
    trace = [(obs["glimpse"], obs["location"], np.zeros(env.num_envs), np.zeros(env.num_envs, bool))]
    for action in actions:
        obs, reward, terminated, truncated, _ = env.step(action)
        trace.append((obs["glimpse"], obs["location"], reward, terminated))
    return trace


@pytest.mark.parametrize(
    "kwargs",
    [dict(), dict(start="random", canvas_size=36, n_clutter=3, augment=True), dict(max_shift=2),
     dict(canvas_size=36, n_clutter=2, max_rotation=15, max_zoom=10, augment=True)],
)  # fmt: skip
def test_vector_env_equals_single_envs(toy_images, kwargs):
    images, labels = toy_images
    common = dict(images=images, labels=labels, glimpse_size=4, n_scales=3, n_glimpses=3) | kwargs
    n, seed = 5, 1234  # fixed: a failure replays
    rng = np.random.default_rng(seed)
    actions = [
        {"location": rng.uniform(-1, 1, (n, 2)).astype(np.float32), "label": rng.integers(0, 4, n)} for _ in range(11)
    ]
    want = run_single_envs(lambda: GlimpseEnv(**common), seed, n, actions)
    got = run_vector_env(GlimpseVectorEnv(n, **common), seed, actions)
    for t, (w, g) in enumerate(zip(want, got)):
        for name, a, b in zip(("glimpse", "location", "reward", "terminated"), w, g):
            np.testing.assert_array_equal(a, b, err_msg=f"{name} differs at step {t}")
    assert sum(t[3].sum() for t in got) == 3 * n  # three episodes ended in each sub-env
    assert sum(t[2].sum() for t in got) > 0  # and some guesses were right


def test_vector_env_equals_single_envs_on_cluttered_mnist(data_dir):
    n, seed = 3, 99
    make = dict(data_dir=data_dir, max_images=100)
    rng = np.random.default_rng(seed)
    actions = [{"location": rng.uniform(-1, 1, (n, 2)).astype(np.float32), "label": rng.integers(0, 10, n)} for _ in range(18)]
    want = run_single_envs(lambda: gym.make("GlimpseClutteredMNIST-v0", **make), seed, n, actions)
    got = run_vector_env(gym.make_vec("GlimpseClutteredMNIST-v0", num_envs=n, **make).unwrapped, seed, actions)
    for w, g in zip(want, got):
        for a, b in zip(w, g):
            np.testing.assert_array_equal(a, b)


def test_vector_info_and_autoreset(toy_images):
    images, labels = toy_images
    env = GlimpseVectorEnv(4, images=images, labels=labels, glimpse_size=4, n_glimpses=2)
    env.reset(seed=0, options={"indices": np.array([0, 1, 2, 3])})
    zeros = {"location": np.zeros((4, 2), np.float32), "label": np.zeros(4, int)}
    _, reward, terminated, _, info = env.step(zeros)
    assert info == {} and not terminated.any()
    guess = {"location": np.zeros((4, 2), np.float32), "label": labels[:4]}
    _, reward, terminated, truncated, info = env.step(guess)
    assert terminated.all() and not truncated.any() and (reward == 1).all()
    np.testing.assert_array_equal(info["label"], labels[:4])
    assert info["_label"].all() and info["is_success"].all()
    # NEXT_STEP: the step after the last one starts new episodes and ignores its (valid) action
    obs, reward, terminated, _, info = env.step({"location": np.full((4, 2), 0.5, np.float32), "label": labels[:4]})
    assert (reward == 0).all() and not terminated.any() and info == {}
    np.testing.assert_array_equal(obs["location"], np.zeros((4, 2)))


def test_vector_actions_are_checked(toy_images):
    images, labels = toy_images
    env = GlimpseVectorEnv(3, images=images, labels=labels, glimpse_size=4)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"env 1"):
        env.step({"location": np.array([[0, 0], [0, 1.2], [0, 0]], np.float32), "label": np.zeros(3, int)})
    with pytest.raises(ValueError, match=r"shape \(3, 2\)"):
        env.step({"location": np.zeros((2, 2), np.float32), "label": np.zeros(3, int)})
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        env.step({"location": np.zeros((3, 2), np.float32), "label": np.zeros(2, int)})
    with pytest.raises(ValueError, match="num_envs"):
        GlimpseVectorEnv(0, images=images, labels=labels)
    with pytest.raises(ValueError, match="indices"):
        env.reset(options={"indices": np.array([0, 1, 99])})


def test_reset_mask_resets_only_those(toy_images):
    images, labels = toy_images
    env = GlimpseVectorEnv(3, images=images, labels=labels, glimpse_size=4, n_glimpses=5)
    env.reset(seed=0)
    env.step({"location": np.full((3, 2), 0.5, np.float32), "label": np.zeros(3, int)})
    obs, _ = env.reset(options={"reset_mask": np.array([True, False, True])})
    np.testing.assert_array_equal(obs["location"], [[0, 0], [0.5, 0.5], [0, 0]])
    env = GlimpseVectorEnv(3, images=images, labels=labels, glimpse_size=4, n_glimpses=5)
    env.reset(seed=0)
    kept = env.rng_states()[1]
    env.reset(seed=7, options={"reset_mask": np.array([True, False, True])})  # reseeds 0 and 2 only
    assert env.rng_states()[1] == kept and env.rng_states()[0] != kept
    for start in ("center", "random"):  # a mask with nothing to reset resets nothing
        env = GlimpseVectorEnv(3, images=images, labels=labels, glimpse_size=4, n_glimpses=5, start=start)
        before, _ = env.reset(seed=0)
        after, _ = env.reset(options={"reset_mask": np.zeros(3, bool)})
        np.testing.assert_array_equal(after["location"], before["location"])


def test_device_mode_returns_tensors_equal_to_numpy(toy_images):
    images, labels = toy_images
    common = dict(images=images, labels=labels, glimpse_size=4, n_scales=2, n_glimpses=3, start="random")
    plain, torch_env = GlimpseVectorEnv(4, **common), GlimpseVectorEnv(4, device="cpu", **common)
    a, _ = plain.reset(seed=5)
    b, _ = torch_env.reset(seed=5)
    assert isinstance(b["glimpse"], torch.Tensor) and b["glimpse"].dtype == torch.float32
    np.testing.assert_array_equal(a["glimpse"], b["glimpse"].numpy())
    for _ in range(4):
        location = np.random.default_rng(0).uniform(-1, 1, (4, 2)).astype(np.float32)
        ra = plain.step({"location": location, "label": np.zeros(4, int)})
        rb = torch_env.step({"location": torch.from_numpy(location), "label": torch.zeros(4, dtype=torch.long)})
        np.testing.assert_array_equal(ra[0]["glimpse"], rb[0]["glimpse"].numpy())
        np.testing.assert_array_equal(ra[1], rb[1].numpy())
        np.testing.assert_array_equal(ra[2], rb[2].numpy())
        assert rb[2] is not rb[3]
        rb[2].fill_(True)  # the caller's masks are its own: editing them changes no later step
        rb[3].fill_(True)


def test_vector_render_and_rng_state_roundtrip(toy_images):
    images, labels = toy_images
    env = GlimpseVectorEnv(2, images=images, labels=labels, glimpse_size=4, render_mode="rgb_array")
    env.reset(seed=0)
    frames = env.render()
    assert len(frames) == 2 and frames[0].dtype == np.uint8
    states = env.rng_states()
    first = env.reset()[0]["glimpse"]
    env.set_rng_states(states)
    np.testing.assert_array_equal(env.reset()[0]["glimpse"], first)
