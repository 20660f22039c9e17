"""The glimpse sensor of *Recurrent Models of Visual Attention* (Mnih et al., 2014), batched.

A glimpse is ``K`` square patches centred on one location: patch ``i`` is ``G * s**i`` pixels wide
and is reduced to ``G x G`` by area averaging, so each output pixel of a coarse patch is the mean of
the ``s**i x s**i`` block of image pixels it covers. Pixels outside the image count as zero.

Location convention
-------------------
``location = (x, y)`` in ``[-1, 1]^2``: ``x`` runs left to right over the columns, ``y`` top to
bottom over the rows. ``(0, 0)`` is the centre of the image, ``(-1, -1)`` its top-left *corner*
and ``(1, 1)`` its bottom-right corner, so a glimpse at ``x = -1`` is half outside the image.
On an ``H x W`` image the location maps to the pixel-grid point
``(row, col) = round((y + 1) / 2 * H), round((x + 1) / 2 * W)`` (half rounds up), and a patch of
width ``w`` starts ``w // 2`` pixels above and left of that point. Locations outside ``[-1, 1]``
are allowed here (the patch simply sees more zeros); the environments reject them.

How it is computed
------------------
Every block average is read from a summed-area table (integral image) ``S`` of shape
``(H + 1, W + 1)``: the sum over rows ``[r0, r1)`` and columns ``[c0, c1)`` is
``S[r1, c1] - S[r0, c1] - S[r1, c0] + S[r0, c0]``, and clamping ``r, c`` to ``[0, H] x [0, W]``
turns it into the sum over the part inside the image, which is exactly "zero outside". A patch
therefore costs one gather of ``(G + 1)^2`` table entries per scale, whatever its width, with no
padding and no Python loop over the batch. ``uint8`` images get an integer table, so the result is
exact: ``int32`` while a whole image's sum fits (``255 H W < 2**31``, up to about 2,900 x 2,900
pixels; torch's CPU cumsum is 1.2-2.3x faster on it than on ``int64`` for 128 images of 28 to 100
pixels), else ``int64``. Float images get a ``float64`` table (:func:`table_dtype`).

The functions take and return ``torch`` tensors on any device; :func:`extract_glimpses` also takes
NumPy arrays and then returns NumPy arrays.

Dimension letters: ``B`` batch, ``C`` channels, ``H x W`` image, ``K`` scales, ``G`` glimpse side.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from glimpse_env.checks import check_int

__all__ = ["extract_glimpses", "summed_area_table", "glimpses_from_table", "check_sensor_params", "table_dtype"]


def check_sensor_params(glimpse_size: int, n_scales: int, scale_factor: int) -> None:
    """Raise ``ValueError`` unless the sensor parameters are positive integers (scale factor >= 1)."""
    check_int("glimpse_size", glimpse_size)
    check_int("n_scales", n_scales)
    check_int("scale_factor", scale_factor, 1, " (so that every coarse pixel averages a whole block of image pixels)")


def table_dtype(image_dtype: torch.dtype | np.dtype, height: int, width: int) -> torch.dtype:
    """The summed-area table's dtype for images of this dtype and size (see the module docstring)."""
    if image_dtype not in (torch.uint8, np.uint8):
        return torch.float64
    return torch.int32 if 255 * height * width < 2**31 else torch.int64


def summed_area_table(images: torch.Tensor) -> torch.Tensor:
    """Integral images with a leading zero row and column.

    Args:
        images: ``(B, C, H, W)``, ``uint8`` (values 0..255) or floating point.

    Returns:
        ``(B, C, H + 1, W + 1)``; :func:`table_dtype`: an exact integer table for ``uint8`` input,
        else ``float64``. ``table[..., r, c]`` is the sum of ``images[..., :r, :c]``.
    """
    dtype = table_dtype(images.dtype, images.shape[-2], images.shape[-1])
    table = torch.nn.functional.pad(images.to(dtype), (1, 0, 1, 0))
    return table.cumsum(-1, dtype=dtype).cumsum(-2, dtype=dtype)


@functools.lru_cache(maxsize=64)
def _sensor_constants(glimpse_size: int, n_scales: int, scale_factor: int, height: int, width: int, device: torch.device):
    """Per-scale block-edge offsets ``(K, G + 1)`` from the centre point, block areas ``(K, 1, 1)``,
    and the half image size ``(2,)`` as ``(W / 2, H / 2)``.

    Cached per configuration and device: they are constants, rebuilding them costs more torch calls
    than the gather itself on a small batch, and on an accelerator each rebuild would be a copy
    from the host that waits for the device.
    """
    G = glimpse_size
    block = scale_factor ** torch.arange(n_scales, dtype=torch.int64, device=device)  # (K,)
    offsets = block[:, None] * torch.arange(G + 1, dtype=torch.int64, device=device) - (G * block[:, None]) // 2
    area = (block.to(torch.float64) ** 2)[:, None, None]
    half_size = torch.tensor([0.5 * width, 0.5 * height], dtype=torch.float64, device=device)
    return offsets, area, half_size


