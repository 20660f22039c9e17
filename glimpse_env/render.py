"""Pictures of episodes: the image, the nested glimpse squares and the path, as RGB arrays (NumPy only)."""

from __future__ import annotations

import numpy as np

__all__ = ["draw_episode", "image_grid", "to_rgb"]

SCALE_COLOURS = np.array([[0, 255, 0], [255, 200, 0], [255, 80, 0], [255, 0, 255]], np.uint8)
PATH_COLOUR = np.array([60, 140, 255], np.uint8)


def to_rgb(image: np.ndarray, zoom: int = 1) -> np.ndarray:
    """``(C, H, W)`` uint8 or float in ``[0, 1]`` -> ``(H * zoom, W * zoom, 3)`` uint8."""
    if image.dtype != np.uint8:
        image = (np.clip(image, 0.0, 1.0) * 255).round().astype(np.uint8)
    if image.shape[0] == 1:
        image = np.repeat(image, 3, 0)
    elif image.shape[0] != 3:
        image = np.repeat(image[:1], 3, 0)  # other channel counts: show the first
    rgb = image.transpose(1, 2, 0)
    return np.ascontiguousarray(rgb.repeat(zoom, 0).repeat(zoom, 1))


def _to_pixels(location: np.ndarray, height: int, width: int, zoom: int) -> tuple[float, float]:
    """``(x, y)`` in ``[-1, 1]`` -> ``(row, col)`` on the zoomed picture, as the sensor rounds it."""
    row = np.floor((location[1] + 1.0) * 0.5 * height + 0.5)
    col = np.floor((location[0] + 1.0) * 0.5 * width + 0.5)
    return row * zoom, col * zoom


def _square(canvas: np.ndarray, top: int, left: int, side: int, colour: np.ndarray) -> None:
    """Outline of a square, clipped to the canvas."""
    H, W, _ = canvas.shape
    bottom, right = top + side - 1, left + side - 1
    r0, r1 = max(top, 0), min(bottom, H - 1)
    c0, c1 = max(left, 0), min(right, W - 1)
    if r0 > r1 or c0 > c1:
        return
    for row in (top, bottom):
        if 0 <= row < H:
            canvas[row, c0 : c1 + 1] = colour
    for col in (left, right):
        if 0 <= col < W:
            canvas[r0 : r1 + 1, col] = colour


def _line(canvas: np.ndarray, a: tuple[float, float], b: tuple[float, float], colour: np.ndarray) -> None:
    H, W, _ = canvas.shape
    n = int(max(abs(b[0] - a[0]), abs(b[1] - a[1]))) + 1
    rows = np.linspace(a[0], b[0], n).round().astype(int)
    cols = np.linspace(a[1], b[1], n).round().astype(int)
    keep = (rows >= 0) & (rows < H) & (cols >= 0) & (cols < W)
    canvas[rows[keep], cols[keep]] = colour


def draw_episode(image: np.ndarray, path: np.ndarray, glimpse_size: int, n_scales: int, scale_factor: int = 2,
                 zoom: int | None = None) -> np.ndarray:  # fmt: skip
    """The image with the glimpse path and the nested squares of the latest glimpse.

    Args:
        image: ``(C, H, W)`` uint8 or float in ``[0, 1]``.
        path: ``(T, 2)`` glimpse locations so far, ``(x, y)`` in ``[-1, 1]``, oldest first.
        zoom: pixels per image pixel (default: about 240 pixels across).

    Returns:
        ``(H * zoom, W * zoom, 3)`` uint8.
    """
    _, H, W = image.shape
    zoom = zoom or max(1, 240 // max(H, W))
    canvas = to_rgb(image, zoom)
    points = [_to_pixels(loc, H, W, zoom) for loc in np.asarray(path, np.float64)]
    for a, b in zip(points, points[1:]):
        _line(canvas, a, b, PATH_COLOUR)
    for row, col in points[:-1]:
        _square(canvas, int(row) - 1, int(col) - 1, 3, PATH_COLOUR)
    if points:
        row, col = points[-1]
        for i in range(n_scales):
            side = glimpse_size * scale_factor**i
            _square(canvas, int(row) - (side // 2) * zoom, int(col) - (side // 2) * zoom, side * zoom,
                    SCALE_COLOURS[i % len(SCALE_COLOURS)])  # fmt: skip
    return canvas


def image_grid(frames: list[np.ndarray], n_cols: int = 8, pad: int = 4, background: int = 255) -> np.ndarray:
    """Tile ``(H, W, 3)`` uint8 frames of equal size into one ``(rows * (H + pad), ...)`` picture."""
    if not frames:
        raise ValueError("image_grid needs at least one frame")
    H, W, _ = frames[0].shape
    n_cols = min(n_cols, len(frames))
    n_rows = -(-len(frames) // n_cols)
    grid = np.full((n_rows * (H + pad) + pad, n_cols * (W + pad) + pad, 3), background, np.uint8)
    for i, frame in enumerate(frames):
        r, c = divmod(i, n_cols)
        grid[pad + r * (H + pad) : pad + r * (H + pad) + H, pad + c * (W + pad) : pad + c * (W + pad) + W] = frame
    return grid
