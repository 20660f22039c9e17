"""The paper's tasks and user image sets, as sources of episodes for the glimpse environments.

Tasks (Mnih et al., 2014, section 4.1)
--------------------------------------
- ``mnist``: the 28x28 digits as they are.
- ``translated``: the digit pasted at a uniformly random place on a blank ``canvas_size`` square
  (60 by default).
- ``cluttered``: translated, plus ``n_clutter`` random 8x8 crops of *other* digits of the same split
  added at random places; clutter first, then the digit, both added and the sum clipped to
  ``[0, 1]`` (DeepMind's mnist-cluttered). 4 pieces on 60x60, 8 on 100x100 in the paper.

Validation and test canvases are generated once from a fixed seed, so every run sees the same images;
training canvases are drawn afresh each episode (``augment=True``) from the environment's own random
generator, so a seed replays them. ``max_shift`` adds a random translation of up to that many pixels
along each axis (zero fill) to every augmented episode of images shown without a canvas (the paper
has none; the RAM overfits 28x28 MNIST without it, see results/ram.md). ``max_rotation`` and
``max_zoom`` change the digit's shape instead (a random rotation and scale of the image before it is
shifted or pasted; clutter stays as it is): on a canvas the placement is random already, so the
translated task's model can only overfit the digits' shapes. MNIST itself comes from
:mod:`glimpse_env.mnist`.

A *layout* is one episode's recipe, a row of int64: ``[index, digit_row, digit_col]`` (``[index]`` for an
image shown as it is; ``digit_row, digit_col`` in ``[0, 2 max_shift]`` for a shifted one) followed by
``[source, crop_row, crop_col, row, col]`` per clutter piece, then ``[degrees, percent]`` in
``[0, 2 max_rotation]`` and ``[0, 2 max_zoom]`` (offset by the maximum: 0 is the most negative) when
the digit is distorted; :class:`ImageSource` draws layouts and renders batches of them without a
Python loop over the batch.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch

from glimpse_env.checks import check_int
from glimpse_env.mnist import SPLITS, DataError, load_mnist, resolve_data_dir

__all__ = ["TASKS", "DataError", "ImageSource", "load_mnist", "make_source"]


# --------------------------------------------------------------------------------------------
# Tasks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskSpec:
    """Canvas and clutter of one of the paper's tasks."""

    canvas_size: int | None  # None: the image as it is
    n_clutter: int = 0
    clutter_size: int = 8


TASKS = {
    "mnist": TaskSpec(None),
    "translated": TaskSpec(60),
    "cluttered": TaskSpec(60, n_clutter=4),
}


