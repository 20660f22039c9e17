"""Stable-Baselines3 on the glimpse environments: features extractor, VecEnv adapter, evaluation.

- :class:`GlimpseExtractor`: a ``BaseFeaturesExtractor`` that *is* the RAM agent's
  :class:`~agents.ram.GlimpseNetwork` ``f_g`` (same class, same sizes). Its pixels are standardised
  with ``pixel_mean``/``pixel_std``: 0 and 1 (raw [0, 1] pixels, as the reported SB3 runs used) unless
  given; the REINFORCE trainer's default is MNIST's 0.1307 / 0.3081 (``train_sb3.py --pixel-mean
  0.1307 --pixel-std 0.3081`` matches it). With ``n_stack`` stacked frames (``VecFrameStack``) it
  applies ``f_g`` to each frame and concatenates.
- :class:`SB3VecEnv`: SB3's ``VecEnv`` API over a Gymnasium vector env, in particular the native
  :class:`~glimpse_env.GlimpseVectorEnv`. SB3 wants the reset observation on the terminal step and
  the last observation in ``infos[i]["terminal_observation"]``; the glimpse env autoresets on the
  *next* step instead (``NEXT_STEP``), so the adapter resets finished sub-envs itself, at once, with
  ``reset(options={"reset_mask": done})`` and no transition is ever spent on a reset step.
- :func:`make_sb3_env`: registered id -> wrapped, monitored SB3 ``VecEnv``.
- :func:`evaluate`: test error % over a whole split, each image once, in order, one rollout each
  (locations sampled from the policy as the RAM agent is scored, or its most likely ones).

Dimension letters: ``B`` batch, ``S`` stacked frames, ``K`` scales, ``C`` channels, ``G`` glimpse side,
``N`` sub-envs.
"""

from __future__ import annotations

import logging
import math
import os
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import KVWriter
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.common.vec_env import VecEnv, VecFrameStack, VecMonitor

import glimpse_env  # noqa: F401  (registers the ids)
from agents.ram import GlimpseNetwork
from glimpse_env.checks import check_int
from glimpse_env.files import atomic_file
from glimpse_env.wrappers import wrap_actions

logger = logging.getLogger(__name__)

__all__ = [
    "GlimpseExtractor",
    "SB3VecEnv",
    "TimeBudget",
    "AtomicCheckpoint",
    "WandbWriter",
    "evaluate",
    "make_sb3_env",
    "wandb_tag",
]


class GlimpseExtractor(BaseFeaturesExtractor):
    """``g_t = f_g(glimpse, location)`` from a Dict observation, by :class:`~agents.ram.GlimpseNetwork`.

    The observation space is the env's ``Dict(glimpse=(K, [C,] G, G), location=(2,))``, or its
    ``VecFrameStack`` version with ``S`` frames stacked first on ``glimpse`` (``(S*K, ...)``) and
    last on ``location`` (``(2*S,)``), as :func:`make_sb3_env` builds it. Features: ``(B, S * output_size)``.
    """

    def __init__(self, observation_space: spaces.Dict, what_size: int = 128, where_size: int = 128,
                 output_size: int = 256, pixel_mean: float = 0.0, pixel_std: float = 1.0):  # fmt: skip
        if not isinstance(observation_space, spaces.Dict) or set(observation_space.spaces) != {"glimpse", "location"}:
            raise TypeError(
                f"GlimpseExtractor needs the glimpse env's Dict(glimpse=..., location=...) observations, "
                f"got {observation_space!r}"
            )
        n_stack, rem = divmod(observation_space["location"].shape[0], 2)
        if rem or n_stack < 1:
            raise ValueError(f"observation 'location' must have 2 * n_stack entries, got shape {observation_space['location'].shape}")
        super().__init__(observation_space, features_dim=n_stack * output_size)
        self.n_stack = n_stack
        glimpse_dim = math.prod(observation_space["glimpse"].shape) // n_stack
        self.glimpse_net = GlimpseNetwork(glimpse_dim, what_size, where_size, output_size, pixel_mean, pixel_std)

    def forward(self, observations: dict[str, torch.Tensor]) -> torch.Tensor:
        """``glimpse`` ``(B, S*K, [C,] G, G)``, ``location`` ``(B, 2*S)`` -> ``(B, S * output_size)``."""
        glimpse, location = observations["glimpse"], observations["location"]
        B, S = glimpse.shape[0], self.n_stack
        g_t = self.glimpse_net(glimpse.reshape(B * S, -1), location.reshape(B * S, 2))  # (B*S, output_size)
        return g_t.reshape(B, -1)


