"""Shared fixtures. Tests that need MNIST read ``$GLIMPSE_DATA_DIR`` or ``<repo>/../shared/data``
and skip (with the reason) when neither has ``mnist/``; everything else runs on generated images."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]

# The tests' models are tiny: one thread runs them as fast as two, and two threads slow to a crawl
# when another process holds a core (the seq_attention tests took 245 s instead of 6 that way).
# Set before torch is imported, so the scripts the tests start inherit it too; a caller's setting wins.
os.environ.setdefault("OMP_NUM_THREADS", "1")


def find_data_dir() -> Path | None:
    candidates = [os.environ.get("GLIMPSE_DATA_DIR"), REPO.parent / "shared" / "data"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "mnist" / "train-images-idx3-ubyte.gz").is_file():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    found = find_data_dir()
    if found is None:
        pytest.skip("MNIST not found: set GLIMPSE_DATA_DIR to a directory with mnist/*.gz (or keep ../shared/data beside the repo)")
    return found


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep the checksum stamps and any cache writes of a test out of the user's home."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.setenv("WANDB_SILENT", "true")


@pytest.fixture
def toy_images():
    """40 random 20x24 uint8 images with labels 0..3 (a non-square size catches x/y mix-ups)."""
    rng = np.random.default_rng(123)
    return rng.integers(0, 256, (40, 20, 24), dtype=np.uint8), rng.integers(0, 4, 40)
