"""The glimpse environment of *Recurrent Models of Visual Attention* (Mnih et al., 2014)."""

from __future__ import annotations

import operator
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

from glimpse_env.checks import check_int
from glimpse_env.datasets import ImageSource, make_source
from glimpse_env.episodes import START_MODES, GlimpseEpisodes
from glimpse_env.render import draw_episode
from glimpse_env.sensor import check_sensor_params


class GlimpseConfig:
    """The arguments both environments share, validated once; builds the source and the spaces."""

    def __init__(
        self,
        images=None,
        labels=None,
        task: str = "mnist",
        split: str = "train",
        glimpse_size: int = 8,
        n_scales: int = 1,
        scale_factor: int = 2,
        n_glimpses: int = 6,
        start: str = "center",
        canvas_size: int | None = None,
        n_clutter: int | None = None,
        augment: bool | None = None,
        max_shift: int = 0,
        max_rotation: int = 0,
        max_zoom: int = 0,
        max_images: int | None = None,
        n_classes: int | None = None,
        data_dir=None,
        download: bool = True,
    ):
        check_sensor_params(glimpse_size, n_scales, scale_factor)
        check_int("n_glimpses", n_glimpses)
        if start not in START_MODES:
            raise ValueError(f"start must be one of {START_MODES}, got {start!r}")
        self.source: ImageSource = make_source(
            task, split, images=images, labels=labels, canvas_size=canvas_size, n_clutter=n_clutter,
            augment=augment, max_shift=max_shift, max_rotation=max_rotation, max_zoom=max_zoom, max_images=max_images,
            data_dir=data_dir, download=download,
        )  # fmt: skip
        max_label = int(self.source.labels.max())
        if n_classes is None:
            n_classes = 10 if images is None else max_label + 1
        if n_classes <= max_label:
            raise ValueError(f"n_classes={n_classes} but the labels go up to {max_label}; n_classes must exceed every label")
        self.glimpse_size, self.n_scales, self.scale_factor = int(glimpse_size), int(n_scales), int(scale_factor)
        self.n_glimpses, self.start, self.n_classes = int(n_glimpses), start, int(n_classes)

    def episodes(self, batch_size: int, device="cpu") -> GlimpseEpisodes:
        return GlimpseEpisodes(
            self.source, batch_size, self.glimpse_size, self.n_scales, self.scale_factor,
            self.n_glimpses, self.start, device,
        )  # fmt: skip

    @property
    def glimpse_shape(self) -> tuple[int, ...]:
        """``(K, G, G)`` for one channel, ``(K, C, G, G)`` otherwise."""
        C = self.source.image_shape[0]
        K, G = self.n_scales, self.glimpse_size
        return (K, G, G) if C == 1 else (K, C, G, G)

    def observation_space(self) -> spaces.Dict:
        return spaces.Dict(
            glimpse=spaces.Box(0.0, 1.0, self.glimpse_shape, np.float32),
            location=spaces.Box(-1.0, 1.0, (2,), np.float32),
        )

    def action_space(self) -> spaces.Dict:
        return spaces.Dict(location=spaces.Box(-1.0, 1.0, (2,), np.float32), label=spaces.Discrete(self.n_classes))


