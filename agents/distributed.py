"""Multi-process training with ``torchrun``: process-group setup and the few collectives we need.

``torchrun --nproc_per_node N scripts/train_ram.py ...`` starts N copies of the script with
``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` set; :func:`setup` joins them into one process group
(``nccl`` on CUDA, ``gloo`` on CPU) and picks each rank's device. Without those variables everything
here is a no-op for a single process, so the trainer has one code path.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

logger = logging.getLogger(__name__)

__all__ = ["Distributed", "setup"]


@dataclass(frozen=True)
class Distributed:
    """Where this process stands in the group (rank 0 of 1 when not distributed)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    restart: int = 0  # torchrun's elastic restart count: > 0 after a worker failed and the group restarted
    device: str = "cpu"  # where the backend's collectives take tensors: NCCL takes CUDA tensors only

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def sum(self, values: list[float | int]) -> list[float]:
        """Element-wise sum of ``values`` over all ranks."""
        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        if self.enabled:
            dist.all_reduce(tensor)
        return tensor.tolist()

    def any(self, flag: bool) -> bool:
        """True on every rank if ``flag`` is True on any (a stop decision all ranks must share)."""
        return self.sum([float(flag)])[0] > 0

    def gather(self, obj: Any) -> list[Any]:
        """``obj`` of every rank, in rank order, on every rank."""
        if not self.enabled:
            return [obj]
        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def close(self) -> None:
        if self.enabled and dist.is_initialized():
            dist.destroy_process_group()


def _restart_store(world_size: int, restart: int) -> dist.Store | None:
    """torchrun's shared TCP store, its keys prefixed by the restart count; None outside torchrun.

    torchrun (2.x, c10d rendezvous) keeps one store for all rounds of a job and does not prefix what
    the workers write there, so after an elastic restart the new group can read the addresses that
    the dead group's ranks published and fail with "Gloo connectFullMesh failed ... Connection
    refused" (seen in CI). Keys of attempt ``restart`` cannot collide with those of an earlier one.
    """
    if os.environ.get("TORCHELASTIC_USE_AGENT_STORE") != "True":
        return None
    store = dist.TCPStore(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), world_size, is_master=False)
    return dist.PrefixStore(f"glimpse_attention/attempt_{restart}", store)


def setup(device: str) -> tuple[Distributed, str]:
    """Join the ``torchrun`` process group if there is one; return it and this rank's device.

    ``device="cuda"`` becomes ``cuda:<LOCAL_RANK>``; the backend is ``nccl`` for CUDA, ``gloo`` otherwise.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    restart = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))
    if world_size <= 1:
        return Distributed(restart=restart), device
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device.startswith("cuda"):
        device = f"cuda:{local_rank}"
        torch.cuda.set_device(device)
    backend = "nccl" if device.startswith("cuda") else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, store=_restart_store(world_size, restart), rank=rank, world_size=world_size)
    logger.info("rank %d of %d on %s (%s backend, restart %d)", rank, world_size, device, backend, restart)
    return Distributed(rank, world_size, local_rank, restart, device if backend == "nccl" else "cpu"), device
