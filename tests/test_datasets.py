"""MNIST files, checksums, downloads, the paper's tasks and user image sets."""

from __future__ import annotations

import gzip
import hashlib
import io
import shutil

import numpy as np
import pytest

from glimpse_env import mnist
from glimpse_env.datasets import DataError, ImageSource, load_mnist, make_source


def test_mnist_splits(data_dir):
    train, train_labels = load_mnist("train", data_dir)
    val, val_labels = load_mnist("val", data_dir)
    test, test_labels = load_mnist("test", data_dir)
    assert train.shape == (54_000, 28, 28) and val.shape == (6_000, 28, 28) and test.shape == (10_000, 28, 28)
    assert train.dtype == np.uint8 and train_labels.dtype == np.int64
    assert set(np.unique(test_labels)) == set(range(10))
    full, _ = load_mnist("train+val", data_dir)
    np.testing.assert_array_equal(full[-6_000:], val)  # validation is the tail of the training file


def test_checksum_is_verified_once_and_remembered(data_dir, tmp_path, monkeypatch):
    mnist_dir = tmp_path / "mnist"
    shutil.copytree(data_dir / "mnist", mnist_dir)
    mnist._load_mnist_files.cache_clear()
    load_mnist("test", tmp_path, download=False)
    assert mnist._stamp_file().is_file()
    calls = []
    monkeypatch.setattr(mnist, "_md5", lambda data: calls.append(len(data)) or "0")
    mnist._load_mnist_files.cache_clear()
    load_mnist("test", tmp_path, download=False)  # stamped: no checksum recomputed
    assert calls == []


def test_corrupt_file_is_named(data_dir, tmp_path):
    mnist_dir = tmp_path / "mnist"
    shutil.copytree(data_dir / "mnist", mnist_dir)
    raw = bytearray(gzip.decompress((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    raw[100] ^= 0xFF
    (mnist_dir / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(raw)))
    mnist._load_mnist_files.cache_clear()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz is corrupt.*md5"):
        load_mnist("test", tmp_path, download=False)


def test_uncompressed_files_are_read(data_dir, tmp_path):
    mnist_dir = tmp_path / "mnist"
    mnist_dir.mkdir()
    for name in mnist.MNIST_FILES:
        (mnist_dir / name).write_bytes(gzip.decompress((data_dir / "mnist" / f"{name}.gz").read_bytes()))
    mnist._load_mnist_files.cache_clear()
    images, labels = load_mnist("test", tmp_path, download=False)
    reference, reference_labels = load_mnist("test", data_dir)
    np.testing.assert_array_equal(images, reference)
    np.testing.assert_array_equal(labels, reference_labels)


def test_missing_files_say_where_to_put_them(tmp_path):
    mnist._load_mnist_files.cache_clear()
    with pytest.raises(DataError, match=f"not found in {tmp_path / 'mnist'}.*train-images-idx3-ubyte.gz"):
        load_mnist("train", tmp_path, download=False)


def test_data_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GLIMPSE_DATA_DIR", str(tmp_path))
    assert mnist.resolve_data_dir() == tmp_path
    monkeypatch.delenv("GLIMPSE_DATA_DIR")
    assert mnist.resolve_data_dir() == mnist.cache_root() / "data"


class _Response(io.BytesIO):
    headers = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_download_checks_md5_and_writes_atomically(tmp_path, monkeypatch):
    payload = gzip.compress(b"\x00\x00\x08\x01" + (3).to_bytes(4, "big") + bytes([1, 2, 3]))
    good = hashlib.md5(payload).hexdigest()
    monkeypatch.setitem(mnist.MNIST_FILES, "t10k-labels-idx1-ubyte", (good, "x", 11))
    served = []
    monkeypatch.setattr(mnist.urllib.request, "urlopen", lambda url, timeout: served.append(url) or _Response(payload))
    target = tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz"
    mnist._download("t10k-labels-idx1-ubyte", target)
    assert target.read_bytes() == payload and len(served) == 1
    assert list(target.parent.iterdir()) == [target]  # no temporary file left behind


def test_download_rejects_a_bad_checksum_and_explains(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist.urllib.request, "urlopen", lambda url, timeout: _Response(b"not mnist"))
    target = tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz"
    with pytest.raises(DataError, match="(?s)md5.*Put the four MNIST files"):
        mnist._download("t10k-labels-idx1-ubyte", target)
    assert not target.exists()


def test_offline_download_failure_explains(tmp_path, monkeypatch):
    def refuse(url, timeout):
        raise mnist.urllib.error.URLError("network unreachable")

    monkeypatch.setattr(mnist.urllib.request, "urlopen", refuse)
    mnist._load_mnist_files.cache_clear()
    with pytest.raises(DataError, match="(?s)could not download.*network unreachable.*GLIMPSE_DATA_DIR"):
        load_mnist("test", tmp_path, download=True)


# ---- tasks -------------------------------------------------------------------------------


def _digits(n=30, seed=0):
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 1, 28, 28), np.uint8)
    images[:, :, 6:22, 8:20] = rng.integers(1, 256, (n, 1, 16, 12), dtype=np.uint8)
    return images, rng.integers(0, 10, n)