def check_actions(location, label, n: int | None, n_classes: int, check_values: bool = True):
    """Validate actions; return them as tensors ``(n, 2)`` float and ``(n,)`` int64.

    ``n=None`` means one unbatched action (location ``(2,)``, label a scalar), returned with a batch
    axis of 1. Raises ``ValueError`` naming the bad value: wrong shape, NaN, a location outside
    ``[-1, 1]``, a label outside ``[0, n_classes)``. ``check_values=False`` keeps the shape checks
    only (value checks on an accelerator would wait for it every step).
    """
    try:
        location = torch.as_tensor(location)
        label = torch.as_tensor(label)
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(
            f"action must hold numbers in arrays: 'location' (x, y in [-1, 1]) and 'label' (a class index), got {location!r} and {label!r}"
        ) from None
    want_location, want_label = ((2,), ()) if n is None else ((n, 2), (n,))
    if location.shape != want_location:
        raise ValueError(
            f"action['location'] must have shape {want_location} (x, y in [-1, 1]), got {tuple(location.shape)}"
        )
    if label.shape != want_label:
        want = "a scalar" if n is None else f"shape {want_label}"
        raise ValueError(f"action['label'] must be {want} (a class index), got shape {tuple(label.shape)}")
    if label.dtype.is_floating_point or label.dtype == torch.bool or label.is_complex():
        raise ValueError(f"action['label'] must be an integer class index, got dtype {label.dtype}")
    location, label = location.reshape(-1, 2), label.reshape(-1)
    if check_values:
        bad = ~torch.isfinite(location).all(1) | (location.abs() > 1.0).any(1)
        if bad.any():
            i = int(bad.nonzero()[0, 0])
            where = "" if n is None else f" (env {i})"
            raise ValueError(f"action['location'] must be finite and in [-1, 1], got {location[i].tolist()}{where}")
        bad = (label < 0) | (label >= n_classes)
        if bad.any():
            i = int(bad.nonzero()[0, 0])
            where = "" if n is None else f" (env {i})"
            raise ValueError(f"action['label'] must be in [0, {n_classes}), got {int(label[i])}{where}")
    return location, label.to(torch.int64)


def split_action(action) -> tuple[Any, Any]:
    """``(location, label)`` of a Dict action; a clear error for anything else."""
    try:
        return action["location"], action["label"]
    except (KeyError, TypeError, IndexError):
        raise ValueError(
            f"action must be a dict with keys 'location' (x, y in [-1, 1]) and 'label' (class index), got {action!r}"
        ) from None


