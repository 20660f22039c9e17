"""MNIST files: where they are, checking them, downloading them, reading them.

The data directory is, in order: the ``data_dir`` argument, ``$GLIMPSE_DATA_DIR``, or the user cache
(``$XDG_CACHE_HOME/glimpse-attention/data``, by default ``~/.cache/glimpse-attention/data``). MNIST is
read from ``<data dir>/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]``. Missing files are
downloaded there from the public mirrors, checked against their md5; a local file is checked once
(md5 of its decompressed bytes) and the pass is remembered in the cache, keyed by path, size and
modification time. Splits: ``train`` is the first 54,000 training images, ``val`` the last 6,000,
``test`` the standard 10,000.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import logging
import os
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from glimpse_env.files import atomic_file

logger = logging.getLogger(__name__)

__all__ = ["DataError", "cache_root", "default_data_dir", "load_mnist", "resolve_data_dir"]

MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
# name -> (md5 of the published .gz, md5 of the decompressed bytes, decompressed size)
MNIST_FILES = {
    "train-images-idx3-ubyte": ("f68b3c2dcbeaaa9fbdd348bbdeb94873", "6bbc9ace898e44ae57da46a324031adb", 47_040_016),
    "train-labels-idx1-ubyte": ("d53e105ee54ea40749a09fcbcd1e9432", "a25bea736e30d166cdddb491f175f624", 60_008),
    "t10k-images-idx3-ubyte": ("9fb629c4189551a2d022fa330f9573f3", "2646ac647ad5339dbf082846283269ea", 7_840_016),
    "t10k-labels-idx1-ubyte": ("ec29112dd5afa0611ce80d1b7f02629c", "27ae3e4e09519cfbb04c329615203637", 10_008),
}
N_VAL = 6_000
SPLITS = ("train", "val", "test")


class DataError(RuntimeError):
    """A data file is missing, corrupt, or cannot be fetched; the message says what to do."""


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/glimpse-attention`` (default ``~/.cache/glimpse-attention``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "glimpse-attention"


def default_data_dir() -> Path:
    """The data directory used when none is given: ``$GLIMPSE_DATA_DIR``, else the user cache."""
    env = os.environ.get("GLIMPSE_DATA_DIR")
    return Path(env).expanduser() if env else cache_root() / "data"


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """``data_dir`` if given, else :func:`default_data_dir`."""
    return Path(data_dir).expanduser() if data_dir is not None else default_data_dir()


# --------------------------------------------------------------------------------------------
# Files: verification, download, IDX parsing
# --------------------------------------------------------------------------------------------


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _stamp_file() -> Path:
    return cache_root() / "verified.json"


def _stamp_key(path: Path) -> str:
    st = path.stat()
    return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"


def _already_verified(path: Path) -> bool:
    try:
        return _stamp_key(path) in json.loads(_stamp_file().read_text())
    except (OSError, ValueError):
        return False


def _remember_verified(path: Path) -> None:
    stamp = _stamp_file()
    try:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        try:
            known = json.loads(stamp.read_text())
        except (OSError, ValueError):
            known = {}
        known[_stamp_key(path)] = True
        with atomic_file(stamp) as f:
            f.write(json.dumps(known, indent=0).encode())
    except OSError as err:  # a read-only home only costs a re-check next time
        logger.debug("could not remember the checksum of %s: %s", path, err)


def read_decompressed(path: Path) -> bytes:
    """The bytes of ``path``, gunzipped when its name ends in ``.gz``.

    Raises:
        DataError: a ``.gz`` file that does not decompress (a truncated download, say).
    """
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise DataError(f"{path} is not a valid gzip file ({err}); delete it and load again to re-download") from err
    return raw


def _read_checked(path: Path, name: str) -> bytes:
    """Decompressed bytes of an MNIST file, md5-checked unless this exact file passed before."""
    raw = read_decompressed(path)
    if not _already_verified(path):
        _, md5, size = MNIST_FILES[name]
        if len(raw) != size or _md5(raw) != md5:
            raise DataError(
                f"{path} is corrupt: {len(raw):,} bytes with md5 {_md5(raw)}, expected {size:,} bytes "
                f"with md5 {md5} (decompressed). Delete it and load again to re-download, or replace it "
                "with a good copy."
            )
        _remember_verified(path)
    return raw


def _download(name: str, target: Path) -> None:
    """Fetch ``<name>.gz`` from the first mirror that answers, check its md5, write it atomically."""
    from tqdm.auto import tqdm

    gz_md5 = MNIST_FILES[name][0]
    errors = []
    for mirror in MNIST_MIRRORS:
        url = mirror + name + ".gz"
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                total = int(response.headers.get("Content-Length") or 0) or None
                chunks = []
                with tqdm(total=total, unit="B", unit_scale=True, desc=f"{name}.gz", leave=False) as bar:
                    while chunk := response.read(1 << 16):
                        chunks.append(chunk)
                        bar.update(len(chunk))
            data = b"".join(chunks)
        except (urllib.error.URLError, OSError, TimeoutError) as err:
            errors.append(f"{url}: {err}")
            continue
        if _md5(data) != gz_md5:
            errors.append(f"{url}: md5 {_md5(data)}, expected {gz_md5}")
            continue
        with atomic_file(target) as f:
            f.write(data)
        return
    raise DataError(
        f"could not download {name}.gz ({'; '.join(errors)}).\n"
        f"Put the four MNIST files ({', '.join(n + '.gz' for n in MNIST_FILES)}) in {target.parent}/ "
        "(gzipped or not), or point $GLIMPSE_DATA_DIR or data_dir= at a directory whose mnist/ "
        "subdirectory has them."
    )


def _find_or_fetch(name: str, mnist_dir: Path, download: bool) -> Path:
    for candidate in (mnist_dir / (name + ".gz"), mnist_dir / name):
        if candidate.is_file():
            return candidate
    if not download:
        raise DataError(
            f"MNIST file {name}[.gz] not found in {mnist_dir}/. Put the four MNIST files "
            f"({', '.join(n + '.gz' for n in MNIST_FILES)}) there, or load with download=True, or "
            "point $GLIMPSE_DATA_DIR or data_dir= at a directory whose mnist/ subdirectory has them."
        )
    target = mnist_dir / (name + ".gz")
    logger.info("downloading %s to %s", name, target)
    _download(name, target)
    return target


def _parse_idx(raw: bytes, path: Path) -> np.ndarray:
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path} is not an unsigned-byte IDX file (magic {raw[:4].hex()})")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


@functools.lru_cache(maxsize=4)
def _load_mnist_files(mnist_dir: Path, prefix: str, download: bool) -> tuple[np.ndarray, np.ndarray]:
    arrays = []
    for kind in ("images-idx3", "labels-idx1"):
        name = f"{prefix}-{kind}-ubyte"
        path = _find_or_fetch(name, mnist_dir, download)
        arrays.append(_parse_idx(_read_checked(path, name), path))
    images, labels = arrays
    images.setflags(write=False)
    labels = labels.astype(np.int64)
    labels.setflags(write=False)
    return images, labels


def load_mnist(split: str = "train", data_dir=None, download: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """MNIST images ``(N, 28, 28)`` uint8 and labels ``(N,)`` int64 of one split (read-only arrays).

    Args:
        split: ``"train"`` (first 54,000), ``"val"`` (last 6,000 of the training file), ``"test"``
            (10,000) or ``"train+val"`` (all 60,000).
        data_dir: directory holding ``mnist/``; see the module docstring for the default.
        download: fetch missing files from the public mirrors (md5-checked).

    Raises:
        DataError: files missing (and not downloadable) or corrupt; the message says where to put them.
    """
    if split not in (*SPLITS, "train+val"):
        raise ValueError(f"split must be one of {(*SPLITS, 'train+val')}, got {split!r}")
    mnist_dir = resolve_data_dir(data_dir) / "mnist"
    images, labels = _load_mnist_files(mnist_dir, "t10k" if split == "test" else "train", download)
    if split == "train":
        return images[:-N_VAL], labels[:-N_VAL]
    if split == "val":
        return images[-N_VAL:], labels[-N_VAL:]
    return images, labels
