"""Multi-process training on CPU (gloo): one DDP step equals one step on the union of the shards,
and a worker killed mid-run is survived through torchrun's elastic restart, bit for bit."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel

from agents.checkpoint import load_checkpoint
from agents.reinforce import EpisodeLoss
from agents.trainer import TrainConfig, build_env, build_model
from tests.conftest import REPO

pytestmark = pytest.mark.skipif(not dist.is_available() or sys.platform == "win32", reason="needs torch.distributed")

SHARD = 16


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_step(config: TrainConfig, indices: np.ndarray, wrap=None) -> dict[str, torch.Tensor]:
    """Parameters after one SGD step on the episodes of ``indices`` (deterministic paths)."""
    envs = build_env(config, "train", len(indices), max_images=64)
    envs.reset(seed=0)
    torch.manual_seed(0)
    model = build_model(config, envs.config.glimpse_shape, envs.config.n_classes)
    loss_module = EpisodeLoss(model)
    if wrap is not None:
        loss_module = wrap(loss_module)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    losses, _ = loss_module(envs, indices, deterministic=True)
    losses["total"].backward()
    optimizer.step()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _ddp_worker(rank: int, world: int, port: int, config: TrainConfig, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        params = one_step(config, np.arange(rank * SHARD, (rank + 1) * SHARD), wrap=DistributedDataParallel)
        if rank == 0:
            torch.save(params, out)
    finally:
        dist.destroy_process_group()


def test_ddp_step_equals_single_process_on_the_union(tmp_path, data_dir):
    # a centred first glimpse and unshifted images: random starts and shifts are drawn by each rank's
    # environments, so the shards' episodes would differ from the same episodes in one process
    config = TrainConfig(env="GlimpseMNIST-v0", data_dir=str(data_dir), start="center", train_shift=0, hidden_size=32,
                         glimpse_hidden=16, glimpse_out=32)  # fmt: skip
    out = str(tmp_path / "ddp.pt")
    mp.spawn(_ddp_worker, args=(2, free_port(), config, out), nprocs=2, join=True)
    ddp = torch.load(out, weights_only=True)
    single = one_step(config, np.arange(2 * SHARD))
    for name in single:
        torch.testing.assert_close(ddp[name], single[name], rtol=1e-5, atol=1e-6, msg=name)


def children_of(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def rank_of(pid: int) -> int | None:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    for entry in environ:
        if entry.startswith(b"RANK="):
            return int(entry[5:])
    return None


def torchrun(out: Path, data_dir, *extra) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "--max-restarts", "2",
        str(REPO / "scripts" / "train_ram.py"), "--train-subset", "2048", "--batch-size", "32", "--epochs", "3",
        "--val-subset", "200", "--eval-batch-size", "100", "--hidden-size", "64", "--glimpse-hidden", "32",
        "--glimpse-out", "64", "--checkpoint-every", "4", "--threads", "1", "--progress", "false",
        "--wandb-mode", "disabled", "--data-dir", str(data_dir), "--out", str(out), *extra,
    ]  # fmt: skip
    env = os.environ | {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.slow
def test_killed_worker_is_restarted_and_the_run_ends_as_if_uninterrupted(tmp_path, data_dir):
    clean = torchrun(tmp_path / "clean", data_dir)
    log, _ = clean.communicate(timeout=600)
    assert clean.returncode == 0, log
    # the same run; SIGKILL rank 1 once the first mid-epoch checkpoint exists
    run = torchrun(tmp_path / "killed", data_dir)
    deadline = time.monotonic() + 300
    killed = None
    while killed is None and time.monotonic() < deadline and run.poll() is None:
        if (tmp_path / "killed" / "last.pt").is_file():
            workers = [p for p in children_of(run.pid) if rank_of(p) == 1]
            if workers:
                os.kill(workers[0], signal.SIGKILL)
                killed = workers[0]
        time.sleep(0.02)
    log, _ = run.communicate(timeout=600)
    assert killed is not None, "the run ended before a worker could be killed:\n" + log
    assert run.returncode == 0, log
    assert "restart 1" in log  # torchrun restarted the group, which resumed from last.pt
    a = load_checkpoint(tmp_path / "clean" / "last.pt", "ram")
    b = load_checkpoint(tmp_path / "killed" / "last.pt", "ram")
    assert b["state"]["epoch"] == a["state"]["epoch"] == 3
    assert b["state"]["global_step"] == a["state"]["global_step"] == 3 * 2048 // 64
    for name in a["model"]:
        torch.testing.assert_close(b["model"][name], a["model"][name], rtol=0, atol=0, msg=name)
