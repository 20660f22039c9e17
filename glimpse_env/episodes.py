"""Batched episode state shared by :class:`~glimpse_env.GlimpseEnv` and :class:`~glimpse_env.GlimpseVectorEnv`.

Both environments are the same machine, :class:`GlimpseEpisodes`, run at batch size 1 or N: one
code path draws the episodes, renders the canvases, builds their summed-area tables and reads the
glimpses, so the single and the vector environment cannot drift apart.

Bookkeeping that does not depend on data (the glimpse counter) lives on the host as NumPy; the
tables, locations and labels live on ``device``, so a device-resident environment never has to wait
for the accelerator to decide when an episode ends.

Dimension letters: ``B`` episodes, ``T`` glimpses, ``K`` scales, ``C`` channels, ``G`` glimpse side.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from glimpse_env.datasets import ImageSource
from glimpse_env.sensor import glimpses_from_table, summed_area_table, table_dtype

START_MODES = ("center", "random")


class GlimpseEpisodes:
    """``B`` glimpse episodes advanced together.

    Args:
        source: where images, labels and their layouts come from.
        batch_size: ``B``.
        glimpse_size, n_scales, scale_factor: the sensor's ``G``, ``K``, ``s``.
        n_glimpses: ``T``, glimpses per episode.
        start: ``"center"`` (first glimpse at ``(0, 0)``) or ``"random"`` (uniform in ``[-1, 1]^2``).
        device: where tables, locations and labels live.
    """

    def __init__(self, source: ImageSource, batch_size, glimpse_size, n_scales, scale_factor, n_glimpses, start, device):
        self.source = source
        self.glimpse_size, self.n_scales, self.scale_factor = glimpse_size, n_scales, scale_factor
        self.n_glimpses = n_glimpses
        self.start_mode = start
        self.device = torch.device(device)
        C, H, W = source.image_shape
        B = batch_size
        self.table = torch.zeros((B, C, H + 1, W + 1), dtype=table_dtype(source.base_images.dtype, H, W), device=self.device)
        self.path = torch.zeros((B, n_glimpses, 2), dtype=torch.float32, device=self.device)  # (B, T, 2)
        self.label = torch.zeros(B, dtype=torch.int64, device=self.device)
        self.location = torch.zeros((B, 2), dtype=torch.float32, device=self.device)  # latest glimpse's
        self.layouts = np.zeros((B, 1), np.int64)
        self.taken = np.zeros(B, np.int64)  # glimpses taken so far in each episode

    def begin(self, rows: np.ndarray, rngs: Sequence[np.random.Generator], indices=None) -> None:
        """Start new episodes in ``rows`` (int array), episode ``j`` drawing from ``rngs[j]``.

        ``indices`` (one per row) picks the images; otherwise each rng draws one.
        """
        # each episode draws all its random numbers in one call of its own generator, so a batch
        # costs one cheap call per episode and the vector env replays single envs exactly
        m = self.source.uniforms_per_episode(indices is not None)
        random_start = self.start_mode == "random"
        uniforms = np.stack([rng.random(m + 2 * random_start) for rng in rngs]) if len(rngs) else np.zeros((0, m + 2 * random_start))
        layouts = self.source.layouts_from_uniforms(uniforms[:, :m], indices)
        starts = uniforms[:, m:] * 2.0 - 1.0 if random_start else np.zeros((len(rows), 2))
        if self.layouts.shape[1] != layouts.shape[1]:
            self.layouts = np.zeros((len(self.taken), layouts.shape[1]), np.int64)
        self.layouts[rows] = layouts
        # every row at once (the lockstep case) takes plain slices instead of index tensors
        rows_t = slice(None) if len(rows) == len(self.taken) else torch.from_numpy(rows).to(self.device)
        canvases = self.source.render_tensor(layouts, self.device)
        self.table[rows_t] = summed_area_table(canvases)
        labels = self.source.tensors(self.device)["labels"]
        self.label[rows_t] = labels[torch.from_numpy(layouts[:, 0]).to(self.device)]
        start = torch.from_numpy(starts).to(self.device, torch.float32)
        self.location[rows_t] = start
        self.path[rows_t] = 0.0
        self.path[rows_t, 0] = start
        self.taken[rows] = 1

    def move(self, rows: np.ndarray, locations: torch.Tensor) -> None:
        """Episodes in ``rows`` (which must have glimpses left) look next at ``locations`` ``(len(rows), 2)``."""
        locations = locations.to(self.device, torch.float32)
        if len(rows) == len(self.taken) and (self.taken == self.taken[0]).all():
            # the lockstep case of every vector-env step: plain slices, no index tensors
            self.location.copy_(locations)
            self.path[:, self.taken[0]] = locations
        else:
            rows_t = torch.from_numpy(rows).to(self.device)
            self.location[rows_t] = locations
            self.path[rows_t, torch.from_numpy(self.taken[rows]).to(self.device)] = locations
        self.taken[rows] += 1

    def glimpse(self) -> torch.Tensor:
        """``(B, K, C, G, G)`` float32: each episode's latest glimpse."""
        return glimpses_from_table(self.table, self.location, self.glimpse_size, self.n_scales, self.scale_factor)

    def canvases(self) -> np.ndarray:
        """``(B, C, H, W)`` the full images (for rendering only; agents never see them)."""
        return self.source.render(self.layouts)