def test_translated_canvas_holds_the_whole_digit():
    images, labels = _digits()
    source = ImageSource(images, labels, canvas_size=60, augment=True)
    layouts = source.draw_layouts(np.random.default_rng(0), np.arange(30))
    canvases = source.render(layouts)
    assert canvases.shape == (30, 1, 60, 60) and canvases.dtype == np.uint8
    np.testing.assert_array_equal(canvases.reshape(30, -1).sum(1), images.reshape(30, -1).sum(1, dtype=np.int64))
    for b in range(30):
        r, c = layouts[b, 1:3]
        np.testing.assert_array_equal(canvases[b, 0, r : r + 28, c : c + 28], images[b, 0])
    assert len({tuple(row) for row in layouts[:, 1:3]}) > 20  # positions actually vary


def test_clutter_is_added_then_clipped_and_comes_from_other_digits():
    images, labels = _digits()
    source = ImageSource(images, labels, canvas_size=60, n_clutter=4, augment=True)
    layouts = source.draw_layouts(np.random.default_rng(1), np.arange(30))
    pieces = layouts[:, 3:].reshape(30, 4, 5)
    assert (pieces[:, :, 0] != np.arange(30)[:, None]).all()  # clutter never from the digit itself
    canvases = source.render(layouts)
    for b in (0, 7):  # rebuild by hand
        canvas = np.zeros((60, 60), np.int64)
        for src, cr, cc, pr, pc in pieces[b]:
            canvas[pr : pr + 8, pc : pc + 8] += images[src, 0, cr : cr + 8, cc : cc + 8]
        r, c = layouts[b, 1:3]
        canvas[r : r + 28, c : c + 28] += images[b, 0]
        np.testing.assert_array_equal(canvases[b, 0], np.minimum(canvas, 255))


def test_shift_translates_training_images_with_zero_fill():
    images, labels = _digits()
    source = ImageSource(images, labels, augment=True, max_shift=3)
    layouts = source.draw_layouts(np.random.default_rng(2), np.arange(30))
    assert layouts.shape == (30, 3) and layouts[:, 1:].min() >= 0 and layouts[:, 1:].max() <= 6
    assert len({tuple(row) for row in layouts[:, 1:]}) > 15  # the shifts actually vary
    shifted = source.render(layouts)
    assert shifted.shape == images.shape and shifted.dtype == np.uint8
    for b in range(30):  # rebuild by hand: pixel (r, c) shows the image's (r + row - 3, c + col - 3)
        padded = np.pad(images[b, 0], 3)
        r, c = layouts[b, 1:]
        np.testing.assert_array_equal(shifted[b, 0], padded[r : r + 28, c : c + 28])
    # a shift never moves this digit's ink (rows 6..21, cols 8..19) off the image: nothing is lost
    np.testing.assert_array_equal(shifted.reshape(30, -1).sum(1), images.reshape(30, -1).sum(1, dtype=np.int64))


