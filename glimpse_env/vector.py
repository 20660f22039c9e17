"""A natively batched glimpse environment: N episodes per call, one sensor call per step."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from glimpse_env.checks import check_int
from glimpse_env.env import GlimpseConfig, check_actions, split_action
from glimpse_env.render import draw_episode


class GlimpseVectorEnv(VectorEnv):
    """``num_envs`` copies of :class:`~glimpse_env.GlimpseEnv` stepped as one batch.

    Same observations, actions, timing and rewards as the single environment (see its docstring),
    batched: a Dict of arrays with a leading ``num_envs`` axis. Sub-environment ``i`` draws from its
    own generator, seeded with ``seed + i`` by ``reset(seed=seed)`` as
    :class:`gymnasium.vector.SyncVectorEnv` seeds its copies, so the vector env gives exactly the
    episodes of ``num_envs`` single envs with those seeds.

    Autoreset is ``NEXT_STEP`` (declared in ``metadata``): the step after an episode's last step
    starts a new episode in that sub-environment, ignores its action, and returns the new first
    glimpse with reward 0, ``terminated`` False. Since every episode has the same length, sub-envs
    reset together stay in lockstep.

    Extra arguments:
    - ``device``: ``None`` (default) for NumPy in and out. A torch device (``"cpu"``, ``"cuda"``)
      keeps the images on it and returns observations, rewards, ``terminated``/``truncated`` and the
      info values as torch tensors there (info masks ``_label``/``_is_success`` stay NumPy); actions
      may be tensors on that device.
    - ``check_values``: check action values (finite, in range) every step. Default True without a
      device or on the CPU; False on an accelerator, where the check would make every step wait for
      it (shapes are always checked).

    ``reset(options=...)`` takes ``"reset_mask"`` (``(num_envs,)`` bool: reset only those) and
    ``"indices"`` (``(num_envs,)`` image indices of the split, one per sub-env, used by the sub-envs
    being reset), e.g. to sweep a test set in order.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 2, "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int = 1, images=None, labels=None, task="mnist", split="train", glimpse_size=8,
                 n_scales=1, scale_factor=2, n_glimpses=6, render_mode=None, device=None, check_values=None,
                 **kwargs):  # fmt: skip
        check_int("num_envs", num_envs)
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.config = GlimpseConfig(images, labels, task, split, glimpse_size, n_scales, scale_factor, n_glimpses, **kwargs)
        self.num_envs = int(num_envs)
        self.render_mode = render_mode
        self.single_observation_space = self.config.observation_space()
        self.single_action_space = self.config.action_space()
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.device = None if device is None else torch.device(device)
        self.check_values = (self.device is None or self.device.type == "cpu") if check_values is None else check_values
        self._episodes = self.config.episodes(self.num_envs, self.device or "cpu")
        self._rngs: list[np.random.Generator] | None = None
        self._autoreset = np.zeros(self.num_envs, bool)
        self._all = np.arange(self.num_envs)
        self._constant_masks: dict[bool, torch.Tensor] = {}

    # ---- output in the caller's kind: NumPy, or tensors on the device -------------------------

    def _out(self, value: torch.Tensor | np.ndarray):
        if self.device is None:
            return value.numpy() if isinstance(value, torch.Tensor) else value
        return torch.as_tensor(value).to(self.device)

    def _mask(self, mask: np.ndarray) -> torch.Tensor:
        """A host bool mask as a tensor where the episodes live. The all-False and all-True masks of
        lockstep steps are cached there: on an accelerator a fresh copy from the host would wait
        for the device."""
        if mask.all() or not mask.any():
            key = bool(mask.all())
            if key not in self._constant_masks:
                self._constant_masks[key] = torch.full((self.num_envs,), key, dtype=torch.bool, device=self._episodes.device)
            return self._constant_masks[key]
        return torch.from_numpy(mask.copy()).to(self._episodes.device)

    def _out_mask(self, mask: np.ndarray):
        # a copy of a cached mask, never the cache itself: the caller may edit what it is given
        return mask.copy() if self.device is None else self._mask(mask).clone()

    def _observation(self) -> dict[str, Any]:
        glimpse = self._episodes.glimpse().reshape(self.num_envs, *self.config.glimpse_shape)
        return {"glimpse": self._out(glimpse), "location": self._out(self._episodes.location.clone())}

    # ---- Gymnasium API --------------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError(f"seed must be an int (sub-env i gets seed + i) or None, got {seed!r}")
        options = options or {}
        mask = np.ones(self.num_envs, bool)
        if options.get("reset_mask") is not None:
            mask = np.asarray(options["reset_mask"])
            if mask.shape != (self.num_envs,) or mask.dtype != bool:
                raise ValueError(f"options['reset_mask'] must be a bool array of shape ({self.num_envs},), got {mask!r}")
        rows = np.flatnonzero(mask)
        if self._rngs is None:
            self._rngs = [seeding.np_random(None if seed is None else int(seed) + i)[0] for i in range(self.num_envs)]
        elif seed is not None:  # as SyncVectorEnv: only the sub-envs being reset are reseeded
            for i in rows:
                self._rngs[i] = seeding.np_random(int(seed) + int(i))[0]
        indices = options.get("indices")
        if indices is not None:
            indices = np.asarray(indices)
            n_images = self.config.source.n_images
            if indices.shape != (self.num_envs,) or not np.issubdtype(indices.dtype, np.integer):
                raise ValueError(f"options['indices'] must be an int array of shape ({self.num_envs},), got shape {indices.shape}")
            if indices.min() < 0 or indices.max() >= n_images:
                raise ValueError(f"options['indices'] must lie in [0, {n_images}), got values in [{indices.min()}, {indices.max()}]")
            indices = indices[rows]
        self._episodes.begin(rows, [self._rngs[i] for i in rows], indices)
        self._autoreset[rows] = False
        return self._observation(), {}

    def step(self, actions):
        if self._rngs is None:
            raise RuntimeError("call reset() before step()")
        location, label = check_actions(*split_action(actions), self.num_envs, self.config.n_classes, self.check_values)
        episodes, T = self._episodes, self.config.n_glimpses
        restarting = self._autoreset
        final = ~restarting & (episodes.taken >= T)
        moving = ~restarting & ~final
        device = episodes.device
        location, label = location.to(device), label.to(device)

        reward = torch.zeros(self.num_envs, dtype=torch.float32, device=device)
        info: dict[str, Any] = {}
        if final.any():
            success = self._mask(final) & (label == episodes.label)
            reward = success.to(torch.float32)
            info = {
                "label": self._out(episodes.label.clone()), "_label": final.copy(),
                "is_success": self._out(success), "_is_success": final.copy(),
            }  # fmt: skip
        if moving.all():
            episodes.move(self._all, location)
        elif moving.any():
            episodes.move(np.flatnonzero(moving), location[self._mask(moving)])
        if restarting.any():
            rows = np.flatnonzero(restarting)
            episodes.begin(rows, [self._rngs[i] for i in rows])
        self._autoreset = final
        if self.device is None:
            reward = reward.numpy().astype(np.float64)
        return self._observation(), reward, self._out_mask(final), self._out_mask(np.zeros(self.num_envs, bool)), info

    def rng_states(self) -> list[dict]:
        """The sub-environments' generator states (plain dicts, for checkpoints)."""
        if self._rngs is None:
            raise RuntimeError("call reset() first: the generators are created there")
        return [rng.bit_generator.state for rng in self._rngs]

    def set_rng_states(self, states: list[dict]) -> None:
        """Restore :meth:`rng_states`, so the next episodes are the ones that would have followed."""
        if len(states) != self.num_envs:
            raise ValueError(f"expected {self.num_envs} generator states, got {len(states)}")
        if self._rngs is None:
            self._rngs = [seeding.np_random(0)[0] for _ in range(self.num_envs)]
        for rng, state in zip(self._rngs, states):
            rng.bit_generator.state = state

    def episode_frames(self, rows=None) -> list[np.ndarray]:
        """RGB pictures ``(H', W', 3)`` uint8 of the current episodes in ``rows`` (default all):
        the image, the path so far and the latest glimpse's squares."""
        episodes = self._episodes
        rows = np.arange(self.num_envs) if rows is None else np.asarray(rows)
        canvases = episodes.source.render(episodes.layouts[rows])
        path = episodes.path[torch.from_numpy(rows).to(episodes.device)].cpu().numpy()
        return [
            draw_episode(canvases[j], path[j, : max(episodes.taken[i], 1)], self.config.glimpse_size,
                         self.config.n_scales, self.config.scale_factor)  # fmt: skip
            for j, i in enumerate(rows)
        ]

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        return tuple(self.episode_frames())