class ImageSource:
    """Base images plus the recipe that turns one into an episode's canvas.

    Args:
        images: ``(N, C, H, W)`` base images, uint8 (0..255) or float32 in ``[0, 1]``.
        labels: ``(N,)`` int64 class of each image.
        canvas_size: side of the square canvas the image is pasted on; ``None`` keeps images as they are.
        n_clutter: clutter pieces per canvas (needs ``canvas_size``).
        clutter_size: side of each clutter piece.
        augment: draw a fresh placement and clutter (and shift) every episode; when False, ``fixed_seed``
            fixes one layout per image (generated once) and an episode only draws the image index.
        fixed_seed: seed of the fixed layouts.
        max_shift: with ``augment``, translate each episode's image by a uniform whole number of
            pixels in ``[-max_shift, max_shift]`` along each axis, filling with zeros. Only without
            a canvas (on one the placement is random already); ignored without ``augment``, so
            validation and test images stay as they are.
        max_rotation: with ``augment``, rotate each episode's image (before it is shifted or pasted)
            by a uniform whole number of degrees in ``[-max_rotation, max_rotation]`` (bilinear, zero fill).
        max_zoom: with ``augment``, scale each episode's image about its centre by ``1 + p / 100`` for
            a uniform whole number ``p`` in ``[-max_zoom, max_zoom]``.
    """

    def __init__(self, images, labels, canvas_size=None, n_clutter=0, clutter_size=8, augment=False, fixed_seed=0,
                 max_shift=0, max_rotation=0, max_zoom=0):  # fmt: skip
        self.base_images = images
        self.labels = labels
        N, C, H, W = images.shape
        if canvas_size is not None:
            check_int("canvas_size", canvas_size, 0, " (or None)")
        check_int("n_clutter", n_clutter, 0)
        if canvas_size is not None and canvas_size < max(H, W):
            raise ValueError(f"canvas_size={canvas_size} is smaller than the images ({H}x{W})")
        if n_clutter and canvas_size is None:
            raise ValueError("n_clutter > 0 needs a canvas_size to scatter the clutter on")
        if n_clutter and (clutter_size > min(H, W) or clutter_size > canvas_size):
            raise ValueError(f"clutter_size={clutter_size} does not fit in {H}x{W} images on a {canvas_size} canvas")
        if n_clutter and N < 2:
            raise ValueError("clutter is cut from *other* images, so it needs at least 2 images")
        if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) or not 0 <= max_shift < min(H, W):
            raise ValueError(f"max_shift must be a whole number of pixels in [0, {min(H, W) - 1}], got {max_shift!r}")
        if max_shift and canvas_size is not None:
            raise ValueError(f"max_shift={max_shift} needs images shown without a canvas: on a {canvas_size} canvas "
                             "the placement is already random (leave max_shift at 0)")  # fmt: skip
        check_int("max_rotation", max_rotation, 0, " (degrees)")
        check_int("max_zoom", max_zoom, 0, " (percent)")
        if max_rotation > 180 or max_zoom > 90:
            raise ValueError(f"max_rotation must be at most 180 degrees and max_zoom at most 90 percent, "
                             f"got {max_rotation} and {max_zoom}")  # fmt: skip
        self.canvas_size = canvas_size
        self.n_clutter = n_clutter
        self.clutter_size = clutter_size
        self.augment = bool(augment) and (canvas_size is not None or max_shift > 0 or max_rotation > 0 or max_zoom > 0)
        self.max_shift = int(max_shift) if self.augment else 0
        self.max_rotation = int(max_rotation) if self.augment else 0
        self.max_zoom = int(max_zoom) if self.augment else 0
        self.fixed_canvases = None
        self._device_copies: dict[torch.device, dict[str, torch.Tensor]] = {}
        if canvas_size is not None and not self.augment:
            layouts = self.draw_layouts(np.random.default_rng(fixed_seed), np.arange(N))
            # in chunks, into one array: the int32 scratch canvas of 10,000 100x100 images would take
            # 400 MB at once, and concatenating the chunks would hold every canvas twice
            canvases = None
            for start in range(0, N, 2048):
                chunk = self.render(layouts[start : start + 2048])
                if canvases is None:
                    canvases = np.empty((N, *chunk.shape[1:]), chunk.dtype)
                canvases[start : start + len(chunk)] = chunk
            canvases.setflags(write=False)
            self.fixed_canvases = canvases
            # render() above cached device tensors before the canvases existed: drop them so that
            # tensors() copies "fixed" too
            self._device_copies.clear()

    @property
    def n_images(self) -> int:
        return len(self.labels)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of the canvases the sensor sees."""
        _, C, H, W = self.base_images.shape
        return (C, self.canvas_size, self.canvas_size) if self.canvas_size else (C, H, W)

    def uniforms_per_episode(self, indexed: bool) -> int:
        """How many uniform numbers :meth:`layouts_from_uniforms` reads per episode."""
        if self.max_shift:  # the shift's row and column
            per_episode = 2
        elif self.canvas_size is not None and self.fixed_canvases is None:  # placement and clutter
            per_episode = 2 + 5 * self.n_clutter
        else:
            per_episode = 0
        return (0 if indexed else 1) + per_episode + 2 * self.distorts

    @property
    def distorts(self) -> bool:
        """Whether episodes rotate or scale their digit."""
        return bool(self.max_rotation or self.max_zoom)

    def layouts_from_uniforms(self, uniforms: np.ndarray, indices: np.ndarray | None = None) -> np.ndarray:
        """``(B, L)`` layouts from ``(B, m)`` uniforms in ``[0, 1)`` (``m`` from :meth:`uniforms_per_episode`).

        An environment draws each episode's ``m`` numbers in one call of its own generator and this
        turns a whole batch of them into integers at once: the image index (unless ``indices``
        gives it), then, when the canvas is made per episode, the digit's place and each clutter
        piece's source image, crop and place, then the digit's rotation and scale (the last two).
        """
        if not self.distorts:
            return self._placements(uniforms, indices)
        spans = np.array([2 * self.max_rotation + 1, 2 * self.max_zoom + 1])
        distortion = np.floor(uniforms[:, -2:] * spans).astype(np.int64)
        return np.concatenate([self._placements(uniforms[:, :-2], indices), distortion], 1)

    def _placements(self, uniforms: np.ndarray, indices: np.ndarray | None) -> np.ndarray:
        """The layouts' columns before the distortion's."""
        B = len(uniforms)
        col = 0
        if indices is None:
            indices = np.floor(uniforms[:, 0] * self.n_images).astype(np.int64)
            col = 1
        indices = np.asarray(indices, dtype=np.int64).reshape(B)

        def integers(u, high):  # uniform integers in [0, high)
            return np.floor(u * high).astype(np.int64)

        if self.max_shift:
            span = 2 * self.max_shift + 1
            return np.stack([indices, integers(uniforms[:, col], span), integers(uniforms[:, col + 1], span)], 1)
        if self.canvas_size is None or self.fixed_canvases is not None:
            return indices[:, None]
        _, _, H, W = self.base_images.shape
        S, c, n = self.canvas_size, self.clutter_size, self.n_clutter

        digit = np.stack([integers(uniforms[:, col], S - H + 1), integers(uniforms[:, col + 1], S - W + 1)], 1)
        parts = [indices[:, None], digit]
        if n:
            u = uniforms[:, col + 2 : col + 2 + 5 * n].reshape(B, n, 5)
            # "other" digits: draw from N - 1 and skip the episode's own index
            source = integers(u[..., 0], self.n_images - 1)
            source += source >= indices[:, None]
            pieces = [source, integers(u[..., 1], H - c + 1), integers(u[..., 2], W - c + 1),
                      integers(u[..., 3], S - c + 1), integers(u[..., 4], S - c + 1)]  # fmt: skip
            parts.append(np.stack(pieces, -1).reshape(B, 5 * n))
        return np.concatenate(parts, 1)

    def draw_layouts(self, rng: np.random.Generator, indices: np.ndarray | None = None, n: int = 1) -> np.ndarray:
        """``(n, L)`` layouts (``n = len(indices)`` when given) from one generator, in one draw."""
        if indices is not None:
            indices = np.asarray(indices, dtype=np.int64).reshape(-1)
            n = len(indices)
        uniforms = rng.random((n, self.uniforms_per_episode(indices is not None)))
        return self.layouts_from_uniforms(uniforms, indices)

    def tensors(self, device) -> dict[str, torch.Tensor]:
        """Base images, fixed canvases (if any) and labels as tensors on ``device``, copied once."""
        device = torch.device(device)
        if device not in self._device_copies:
            arrays = {"base": self.base_images, "labels": self.labels}
            if self.fixed_canvases is not None:
                arrays["fixed"] = self.fixed_canvases
            with warnings.catch_warnings():
                # the arrays are read-only on purpose; these tensors are only ever read, so on the
                # CPU they share the arrays' memory instead of copying them
                warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
                self._device_copies[device] = {k: torch.from_numpy(v).to(device) for k, v in arrays.items()}
        return self._device_copies[device]

    def render_tensor(self, layouts: np.ndarray, device="cpu") -> torch.Tensor:
        """Canvases ``(B, C, S, S)`` (or base images ``(B, C, H, W)``) for ``(B, L)`` layouts, made on ``device``.

        A device-resident environment builds its canvases where its images are; only the small
        layout array crosses over.
        """
        data = self.tensors(device)
        layouts = torch.from_numpy(np.ascontiguousarray(layouts)).to(data["base"].device)
        indices = layouts[:, 0]
        if self.fixed_canvases is not None:
            return data["fixed"][indices]
        digits = data["base"][indices]
        if self.distorts:
            degrees = (layouts[:, -2] - self.max_rotation).float()
            scales = 1 + (layouts[:, -1] - self.max_zoom).float() / 100
            digits = rotate_and_scale(digits, degrees, scales)
        if self.max_shift:
            # the window at (digit_row, digit_col) of the image padded by max_shift zeros on each side
            k = self.max_shift
            _, _, H, W = data["base"].shape
            padded = torch.nn.functional.pad(digits, (k, k, k, k))
            # every H x W window of each padded image, as a view (B, C, 2k+1, 2k+1, H, W); picking
            # one per image is a single indexing op, 3x faster than indexing rows and columns
            windows = padded.unfold(2, H, 1).unfold(3, W, 1)
            return windows[torch.arange(len(layouts), device=padded.device), :, layouts[:, 1], layouts[:, 2]]
        if self.canvas_size is None:
            return digits
        images = data["base"]
        B = len(layouts)
        _, C, H, W = images.shape
        S, c = self.canvas_size, self.clutter_size
        is_int = images.dtype == torch.uint8
        canvas = torch.zeros((B, C, S, S), dtype=torch.int32 if is_int else torch.float32, device=images.device)
        arange = functools.partial(torch.arange, device=images.device)
        b, ch, rc = arange(B)[:, None, None, None], arange(C)[None, :, None, None], arange(c)
        for k in range(self.n_clutter):
            src, cr, cc, pr, pc = layouts[:, 3 + 5 * k : 8 + 5 * k].T
            piece = images[src[:, None, None, None], ch, (cr[:, None] + rc)[:, None, :, None], (cc[:, None] + rc)[:, None, None, :]]
            # one piece per canvas: no index repeats within this assignment, so += is exact
            canvas[b, ch, (pr[:, None] + rc)[:, None, :, None], (pc[:, None] + rc)[:, None, None, :]] += piece
        rows = (layouts[:, 1:2] + arange(H))[:, None, :, None]
        cols = (layouts[:, 2:3] + arange(W))[:, None, None, :]
        canvas[b, ch, rows, cols] += digits
        if is_int:
            return canvas.clamp_(max=255).to(torch.uint8)
        return canvas.clamp_(max=1.0)

    def render(self, layouts: np.ndarray) -> np.ndarray:
        """:meth:`render_tensor` on the CPU, as a NumPy array."""
        return self.render_tensor(layouts, "cpu").numpy()


def rotate_and_scale(images: torch.Tensor, degrees: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    """``(B, C, H, W)`` images rotated by ``(B,)`` degrees and scaled by ``(B,)`` factors about their centre.

    Bilinear, with zeros outside the image; same dtype as ``images`` (uint8 rounded). The rotation is
    one in pixels, so an image that is not square is not sheared.
    """
    _, _, H, W = images.shape
    angle = degrees * (math.pi / 180)
    cos, sin = torch.cos(angle) / scales, torch.sin(angle) / scales
    zero = torch.zeros_like(cos)
    # theta maps an output point to where it samples the input, in coordinates normalised to [-1, 1]
    # per axis: a rotation in pixels rescales its off-diagonal terms by the aspect ratio
    theta = torch.stack([torch.stack([cos, -sin * (H / W), zero], -1), torch.stack([sin * (W / H), cos, zero], -1)], 1)
    grid = torch.nn.functional.affine_grid(theta, list(images.shape), align_corners=False)
    out = torch.nn.functional.grid_sample(images.float(), grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if images.dtype == torch.uint8:
        return out.round_().clamp_(0, 255).to(torch.uint8)
    return out.clamp_(0, 1)


def check_user_images(images, labels) -> tuple[np.ndarray, np.ndarray]:
    """Validate a user's image set; return ``(N, C, H, W)`` images and ``(N,)`` int64 labels."""
    if images is None or labels is None:
        raise ValueError("give both images= and labels= (or neither, to use a task's MNIST data)")
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim not in (3, 4):
        raise ValueError(
            f"images must have shape (N, H, W) or (N, C, H, W), got {images.shape} (rank {images.ndim}); "
            "channels come first, so convert (N, H, W, C) arrays with images.transpose(0, 3, 1, 2)"
        )
    if images.ndim == 3:
        images = images[:, None]
    elif images.shape[3] in (1, 3, 4) and images.shape[1] > 4:
        raise ValueError(
            f"images of shape {images.shape} look like (N, H, W, C); channels come first: "
            "pass images.transpose(0, 3, 1, 2)"
        )
    if images.shape[0] == 0:
        raise ValueError("images is empty: give at least one image")
    if images.dtype == np.uint8:
        images = images.copy()  # the env's own (floats are copied below): a caller editing its array must not change episodes
    elif np.issubdtype(images.dtype, np.floating):
        if not np.isfinite(images).all():
            raise ValueError("images contains NaN or infinite values")
        lo, hi = float(images.min()), float(images.max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(
                f"float images must lie in [0, 1], got values in [{lo:g}, {hi:g}]; "
                "divide by 255 (or give uint8 images, read as value / 255)"
            )
        images = images.astype(np.float32)
    else:
        raise ValueError(f"images must be uint8 (0..255) or float in [0, 1], got dtype {images.dtype}")
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"labels must have shape (N,) = ({len(images)},) to match images, got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers (class indices), got dtype {labels.dtype}")
    if labels.min() < 0:
        raise ValueError(f"labels must be class indices >= 0, got {int(labels.min())}")
    return np.ascontiguousarray(images), labels.astype(np.int64)