def test_shift_is_for_training_images_without_a_canvas(data_dir):
    images, labels = _digits()
    assert ImageSource(images, labels, augment=False, max_shift=3).max_shift == 0  # val/test stay as they are
    with pytest.raises(ValueError, match="max_shift must be a whole number of pixels in \\[0, 27\\], got 28"):
        ImageSource(images, labels, augment=True, max_shift=28)
    with pytest.raises(ValueError, match="max_shift=2 needs images shown without a canvas"):
        ImageSource(images, labels, canvas_size=60, augment=True, max_shift=2)
    train = make_source("mnist", "train", max_shift=2, data_dir=data_dir, max_images=100)
    val = make_source("mnist", "val", max_shift=2, data_dir=data_dir, max_images=100)
    assert (train.augment, train.max_shift, val.augment, val.max_shift) == (True, 2, False, 0)


def test_rotate_and_scale_in_pixels():
    import torch

    from glimpse_env.datasets import rotate_and_scale

    images = torch.from_numpy(_digits(4)[0])
    zeros, ones = torch.zeros(4), torch.ones(4)
    assert torch.equal(rotate_and_scale(images, zeros, ones), images)  # the identity samples pixel centres
    assert torch.equal(rotate_and_scale(images, zeros + 90, ones), torch.rot90(images, 1, (2, 3)))
    floats = images.float() / 255
    assert torch.allclose(rotate_and_scale(floats, zeros - 90, ones), torch.rot90(floats, -1, (2, 3)), atol=1e-5)
    # a rotation in pixels, not in the normalised frame: half a turn of a wide image is a flip of both axes
    wide = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (2, 1, 10, 30), dtype=np.uint8))
    assert torch.equal(rotate_and_scale(wide, torch.full((2,), 180.0), torch.ones(2)), wide.flip(2, 3))
    # halving about the centre: output pixel i samples the input at 2i - 13.5, the mean of a 2x2
    # block, so the image keeps a quarter of its ink in the middle 14x14 and zeros around it
    halved = rotate_and_scale(floats, zeros, ones / 2)
    assert halved[..., :7, :].abs().max() == 0 and halved[..., 21:, :].abs().max() == 0
    assert halved[..., :, :7].abs().max() == 0 and halved[..., :, 21:].abs().max() == 0
    assert halved.sum().item() == pytest.approx(floats.sum().item() / 4, rel=1e-4)
    assert rotate_and_scale(floats, zeros, ones * 2).sum() > 3 * floats.sum()  # doubling: four times the ink, less what leaves the frame


def test_rotation_and_zoom_distort_training_digits_only(data_dir):
    images, labels = _digits()
    source = ImageSource(images, labels, canvas_size=60, n_clutter=2, augment=True, max_rotation=10, max_zoom=20)
    rng = np.random.default_rng(3)
    layouts = source.draw_layouts(rng, np.arange(30))
    assert layouts.shape == (30, 3 + 5 * 2 + 2)  # placement, clutter, then degrees and percent
    assert 0 <= layouts[:, -2].min() and layouts[:, -2].max() <= 20 and layouts[:, -1].max() <= 40
    assert len(set(layouts[:, -2])) > 10 and len(set(layouts[:, -1])) > 10
    # the clutter and the place are those of the same layout without the distortion's columns
    plain = ImageSource(images, labels, canvas_size=60, n_clutter=2, augment=True)
    undistorted = layouts.copy()
    undistorted[:, -2:] = [10, 20]  # 0 degrees, 0 percent
    np.testing.assert_array_equal(source.render(undistorted), plain.render(layouts[:, :-2]))
    assert not np.array_equal(source.render(layouts), plain.render(layouts[:, :-2]))
    np.testing.assert_array_equal(source.render(layouts), source.render(layouts))  # a layout is an episode
    # with the shift, on images shown as they are
    shifted = ImageSource(images, labels, augment=True, max_shift=2, max_rotation=5)
    assert shifted.draw_layouts(rng, np.arange(4)).shape == (4, 5)  # index, shift, degrees, percent
    assert shifted.render(shifted.draw_layouts(rng, n=4)).shape == (4, 1, 28, 28)
    assert ImageSource(images, labels, augment=False, max_rotation=10, max_zoom=10).distorts is False  # val/test stay
    with pytest.raises(ValueError, match="max_rotation must be an integer >= 0.*got -1"):
        ImageSource(images, labels, augment=True, max_rotation=-1)
    with pytest.raises(ValueError, match="max_zoom at most 90 percent, got 0 and 95"):
        ImageSource(images, labels, augment=True, max_zoom=95)
    train = make_source("translated", "train", max_rotation=10, data_dir=data_dir, max_images=100)
    test = make_source("translated", "test", max_rotation=10, data_dir=data_dir, max_images=100)
    assert (train.max_rotation, test.max_rotation, test.augment) == (10, 0, False)
    mnist_train = make_source("mnist", "train", max_zoom=10, data_dir=data_dir, max_images=100)
    assert (mnist_train.augment, mnist_train.max_zoom) == (True, 10)