class GlimpseEnv(gym.Env):
    """Classify an image that you may only see through a few glimpses.

    ## Description
    The environment of *Recurrent Models of Visual Attention* (Mnih, Heess, Graves, Kavukcuoglu,
    NIPS 2014). An episode is one image and ``n_glimpses`` steps. The agent never sees the whole
    image: a bandwidth-limited *glimpse sensor* returns ``n_scales`` patches of ``glimpse_size``
    pixels square, centred on a location the agent picks, patch ``i`` covering
    ``glimpse_size * scale_factor**i`` pixels area-averaged down (see :mod:`glimpse_env.sensor`).
    Each step the agent picks the next location and its current guess of the class; the last
    guess is judged.

    ## Observation space
    ``Dict``:

    | key | space | meaning |
    |---|---|---|
    | ``glimpse`` | ``Box(0, 1, (K, G, G) or (K, C, G, G), float32)`` | the glimpse at ``location`` |
    | ``location`` | ``Box(-1, 1, (2,), float32)`` | where it was taken, ``(x, y)`` |

    Locations: ``(0, 0)`` is the image centre, ``(-1, -1)`` its top-left corner, ``x`` runs along
    the columns and ``y`` down the rows.

    ## Action space
    ``Dict``:

    | key | space | meaning |
    |---|---|---|
    | ``location`` | ``Box(-1, 1, (2,), float32)`` | where to look next (ignored on the last step) |
    | ``label`` | ``Discrete(n_classes)`` | the class guess (judged on the last step only) |

    ## Timing
    ``reset`` returns glimpse 1 (at the centre, or at a random location with ``start="random"``).
    Step ``t`` for ``t = 1 .. n_glimpses - 1`` moves to the action's location and returns glimpse
    ``t + 1``. Step ``n_glimpses`` judges the action's ``label`` and ends the episode; its location
    is ignored and the observation is the last glimpse again. So an episode has ``n_glimpses``
    glimpses and ``n_glimpses`` steps.

    ## Rewards
    0 on every step but the last; on the last, 1 if ``label`` is the true class, else 0.

    ## Episode end
    ``terminated`` after ``n_glimpses`` steps; never truncated. The last step's ``info`` has
    ``label`` (the true class, for learners with a supervised term) and ``is_success``.

    ## Arguments
    - ``images``, ``labels``: your own data, ``(N, H, W)`` or ``(N, C, H, W)`` uint8 (0..255) or float
      in ``[0, 1]``, and ``(N,)`` class indices. Otherwise ``task`` picks MNIST data:
    - ``task``: ``"mnist"`` (28x28), ``"translated"`` (60x60 canvas), ``"cluttered"`` (60x60, 4 pieces
      of clutter); ``canvas_size`` and ``n_clutter`` override the canvas and the clutter.
    - ``split``: ``"train"`` (54,000), ``"val"`` (6,000), ``"test"`` (10,000) or ``"train+val"``.
    - ``glimpse_size``, ``n_scales``, ``scale_factor``, ``n_glimpses``: the sensor and episode length.
    - ``start``: ``"center"`` or ``"random"``; ``augment``: new placement/clutter every episode
      (default on the training split of translated/cluttered tasks); ``max_shift``: on images shown
      without a canvas, translate each training episode's image by up to that many pixels along each
      axis (data augmentation; default 0); ``max_rotation`` (degrees), ``max_zoom`` (percent): rotate
      and scale each training episode's digit by up to that much before it is placed (data
      augmentation of the digit's shape; default 0); ``max_images``: keep the first
      N images; ``n_classes``: size of the label space (default 10, or max label + 1 for your data);
      ``data_dir``, ``download``: where MNIST is (see :mod:`glimpse_env.datasets`).
    - ``render_mode``: ``None`` or ``"rgb_array"`` (the image, the nested glimpse squares and the path).

    ``reset(options={"index": i})`` shows image ``i`` of the split instead of a random one.

    ## Version history
    - v0: first version.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 2}

    def __init__(self, images=None, labels=None, task="mnist", split="train", glimpse_size=8, n_scales=1,
                 scale_factor=2, n_glimpses=6, render_mode=None, **kwargs):  # fmt: skip
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.config = GlimpseConfig(images, labels, task, split, glimpse_size, n_scales, scale_factor, n_glimpses, **kwargs)
        self.observation_space = self.config.observation_space()
        self.action_space = self.config.action_space()
        self.render_mode = render_mode
        self._episodes = self.config.episodes(1)
        self._done = True

    def _observation(self) -> dict[str, np.ndarray]:
        glimpse = self._episodes.glimpse()[0].numpy()
        return {"glimpse": glimpse.reshape(self.config.glimpse_shape), "location": self._episodes.location[0].numpy().copy()}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        index = None
        if options and options.get("index") is not None:
            index = options["index"]
            try:
                if isinstance(index, (bool, np.bool_)):
                    raise TypeError
                index = operator.index(index)  # ints, NumPy and 0-d tensor integers; not 2.7 or "3"
            except TypeError:
                raise ValueError(f"options['index'] must be an integer image index, got {index!r}") from None
            if not 0 <= index < self.config.source.n_images:
                raise ValueError(f"options['index'] must be in [0, {self.config.source.n_images}), got {index}")
            index = np.array([index])
        self._episodes.begin(np.array([0]), [self.np_random], index)
        self._done = False
        return self._observation(), {}

    def step(self, action):
        if self._done:
            raise RuntimeError("the episode is over: call reset() before step()")
        location, label = check_actions(*split_action(action), None, self.config.n_classes)
        episodes = self._episodes
        if episodes.taken[0] < self.config.n_glimpses:
            episodes.move(np.array([0]), location)
            return self._observation(), 0.0, False, False, {}
        true_label = int(episodes.label[0])
        success = int(label[0]) == true_label
        self._done = True
        return self._observation(), float(success), True, False, {"label": true_label, "is_success": success}

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        episodes = self._episodes
        return draw_episode(
            episodes.canvases()[0], episodes.path[0, : max(episodes.taken[0], 1)].numpy(),
            self.config.glimpse_size, self.config.n_scales, self.config.scale_factor,
        )  # fmt: skip