@functools.lru_cache(maxsize=8)
def _cached_source(split: str, data_dir: str, task: str, canvas_size, n_clutter, augment, max_shift, max_rotation, max_zoom,
                   max_images, download):  # fmt: skip
    images, labels = load_mnist(split, data_dir, download=download)
    if max_images is not None:
        images, labels = images[:max_images], labels[:max_images]
    # One fixed seed per task and split: every run evaluates the same validation and test canvases.
    seed = [20140624, SPLITS.index(split) if split in SPLITS else 3, canvas_size or 0, n_clutter]
    return ImageSource(images[:, None], labels, canvas_size, n_clutter, augment=augment, fixed_seed=seed, max_shift=max_shift,
                       max_rotation=max_rotation, max_zoom=max_zoom)  # fmt: skip


def task_canvas(task: str, canvas_size: int | None = None) -> int | None:
    """The canvas side of one of the paper's tasks: ``canvas_size`` if given, else the task's (None: no canvas)."""
    return TASKS[task].canvas_size if canvas_size is None else canvas_size


def make_source(
    task: str = "mnist",
    split: str = "train",
    *,
    images=None,
    labels=None,
    canvas_size: int | None = None,
    n_clutter: int | None = None,
    augment: bool | None = None,
    max_shift: int = 0,
    max_rotation: int = 0,
    max_zoom: int = 0,
    max_images: int | None = None,
    data_dir=None,
    download: bool = True,
) -> ImageSource:
    """The :class:`ImageSource` of a task's split, or of the user's ``images``/``labels``.

    ``canvas_size`` and ``n_clutter`` override the task's defaults; ``augment`` defaults to True on
    the ``train`` split of translated and cluttered tasks, and of any task shifted by ``max_shift``
    or distorted by ``max_rotation``/``max_zoom`` (see :class:`ImageSource`), False elsewhere. ``max_images`` keeps the
    first images of the split. Sources of MNIST splits are cached per process (their fixed canvases
    are generated once).
    """
    if max_images is not None:
        check_int("max_images", max_images, 1, " or None")
    reshapes = bool(max_shift or max_rotation or max_zoom)  # shifts or distorts each image
    if images is not None or labels is not None:
        images, labels = check_user_images(images, labels)
        if max_images is not None:
            images, labels = images[:max_images], labels[:max_images]
        # A user's images are used as they are unless a canvas (and clutter) is asked for.
        clutter_size = min(TASKS["cluttered"].clutter_size, *images.shape[2:])
        return ImageSource(images, labels, canvas_size, n_clutter or 0, clutter_size, reshapes if augment is None else bool(augment),
                           max_shift=max_shift, max_rotation=max_rotation, max_zoom=max_zoom)  # fmt: skip
    if task not in TASKS:
        raise ValueError(f"task must be one of {sorted(TASKS)} (or give images= and labels=), got {task!r}")
    if split not in (*SPLITS, "train+val"):
        raise ValueError(f"split must be one of {(*SPLITS, 'train+val')}, got {split!r}")
    canvas = task_canvas(task, canvas_size)
    clutter = TASKS[task].n_clutter if n_clutter is None else n_clutter
    if augment is None:
        augment = split in ("train", "train+val") and (canvas is not None or reshapes)
    return _cached_source(split, str(resolve_data_dir(data_dir)), task, canvas, clutter, bool(augment), max_shift, max_rotation,
                          max_zoom, max_images, download)  # fmt: skip