def glimpses_from_table(
    table: torch.Tensor,
    locations: torch.Tensor,
    glimpse_size: int,
    n_scales: int,
    scale_factor: int = 2,
) -> torch.Tensor:
    """Glimpses read from precomputed summed-area tables (an environment computes them once per image).

    Args:
        table: ``(B, C, H + 1, W + 1)`` from :func:`summed_area_table`.
        locations: ``(B, 2)`` as ``(x, y)``; see the module docstring for the convention.

    Returns:
        ``(B, K, C, G, G)`` float32; ``value / 255`` for a table of ``uint8`` images, otherwise in
        the images' own units.
    """
    B, C, H1, W1 = table.shape
    G, K = glimpse_size, n_scales
    offsets, area, half_size = _sensor_constants(G, K, scale_factor, H1 - 1, W1 - 1, table.device)
    # float64 so the rounding is the same whatever precision the caller's locations have.
    point = ((locations.to(torch.float64) + 1.0) * half_size + 0.5).floor_().to(torch.int64)  # (B, 2)
    edges = point[:, :, None, None] + offsets  # (B, 2, K, G+1): column edges, then row edges
    cols = edges[:, 0].clamp_(0, W1 - 1)
    rows = edges[:, 1].clamp_(0, H1 - 1)
    flat = (rows[:, :, :, None] * W1 + cols[:, :, None, :]).reshape(B, 1, K * (G + 1) ** 2)
    corners = table.reshape(B, C, H1 * W1).gather(2, flat.expand(B, C, -1)).reshape(B, C, K, G + 1, G + 1)
    sums = corners[..., 1:, 1:] - corners[..., :-1, 1:] - corners[..., 1:, :-1] + corners[..., :-1, :-1]
    if not table.dtype.is_floating_point:  # a table of uint8 images
        area = area * 255.0
    return (sums / area).to(torch.float32).transpose(1, 2)  # (B, K, C, G, G)


def extract_glimpses(images, locations, glimpse_size: int, n_scales: int, scale_factor: int = 2):
    """Cut a multi-resolution glimpse from each image at each location.

    Args:
        images: ``(B, H, W)`` or ``(B, C, H, W)``, NumPy array or torch tensor. ``uint8`` images are
            read as ``value / 255``; float images are used as they are.
        locations: ``(B, 2)`` as ``(x, y)`` in the ``[-1, 1]`` frame (centre ``(0, 0)``, top-left
            corner ``(-1, -1)``); values beyond ``[-1, 1]`` see zeros outside the image.
        glimpse_size: ``G``, the side of every patch after reduction.
        n_scales: ``K``, the number of patches.
        scale_factor: ``s``; patch ``i`` covers ``G * s**i`` pixels before reduction.

    Returns:
        ``(B, K, G, G)`` for 3-D ``images``, ``(B, K, C, G, G)`` for 4-D, ``float32``, of the same
        kind (NumPy or torch, same device) as ``images``.

    Example:
        >>> import numpy as np
        >>> extract_glimpses(np.ones((2, 28, 28), np.uint8) * 255, np.zeros((2, 2)), 8, 3).shape
        (2, 3, 8, 8)
    """
    check_sensor_params(glimpse_size, n_scales, scale_factor)
    as_numpy = isinstance(images, np.ndarray)
    images_t = torch.from_numpy(images) if as_numpy else images
    if not isinstance(images_t, torch.Tensor):
        raise TypeError(f"images must be a NumPy array or a torch tensor, got {type(images).__name__}")
    if images_t.ndim not in (3, 4):
        raise ValueError(
            f"images must have shape (B, H, W) or (B, C, H, W), got {tuple(images_t.shape)}"
        )
    locations_t = torch.as_tensor(locations, device=images_t.device)
    if locations_t.shape != (images_t.shape[0], 2):
        raise ValueError(
            f"locations must have shape (B, 2) = ({images_t.shape[0]}, 2) to match images, "
            f"got {tuple(locations_t.shape)}"
        )
    single_channel = images_t.ndim == 3
    table = summed_area_table(images_t[:, None] if single_channel else images_t)
    patches = glimpses_from_table(table, locations_t, glimpse_size, n_scales, scale_factor)
    if single_channel:
        patches = patches[:, :, 0]
    return patches.numpy() if as_numpy else patches
