"""The glimpse sensor against a slow, obviously correct reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from glimpse_env import extract_glimpses
from glimpse_env.sensor import summed_area_table, table_dtype


def reference_glimpse(image: np.ndarray, location, glimpse_size: int, n_scales: int, scale_factor: int) -> np.ndarray:
    """One image ``(H, W)`` float, pixel by pixel: ``(K, G, G)``."""
    H, W = image.shape
    row = int(np.floor((location[1] + 1) / 2 * H + 0.5))
    col = int(np.floor((location[0] + 1) / 2 * W + 0.5))
    out = np.zeros((n_scales, glimpse_size, glimpse_size))
    for k in range(n_scales):
        block = scale_factor**k
        top, left = row - glimpse_size * block // 2, col - glimpse_size * block // 2
        for i in range(glimpse_size):
            for j in range(glimpse_size):
                total = 0.0
                for y in range(top + i * block, top + (i + 1) * block):
                    for x in range(left + j * block, left + (j + 1) * block):
                        if 0 <= y < H and 0 <= x < W:
                            total += image[y, x]
                out[k, i, j] = total / block**2
    return out


@pytest.mark.parametrize("glimpse_size,n_scales,scale_factor", [(8, 1, 2), (6, 3, 2), (5, 2, 3), (3, 4, 2)])
def test_matches_reference_everywhere(glimpse_size, n_scales, scale_factor):
    rng = np.random.default_rng(glimpse_size * 100 + n_scales)
    images = rng.integers(0, 256, (12, 21, 26), dtype=np.uint8)
    borders = np.array([[-1, -1], [1, 1], [-1, 1], [1, -1], [0, 0], [-1.4, 0.3], [2.5, -3.0], [0.999, -0.999]])
    locations = np.concatenate([borders, rng.uniform(-1.2, 1.2, (4, 2))])
    got = extract_glimpses(images, locations, glimpse_size, n_scales, scale_factor)
    assert got.shape == (12, n_scales, glimpse_size, glimpse_size) and got.dtype == np.float32
    for b in range(12):
        want = reference_glimpse(images[b] / 255.0, locations[b], glimpse_size, n_scales, scale_factor)
        np.testing.assert_allclose(got[b], want, atol=1e-6, err_msg=f"location {locations[b]}")


def test_float_and_multichannel_images_match_reference():
    rng = np.random.default_rng(1)
    images = rng.random((3, 3, 17, 15)).astype(np.float32)
    locations = rng.uniform(-1, 1, (3, 2))
    got = extract_glimpses(images, locations, 4, 3)
    assert got.shape == (3, 3, 3, 4, 4)  # (B, K, C, G, G)
    for b in range(3):
        for c in range(3):
            np.testing.assert_allclose(got[b, :, c], reference_glimpse(images[b, c], locations[b], 4, 3, 2), atol=1e-6)


def test_far_outside_is_zero_and_centre_of_constant_image_is_one():
    images = np.full((2, 28, 28), 255, np.uint8)
    got = extract_glimpses(images, np.array([[5.0, 5.0], [0.0, 0.0]]), 8, 3)
    assert (got[0] == 0).all()
    assert (got[1, 0] == 1).all() and (got[1, 1] == 1).all()  # 8 and 16 wide fit inside 28
    assert 0 < got[1, 2].min() < 1  # 32 wide reaches past the border: partly zero


def test_coarse_pixel_is_the_mean_of_its_block():
    image = np.zeros((1, 16, 16), np.uint8)
    image[0, 0, 0] = 255  # one bright pixel in the top-left corner
    got = extract_glimpses(image, np.zeros((1, 2)), 4, 3)  # widths 4, 8, 16 centred on (8, 8)
    assert got[0, 2, 0, 0] == pytest.approx(1 / 16)  # a 4x4 block
    assert got[0, 1, 0, 0] == 0  # the 8-wide patch starts at pixel 4


def test_x_is_columns_and_y_is_rows():
    image = np.zeros((1, 20, 40), np.uint8)
    image[0, :, 30:] = 255  # right side bright
    right = extract_glimpses(image, np.array([[0.75, 0.0]]), 4, 1)
    down = extract_glimpses(image, np.array([[0.0, 0.75]]), 4, 1)
    assert right.min() == 1 and down.max() == 0


def test_torch_input_gives_torch_output_equal_to_numpy():
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (5, 30, 30), dtype=np.uint8)
    locations = rng.uniform(-1, 1, (5, 2)).astype(np.float32)
    got = extract_glimpses(torch.from_numpy(images), torch.from_numpy(locations), 6, 2)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
    np.testing.assert_array_equal(got.numpy(), extract_glimpses(images, locations, 6, 2))


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(glimpse_size=0), "glimpse_size"),
        (dict(n_scales=-1), "n_scales"),
        (dict(scale_factor=1.5), "scale_factor"),
    ],
)
def test_bad_parameters_are_named(kwargs, message):
    params = dict(glimpse_size=8, n_scales=1, scale_factor=2) | kwargs
    with pytest.raises(ValueError, match=message):
        extract_glimpses(np.zeros((1, 28, 28), np.uint8), np.zeros((1, 2)), **params)


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match="images must have shape"):
        extract_glimpses(np.zeros((28, 28), np.uint8), np.zeros((1, 2)), 8, 1)
    with pytest.raises(ValueError, match="locations must have shape"):
        extract_glimpses(np.zeros((2, 28, 28), np.uint8), np.zeros((3, 2)), 8, 1)


def test_the_integer_table_is_exact_and_wide_enough():
    assert table_dtype(np.uint8, 100, 100) == torch.int32 and table_dtype(torch.uint8, 100, 100) == torch.int32
    assert table_dtype(np.uint8, 3000, 3000) == torch.int64  # 255 H W would overflow int32
    assert table_dtype(np.float32, 28, 28) == table_dtype(torch.float64, 28, 28) == torch.float64
    white = torch.full((2, 1, 100, 100), 255, dtype=torch.uint8)
    table = summed_area_table(white)
    assert table.dtype == torch.int32 and table[0, 0, -1, -1] == 255 * 100 * 100
    torch.testing.assert_close(table, summed_area_table(white.double() * 1.0).to(torch.int32), rtol=0, atol=0)