def test_fixed_canvases_are_the_same_every_time():
    images, labels = _digits()
    a = ImageSource(images, labels, canvas_size=60, n_clutter=4, augment=False, fixed_seed=[7, 1])
    b = ImageSource(images, labels, canvas_size=60, n_clutter=4, augment=False, fixed_seed=[7, 1])
    c = ImageSource(images, labels, canvas_size=60, n_clutter=4, augment=False, fixed_seed=[8, 1])
    np.testing.assert_array_equal(a.fixed_canvases, b.fixed_canvases)
    assert (a.fixed_canvases != c.fixed_canvases).any()
    rng = np.random.default_rng(0)
    assert a.draw_layouts(rng).shape == (1, 1)  # an episode only picks the image


def test_test_split_is_fixed_and_training_is_augmented(data_dir):
    test = make_source("cluttered", "test", data_dir=data_dir, max_images=200)
    assert test.fixed_canvases is not None and test.image_shape == (1, 60, 60)
    train = make_source("cluttered", "train", data_dir=data_dir, max_images=200)
    assert train.augment and train.fixed_canvases is None
    big = make_source("cluttered", "val", canvas_size=100, n_clutter=8, data_dir=data_dir, max_images=50)
    assert big.image_shape == (1, 100, 100)


@pytest.mark.parametrize(
    "images,labels,message",
    [
        (np.zeros((4, 4), np.uint8), np.zeros(4, int), "rank 2"),
        (np.zeros((4, 5, 5, 5, 1), np.uint8), np.zeros(4, int), "rank 5"),
        (np.zeros((4, 5, 5), np.int16), np.zeros(4, int), "dtype int16"),
        (np.full((4, 5, 5), 2.0), np.zeros(4, int), r"\[0, 1\], got values in \[2, 2\]"),
        (np.full((4, 5, 5), np.nan), np.zeros(4, int), "NaN"),
        (np.zeros((4, 5, 5), np.uint8), np.zeros(3, int), r"labels must have shape \(N,\) = \(4,\)"),
        (np.zeros((4, 5, 5), np.uint8), np.zeros(4), "integers"),
        (np.zeros((4, 5, 5), np.uint8), -np.ones(4, int), ">= 0"),
        (np.zeros((0, 5, 5), np.uint8), np.zeros(0, int), "empty"),
        (np.zeros((4, 32, 32, 3), np.uint8), np.zeros(4, int), r"look like \(N, H, W, C\); channels come first"),
    ],
)
def test_bad_user_images_are_explained(images, labels, message):
    with pytest.raises(ValueError, match=message):
        make_source(images=images, labels=labels)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_user_images_are_the_envs_own(toy_images, dtype):
    """A caller editing its arrays after making the env does not change the env's episodes."""
    images, labels = toy_images
    images = images if dtype == np.uint8 else (images / 255).astype(dtype)
    source = make_source(images=images, labels=labels)
    seen = source.base_images.copy()
    images[:] = 0
    labels[:] = 0
    np.testing.assert_array_equal(source.base_images, seen)
    assert source.base_images.any() and source.labels.max() > 0


def test_unknown_task_and_split():
    with pytest.raises(ValueError, match="task must be one of"):
        make_source("fashion")
    with pytest.raises(ValueError, match="split must be one of"):
        make_source("mnist", "dev")
