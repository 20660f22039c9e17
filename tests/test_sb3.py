"""SB3 glue of :mod:`agents.sb3` and ``scripts/train_sb3.py``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from sb3_contrib import RecurrentPPO
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnvWrapper, VecFrameStack, VecMonitor

from agents.ram import GlimpseNetwork
from agents.sb3 import GlimpseExtractor, SB3VecEnv, evaluate, make_sb3_env, wandb_tag
from glimpse_env import GlimpseEnv, GlimpseVectorEnv
from glimpse_env.wrappers import wrap_actions

REPO = Path(__file__).resolve().parents[1]
N_GLIMPSES = 3


def small_data(n: int = 12, side: int = 16, n_classes: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, side, side), dtype=np.uint8), np.arange(n) % n_classes


def env_kwargs(images=None, labels=None):
    if images is None:
        images, labels = small_data()
    return dict(images=images, labels=labels, glimpse_size=4, n_scales=2, n_glimpses=N_GLIMPSES)


def mnist_dir() -> Path | None:
    for candidate in (os.environ.get("GLIMPSE_DATA_DIR"), REPO.parent / "shared" / "data"):
        if candidate and (Path(candidate) / "mnist").is_dir():
            return Path(candidate)
    return None


needs_mnist = pytest.mark.skipif(mnist_dir() is None, reason="MNIST not found in $GLIMPSE_DATA_DIR or <repo>/../shared/data")


# ---- features extractor -----------------------------------------------------------------------------


@pytest.mark.parametrize("n_stack", [1, 3])
def test_extractor_is_the_glimpse_network_frame_by_frame(n_stack):
    torch.manual_seed(0)
    K, G, B = 2, 4, 5
    space = gym.spaces.Dict(
        glimpse=gym.spaces.Box(0, 1, (n_stack * K, G, G), np.float32),  # frames stacked first
        location=gym.spaces.Box(-1, 1, (2 * n_stack,), np.float32),  # frames stacked last
    )
    extractor = GlimpseExtractor(space, what_size=16, where_size=8, output_size=32)
    assert isinstance(extractor.glimpse_net, GlimpseNetwork)
    assert extractor.features_dim == n_stack * 32
    obs = {key: torch.as_tensor(np.stack([space[key].sample() for _ in range(B)])) for key in space.spaces}
    features = extractor(obs)
    assert features.shape == (B, n_stack * 32)
    for s in range(n_stack):  # frame s is f_g of glimpse s at location s
        g_s = extractor.glimpse_net(obs["glimpse"][:, s * K : (s + 1) * K], obs["location"][:, 2 * s : 2 * s + 2])
        torch.testing.assert_close(features[:, s * 32 : (s + 1) * 32], g_s)


def test_extractor_standardises_pixels_when_asked():
    space = gym.spaces.Dict(glimpse=gym.spaces.Box(0, 1, (1, 4, 4), np.float32), location=gym.spaces.Box(-1, 1, (2,), np.float32))
    torch.manual_seed(0)
    raw = GlimpseExtractor(space, what_size=8, where_size=8, output_size=8)
    torch.manual_seed(0)
    standard = GlimpseExtractor(space, what_size=8, where_size=8, output_size=8, pixel_mean=0.1307, pixel_std=0.3081)
    glimpse, location = torch.rand(3, 1, 4, 4), torch.zeros(3, 2)
    torch.testing.assert_close(standard({"glimpse": glimpse, "location": location}),
                               raw({"glimpse": (glimpse - 0.1307) / 0.3081, "location": location}))  # fmt: skip


@pytest.mark.parametrize("argv, message", [
    (["--test-images", "-5"], "--test-images must be >= 1"), (["--train-subset", "0"], "--train-subset must be >= 1"),
    (["--eval-freq", "0"], "--eval-freq must be >= 1"), (["--checkpoint-freq", "-1"], "--checkpoint-freq must be >= 0 env steps (0: no checkpoint.zip), got -1"),
    (["--learning-rate", "-1"], "--learning-rate must be > 0"), (["--env", "CartPole-v1"], "env id 'CartPole-v1' is not a glimpse environment"),
    (["--env", "GlimpseFoo-v0"], "GlimpseMNIST-v0"), (["--device", "gpu"], "unknown device"),
])  # fmt: skip
def test_train_script_refuses_bad_settings(argv, message, capsys, monkeypatch):
    import importlib.util

    from agents.cli import parse_config

    spec = importlib.util.spec_from_file_location("train_sb3_script", REPO / "scripts" / "train_sb3.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "train_sb3_script", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    Args = module.Args
    with pytest.raises(SystemExit):
        parse_config(Args, argv)
    assert message in capsys.readouterr().err


def test_evaluate_refuses_an_empty_image_count():
    with pytest.raises(ValueError, match="n_images must be a positive number"):
        evaluate(None, None, 0)


def test_extractor_rejects_other_observations():
    with pytest.raises(TypeError, match="Dict"):
        GlimpseExtractor(gym.spaces.Box(0, 1, (4,), np.float32))


# ---- the VecEnv adapter equals DummyVecEnv ----------------------------------------------------------


def assert_same_step(ours, theirs):
    (obs_a, rew_a, done_a, infos_a), (obs_b, rew_b, done_b, infos_b) = ours, theirs
    for key in obs_b:
        np.testing.assert_array_equal(obs_a[key], obs_b[key])
        assert obs_a[key].dtype == obs_b[key].dtype
    np.testing.assert_array_equal(rew_a, rew_b)
    assert rew_a.dtype == rew_b.dtype == np.float32
    np.testing.assert_array_equal(done_a, done_b)
    for info_a, info_b in zip(infos_a, infos_b):
        assert info_a.keys() == info_b.keys()
        for key, value in info_b.items():
            if key == "terminal_observation":
                for k in value:
                    np.testing.assert_array_equal(info_a[key][k], value[k])
            else:
                assert info_a[key] == value and type(info_a[key]) is type(value), key


def make_vector(kind: str, n: int, encoding: str):
    if kind == "native":
        return wrap_actions(GlimpseVectorEnv(n, **env_kwargs()), encoding, grid_size=5)
    mode = {"sync_next_step": AutoresetMode.NEXT_STEP, "sync_same_step": AutoresetMode.SAME_STEP}[kind]
    return SyncVectorEnv([lambda: wrap_actions(GlimpseEnv(**env_kwargs()), encoding, grid_size=5)] * n, autoreset_mode=mode)


@pytest.mark.parametrize("encoding", ["multidiscrete", "box"])
@pytest.mark.parametrize("kind", ["native", "sync_next_step", "sync_same_step"])
def test_adapter_equals_dummy_vec_env_step_for_step(kind, encoding):
    n, seed = 4, 123
    ours = SB3VecEnv(make_vector(kind, n, encoding))
    theirs = DummyVecEnv([lambda: wrap_actions(GlimpseEnv(**env_kwargs()), encoding, grid_size=5)] * n)
    ours.seed(seed)
    theirs.seed(seed)
    obs_a, obs_b = ours.reset(), theirs.reset()
    for key in obs_b:
        np.testing.assert_array_equal(obs_a[key], obs_b[key])
    rng = np.random.default_rng(7)
    space = theirs.action_space
    n_done = 0
    for t in range(4 * N_GLIMPSES + 1):  # four episodes per sub-env, each reset on its terminal step
        if encoding == "box":
            actions = rng.uniform(-1, 1, (n, *space.shape)).astype(np.float32)
        else:
            actions = rng.integers(0, space.nvec, (n, len(space.nvec)))
        step_a, step_b = ours.step(actions), theirs.step(actions)
        assert_same_step(step_a, step_b)
        assert step_a[2].all() == ((t + 1) % N_GLIMPSES == 0)  # no transition is spent on a reset step
        n_done += int(step_a[2].sum())
    assert n_done == 4 * n


def test_adapter_seeds_like_dummy_vec_env_and_passes_options():
    images, labels = small_data()
    venv = SB3VecEnv(GlimpseVectorEnv(3, **env_kwargs(images, labels)))
    venv.set_options({"indices": np.array([5, 0, 7])})
    venv.reset()
    glimpse_venv = venv.venv
    np.testing.assert_array_equal(glimpse_venv._episodes.label.numpy(), labels[[5, 0, 7]])
    assert venv.get_attr("num_envs") == [3, 3, 3]
    assert venv.env_is_wrapped(gym.Wrapper) == [False] * 3
    with pytest.raises(TypeError, match="VectorEnv"):
        SB3VecEnv(GlimpseEnv(**env_kwargs(images, labels)))


# ---- evaluation sweeps the split in order ---------------------------------------------------------


class IntensityOracle:
    """A fake model that reads the image index off a constant-grey image and answers ``label(index) + shift``.

    Its mode (``deterministic=True``) looks at grid cell ``(3, 3)``; its samples look at the centre
    cell ``(2, 2)`` and guess the wrong class, so a test can tell which call each column came from.
    """

    def __init__(self, step: int, n_classes: int, shift: int = 0):
        self.step, self.n_classes, self.shift = step, n_classes, shift

    def predict(self, obs, state=None, episode_start=None, deterministic=True):
        glimpse = obs["glimpse"].reshape(len(obs["glimpse"]), -1)
        index = np.rint(glimpse[:, 0] * 255 / self.step).astype(int) - 1
        label = (index + self.shift + (0 if deterministic else 1)) % self.n_classes
        cell = np.full(len(label), 3 if deterministic else 2)
        return np.stack([cell, cell, label], axis=1), state


class RecordActions(VecEnvWrapper):
    def __init__(self, venv):
        super().__init__(venv)
        self.actions = []

    def step_async(self, actions):
        self.actions.append(np.array(actions))
        self.venv.step_async(actions)

    def reset(self):
        return self.venv.reset()

    def step_wait(self):
        return self.venv.step_wait()


@pytest.mark.parametrize("num_envs", [4, 10, 16])
@pytest.mark.parametrize("frame_stack", [1, 2])
def test_evaluate_sees_each_image_once_in_order(num_envs, frame_stack):
    n_images, n_classes, step = 10, 3, 20
    images = (step * (np.arange(n_images) + 1)).astype(np.uint8)[:, None, None].repeat(8, 1).repeat(8, 2)  # (N, 8, 8)
    labels = np.arange(n_images) % n_classes
    kwargs = env_kwargs(images, labels)
    env = VecMonitor(SB3VecEnv(wrap_actions(GlimpseVectorEnv(num_envs, **kwargs), "multidiscrete", grid_size=5)))
    if frame_stack > 1:
        env = VecFrameStack(env, frame_stack, channels_order={"glimpse": "first", "location": "last"})
    env = RecordActions(env)
    for locations, cell in [("sample", 2), ("mode", 3)]:
        env.actions.clear()
        result = evaluate(IntensityOracle(step, n_classes), env, locations=locations)
        assert result == {"error": 0.0, "accuracy": 1.0, "n_images": n_images}  # the class is always the mode
        assert (np.concatenate(env.actions)[:, :2] == cell).all()  # the location is sampled or the mode
    assert evaluate(IntensityOracle(step, n_classes, shift=1), env)["error"] == 100.0
    result = evaluate(IntensityOracle(step, n_classes), env, n_images=7)
    assert result["n_images"] == 7 and result["error"] == 0.0
    with pytest.raises(ValueError, match="locations"):
        evaluate(IntensityOracle(step, n_classes), env, locations="mean")


def test_evaluate_samples_reproducibly_and_leaves_the_global_rng_alone():
    torch.manual_seed(0)
    env = make_vector("native", 8, "multidiscrete")
    venv = VecMonitor(SB3VecEnv(env))
    model = A2C("MultiInputPolicy", venv, policy_kwargs=dict(features_extractor_class=GlimpseExtractor), seed=0, device="cpu")
    before = torch.get_rng_state()
    first = evaluate(model, venv, seed=3)
    assert torch.equal(torch.get_rng_state(), before)
    assert evaluate(model, venv, seed=3) == first


# ---- learning ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("algo", ["a2c", "recurrent_ppo"])
def test_short_learn_beats_chance_on_an_easy_task(algo):
    """Four classes of grey images told apart by brightness at the first glimpse: well above 25%."""
    torch.manual_seed(0)
    n_images, n_classes = 40, 4
    labels = np.arange(n_images) % n_classes
    images = (60 * labels + 30).astype(np.uint8)[:, None, None].repeat(8, 1).repeat(8, 2)
    kwargs = dict(images=images, labels=labels, glimpse_size=4, n_scales=1, n_glimpses=2)
    env = VecMonitor(SB3VecEnv(wrap_actions(GlimpseVectorEnv(16, **kwargs), "multidiscrete", grid_size=3)))
    policy_kwargs = dict(features_extractor_class=GlimpseExtractor, net_arch=[32],
                         features_extractor_kwargs=dict(what_size=16, where_size=8, output_size=32))  # fmt: skip
    if algo == "a2c":
        model = A2C("MultiInputPolicy", env, policy_kwargs=policy_kwargs, learning_rate=3e-3, seed=0, device="cpu")
        model.learn(6_000)
    else:
        policy_kwargs["lstm_hidden_size"] = 32
        model = RecurrentPPO("MultiInputLstmPolicy", env, policy_kwargs=policy_kwargs, learning_rate=1e-2, n_steps=16,
                             batch_size=128, n_epochs=4, seed=0, device="cpu")  # fmt: skip
        model.learn(3_000)
    test = GlimpseVectorEnv(16, **kwargs)
    assert evaluate(model, VecMonitor(SB3VecEnv(wrap_actions(test, "multidiscrete", grid_size=3))))["error"] < 50.0


@needs_mnist
def test_short_ppo_on_mnist_subset_beats_random_guessing():
    """PPO with memory (6 stacked glimpses) on 2,000 MNIST images, scored on 1,000 test images.

    Chance is 90% error, with a standard error of about 1% on 1,000 images: < 86% is not luck.
    """
    torch.manual_seed(0)
    data = dict(data_dir=mnist_dir(), download=False)
    env = make_sb3_env("GlimpseMNIST-v0", 32, frame_stack=6, seed=0, max_images=2_000, **data)
    policy_kwargs = dict(features_extractor_class=GlimpseExtractor, net_arch=[64])
    model = PPO("MultiInputPolicy", env, policy_kwargs=policy_kwargs, learning_rate=1e-3, n_steps=32, batch_size=512,
                n_epochs=2, seed=0, device="cpu")  # fmt: skip
    model.learn(20_000)
    test = make_sb3_env("GlimpseMNIST-v0", 500, split="test", frame_stack=6, **data)
    assert evaluate(model, test, n_images=1_000)["error"] < 86.0


def test_wandb_tags_follow_the_project_groups():
    assert wandb_tag("train/policy_gradient_loss") == "losses/policy_gradient_loss"
    assert wandb_tag("rollout/ep_rew_mean") == "charts/rollout_ep_rew_mean"
    assert wandb_tag("eval/success_rate") == "charts/eval_success_rate"
    assert wandb_tag("fps") == "charts/fps"


# ---- the script -------------------------------------------------------------------------------------


TINY_RECURRENT = ["--total-timesteps", "500", "--eval-freq", "250", "--n-steps", "8", "--batch-size", "64", "--n-epochs", "1",
                  "--lstm-hidden-size", "32", "--max-cpu-minutes", "5"]  # fmt: skip


@needs_mnist
@pytest.mark.parametrize("algo, mode, extra", [("a2c", "offline", []), ("recurrent_ppo", "disabled", TINY_RECURRENT)])
def test_train_script_smoke(tmp_path, algo, mode, extra):
    out = tmp_path / "run"
    env = {**os.environ, "GLIMPSE_DATA_DIR": str(mnist_dir()), "WANDB_MODE": mode, "WANDB_SILENT": "true",
           "WANDB_DIR": str(tmp_path), "WANDB_CONFIG_DIR": str(tmp_path), "WANDB_CACHE_DIR": str(tmp_path),
           "WANDB_DATA_DIR": str(tmp_path), "OMP_NUM_THREADS": "1"}  # fmt: skip
    cmd = [sys.executable, str(REPO / "scripts" / "train_sb3.py"), "--algo", algo, "--total-timesteps", "1000",
           "--num-envs", "8", "--train-subset", "200", "--eval-freq", "500", "--eval-episodes", "20",
           "--checkpoint-freq", "500", "--test-images", "100", "--test-num-envs", "50", "--out", str(out),
           "--wandb-mode", mode, *extra]  # fmt: skip
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("test_error=") and 0.0 <= float(last.split("=")[1]) <= 100.0
    result = json.loads((out / "result.json").read_text())
    assert result["test_images"] == 100 and result["steps"] >= 500 and result["threads"] == 1
    for name in ("model.zip", "checkpoint.zip", "best_model.zip", "evaluations.npz", "progress.csv"):
        assert (out / name).is_file(), name
    loaded = {"a2c": A2C, "recurrent_ppo": RecurrentPPO}[algo].load(out / "checkpoint.zip", device="cpu")
    assert isinstance(loaded.policy.features_extractor, GlimpseExtractor)
    runs = list((out / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(runs) == (mode == "offline")
    if runs:  # SB3's logger reached W&B with the project's tags, against the global step
        from tests.wandb_records import history

        logged = {key for row in history(runs[0]) for key in row}
        assert {"global_step", "charts/eval_success_rate", "charts/eval_mean_reward"} <= logged