def _item(value):
    """A NumPy scalar as a Python one (as a single env's ``info`` would hold it)."""
    return value.item() if isinstance(value, np.generic) else value


def _unbatch_info(info: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """Gymnasium's batched info (arrays plus ``_key`` masks, maybe nested) -> one dict per sub-env."""
    out: list[dict[str, Any]] = [{} for _ in range(n)]
    for key, value in info.items():
        if key.startswith("_") or key in ("final_obs", "final_info"):
            continue
        mask = info.get("_" + key, np.ones(n, bool))
        parts = _unbatch_info(value, n) if isinstance(value, dict) else None
        for i in np.flatnonzero(mask):
            out[i][key] = parts[i] if parts is not None else _item(value[i])
    return out


def _index(tree, i: int):
    """Entry ``i`` of a batched observation (array, or dict of them, nested)."""
    if isinstance(tree, dict):
        return {key: _index(value, i) for key, value in tree.items()}
    entry = tree[i]  # an object array (SAME_STEP's final_obs) holds whole observations
    if isinstance(entry, dict):
        return {key: np.array(value, copy=True) for key, value in entry.items()}
    return np.array(entry, copy=True)


class SB3VecEnv(VecEnv):
    """SB3 ``VecEnv`` over a Gymnasium :class:`~gymnasium.vector.VectorEnv` with NumPy in and out.

    Step for step the same as ``DummyVecEnv`` over single envs seeded ``seed + i`` (tested): a
    finished sub-env's info gets ``terminal_observation`` and ``TimeLimit.truncated``, its row of the
    returned observation is already the next episode's first.

    Autoreset modes: ``NEXT_STEP`` and ``DISABLED`` envs must accept ``reset(options={"reset_mask":
    mask})`` (``GlimpseVectorEnv`` and Gymnasium's ``SyncVectorEnv`` do); ``SAME_STEP`` envs are read
    from ``info["final_obs"]`` / ``info["final_info"]``.

    Seeds: ``seed(s)`` then ``reset()`` calls ``venv.reset(seed=s)``, which seeds sub-env ``i`` with
    ``s + i`` as ``DummyVecEnv`` does. Options: one dict for the whole vector env
    (``set_options({"indices": ...})``), passed to the next ``reset()``.

    ``get_attr``/``set_attr``/``env_method`` act on the vector env itself (one object); ``get_attr``
    and ``env_method`` return its answer once per requested index.
    """

    def __init__(self, venv: VectorEnv):
        if not isinstance(venv, VectorEnv):
            raise TypeError(f"SB3VecEnv wraps a gymnasium.vector.VectorEnv, got {type(venv).__name__}")
        self.venv = venv
        self.autoreset_mode = venv.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        super().__init__(venv.num_envs, venv.single_observation_space, venv.single_action_space)
        self._actions: np.ndarray | None = None

    def reset(self):
        options = self._options[0]
        if any(o != options for o in self._options[1:]):
            raise ValueError("SB3VecEnv passes one options dict to the vector env; call set_options(dict), not a list")
        obs, info = self.venv.reset(seed=self._seeds[0], options=dict(options) or None)
        self.reset_infos = _unbatch_info(info, self.num_envs)
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self):
        obs, reward, terminated, truncated, info = self.venv.step(self._actions)
        terminated, truncated = np.asarray(terminated, bool), np.asarray(truncated, bool)
        done = terminated | truncated
        infos = _unbatch_info(info, self.num_envs)
        for i in range(self.num_envs):
            infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
        if done.any():
            if self.autoreset_mode == AutoresetMode.SAME_STEP:
                final_infos = _unbatch_info(info["final_info"], self.num_envs)
                for i in np.flatnonzero(done):
                    infos[i].update(final_infos[i])
                    infos[i]["terminal_observation"] = _index(info["final_obs"], i)
            else:
                for i in np.flatnonzero(done):
                    infos[i]["terminal_observation"] = _index(obs, i)
                reset_obs, reset_info = self.venv.reset(options={"reset_mask": done})
                for key in obs:  # only the finished rows: the others keep this step's observation
                    obs[key][done] = reset_obs[key][done]
                for i, reset_info_i in enumerate(_unbatch_info(reset_info, self.num_envs)):
                    if done[i]:
                        self.reset_infos[i] = reset_info_i
        return obs, np.asarray(reward, np.float32), done, infos

    def close(self) -> None:
        self.venv.close()

    def get_images(self):
        return list(self.venv.render() or [None] * self.num_envs)

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        return [getattr(self.venv, attr_name) for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        setattr(self.venv, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list[Any]:
        result = getattr(self.venv, method_name)(*method_args, **method_kwargs)
        return [result for _ in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices=None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]


def make_sb3_env(env_id: str, num_envs: int, split: str = "train", action: str = "multidiscrete",
                 grid_size: int = 7, frame_stack: int = 1, seed: int | None = None, **env_kwargs) -> VecEnv:
    """``gym.make_vec(env_id)`` (the native vector env), action wrapper, :class:`SB3VecEnv`, ``VecMonitor``,
    and ``VecFrameStack`` when ``frame_stack > 1``. ``env_kwargs`` go to the env (``max_images=...``)."""
    check_int("frame_stack", frame_stack)
    venv = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", split=split, **env_kwargs)
    env: VecEnv = VecMonitor(SB3VecEnv(wrap_actions(venv, action, grid_size)))
    if frame_stack > 1:
        env = VecFrameStack(env, frame_stack, channels_order={"glimpse": "first", "location": "last"})
    if seed is not None:
        env.seed(seed)
    return env


LOCATION_MODES = ("sample", "mode")


@torch.no_grad()
def evaluate(model, vec_env: VecEnv, n_images: int | None = None, locations: str = "sample", seed: int = 0) -> dict[str, float]:
    """Classification error over images ``0 .. n_images - 1`` of ``vec_env``'s split, one rollout each.

    ``vec_env`` is built by :func:`make_sb3_env` (any wrappers over one :class:`SB3VecEnv` over a
    :class:`~glimpse_env.GlimpseVectorEnv`). Batches of ``num_envs`` images are started together with
    ``reset`` options ``indices`` and run for ``n_glimpses`` steps with ``model.predict`` (recurrent
    policies get their state and episode starts); the last step's reward is the success. The last,
    partial batch is padded with image 0 and the padding ignored.

    The class guess is always the policy's most likely one. ``locations="sample"`` draws the
    locations from the policy (torch seeded with ``seed``, the caller's random state untouched), as
    ``scripts/evaluate.py`` scores the RAM agent; ``"mode"`` takes the most likely location too. The
    first two action columns are the location in both encodings of :mod:`glimpse_env.wrappers`.

    Returns ``{"error": percent, "accuracy": fraction, "n_images": count}``.
    """
    if locations not in LOCATION_MODES:
        raise ValueError(f"locations must be one of {LOCATION_MODES}, got {locations!r}")
    if n_images is not None and (isinstance(n_images, bool) or int(n_images) < 1):
        raise ValueError(f"n_images must be a positive number of images (or None for the whole split), got {n_images!r}")
    glimpse_venv = vec_env.unwrapped.venv.unwrapped
    total, n_glimpses = glimpse_venv.config.source.n_images, glimpse_venv.config.n_glimpses
    n_images = total if n_images is None else min(int(n_images), total)
    N = vec_env.num_envs
    correct = 0
    # manual_seed reseeds every CUDA generator too: fork the one the policy samples from
    device = torch.device(getattr(model, "device", "cpu"))  # an SB3 model, or anything with predict()
    with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        for start in range(0, n_images, N):
            indices = np.arange(start, start + N)
            valid = indices < n_images
            vec_env.unwrapped.set_options({"indices": np.where(valid, indices, 0)})
            obs = vec_env.reset()
            state, episode_start = None, np.ones(N, bool)
            for t in range(n_glimpses):
                if locations == "sample":  # the new recurrent state depends on the observation, not the action
                    sampled, _ = model.predict(obs, state=state, episode_start=episode_start, deterministic=False)
                action, state = model.predict(obs, state=state, episode_start=episode_start, deterministic=True)
                if locations == "sample":
                    action = np.concatenate([sampled[:, :2], action[:, 2:]], axis=1)
                obs, reward, done, _ = vec_env.step(action)
                episode_start = done
            assert done.all(), "every episode has n_glimpses steps"
            correct += int(reward[valid].sum())
    accuracy = correct / n_images
    return {"error": 100.0 * (1.0 - accuracy), "accuracy": accuracy, "n_images": n_images}


# ---- callbacks and logging for scripts/train_sb3.py ------------------------------------------------


class TimeBudget(BaseCallback):
    """Stop ``learn()`` after ``max_minutes`` of wall time or ``max_cpu_minutes`` of this process's CPU time.

    The CPU budget gives every run the same compute on a shared machine, where wall time depends on
    the neighbours; ``stopped_by`` says which budget ended the run (``None`` if neither did).
    """

    def __init__(self, max_minutes: float | None = None, max_cpu_minutes: float | None = None):
        super().__init__()
        self.max_minutes, self.max_cpu_minutes = max_minutes, max_cpu_minutes
        self.stopped_by: str | None = None
        self._on_training_start()

    def _on_training_start(self) -> None:
        self.start_wall, self.start_cpu = time.monotonic(), time.process_time()

    def _on_step(self) -> bool:
        if self.max_minutes is not None and time.monotonic() - self.start_wall >= 60.0 * self.max_minutes:
            self.stopped_by = "wall"
        elif self.max_cpu_minutes is not None and time.process_time() - self.start_cpu >= 60.0 * self.max_cpu_minutes:
            self.stopped_by = "cpu"
        else:
            return True
        logger.info("%s-time budget reached at %d steps", self.stopped_by, self.num_timesteps)
        return False


class AtomicCheckpoint(BaseCallback):
    """Every ``save_freq`` env steps (summed over sub-envs) write ``path`` via a temporary file and a rename.

    The file is SB3's own zip (``PPO.load(path)`` reads it), so a run killed mid-write leaves the
    previous checkpoint intact.
    """

    def __init__(self, path: str | os.PathLike, save_freq: int):
        super().__init__()
        self.path, self.save_freq = Path(path), int(save_freq)
        self._last = 0

    def _on_step(self) -> bool:
        if self.save_freq > 0 and self.num_timesteps - self._last >= self.save_freq:
            self._last = self.num_timesteps
            save_model_atomic(self.model, self.path)
        return True


def save_model_atomic(model, path: str | os.PathLike) -> Path:
    """``model.save`` to ``path`` (a ``.zip``) through :func:`~glimpse_env.files.atomic_file`."""
    with atomic_file(path) as f:
        model.save(f)
    return Path(path)


def wandb_tag(key: str) -> str:
    """An SB3 logger key as a W&B tag: ``train/*loss*`` -> ``losses/*``, ``group/name`` -> ``charts/group_name``."""
    group, _, name = key.partition("/")
    if not name:
        return f"charts/{key}"
    return f"losses/{name}" if group == "train" and "loss" in name else f"charts/{group}_{name}"


class WandbWriter(KVWriter):
    """SB3 logger output to the active W&B run, tagged by :func:`wandb_tag`, with ``global_step``
    (env steps) in every row. SB3 would otherwise need TensorBoard to reach W&B.
    """

    def write(self, key_values: dict[str, Any], key_excluded: dict[str, tuple[str, ...]], step: int = 0) -> None:
        import wandb

        if wandb.run is None:
            return
        row = {}
        for key, value in key_values.items():
            if "wandb" in (key_excluded.get(key) or ()) or not isinstance(value, (int, float, np.number)):
                continue
            row[wandb_tag(key)] = float(value)
        if row:
            wandb.log({**row, "global_step": step})

    def close(self) -> None:
        pass
