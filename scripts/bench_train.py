"""Training images per second: our REINFORCE trainer against the per-sample-loop design.

Usage::

    python scripts/bench_train.py                              # CPU, MNIST and translated 60x60
    python scripts/bench_train.py --device cuda --batch-sizes 128 1024 4096
    python scripts/bench_train.py --threads 1 --out benchmarks/train_1thread

"Ours" is one full training step of :mod:`agents.trainer` (rollout through the native vector
environment, hybrid loss, backward, Adam). "Per-sample design" is a small re-implementation, written
here, of how the public RAM code trains: the retina pads the batch and cuts every patch with a
Python loop over the batch, scale by scale, and pools the coarse ones (kevinzakka/recurrent-visual-
attention, ``modules.py``); same network sizes, same loss. Writes ``OUT.json`` and ``OUT.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from agents.reinforce import reinforce_loss, rollout
from agents.cli import check_device, run_main
from agents.tracking import cpu_name
from agents.trainer import TrainConfig, build_env, build_model
from glimpse_env.datasets import make_source

TASKS = {  # env id -> (canvas side, glimpse side, scales, glimpses)
    "GlimpseMNIST-v0": (28, 8, 1, 6),
    "GlimpseTranslatedMNIST-v0": (60, 12, 3, 6),
}


class PerSampleRAM(nn.Module):
    """The public design: a retina that loops over the batch, then the same four networks."""

    def __init__(self, glimpse_size: int, n_scales: int, hidden: int = 256, glimpse_hidden: int = 128):
        super().__init__()
        self.g, self.k = glimpse_size, n_scales
        self.what = nn.Linear(n_scales * glimpse_size**2, glimpse_hidden)
        self.where = nn.Linear(2, glimpse_hidden)
        self.what_to_g = nn.Linear(glimpse_hidden, hidden)
        self.where_to_g = nn.Linear(glimpse_hidden, hidden)
        self.i2h, self.h2h = nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)
        self.loc, self.baseline, self.classify = nn.Linear(hidden, 2), nn.Linear(hidden, 1), nn.Linear(hidden, 10)

    def patch(self, x, l, size):
        B, C, H, W = x.shape
        start = (0.5 * ((l + 1.0) * H)).long()
        x = F.pad(x, (size // 2, size // 2, size // 2, size // 2))
        return torch.stack([x[i, :, start[i, 1] : start[i, 1] + size, start[i, 0] : start[i, 0] + size] for i in range(B)])

    def retina(self, x, l):
        phi, size = [], self.g
        for i in range(self.k):
            p = self.patch(x, l, size)
            phi.append(F.avg_pool2d(p, size // self.g) if i else p)
            size *= 2
        return torch.cat(phi, 1).flatten(1)

    def forward(self, x, l, h):
        g = F.relu(self.what_to_g(F.relu(self.what(self.retina(x, l)))) + self.where_to_g(F.relu(self.where(l))))
        h = F.relu(self.i2h(g) + self.h2h(h))
        mu = torch.tanh(self.loc(h.detach()))
        l_next = (mu + 0.1 * torch.randn_like(mu)).clamp(-1, 1).detach()
        log_pi = torch.distributions.Normal(mu, 0.1).log_prob(l_next).sum(1)
        return h, l_next, self.baseline(h.detach()).squeeze(1), log_pi


def per_sample_step(model, optimizer, x, y, n_glimpses):
    B = x.shape[0]
    h, l = torch.zeros(B, 256, device=x.device), torch.zeros(B, 2, device=x.device)
    log_pi, baselines = [], []
    for t in range(n_glimpses):
        h, l_next, b, p = model(x, l, h)
        baselines.append(b)
        if t < n_glimpses - 1:
            log_pi.append(p)
        l = l_next
    logits = model.classify(h)
    R = (logits.argmax(1) == y).float()
    b = torch.stack(baselines, 1)
    loss = F.cross_entropy(logits, y) + F.mse_loss(b, R[:, None].expand_as(b))
    loss = loss - (torch.stack(log_pi, 1) * (R[:, None] - b[:, :-1].detach())).sum(1).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def time_steps(step, seconds: float, device) -> float:
    """Seconds per call of ``step`` (after two warm-up calls), over at least ``seconds``."""
    step(), step()
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    sync()
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds or n < 3:
        step()
        n += 1
    sync()
    return (time.perf_counter() - started) / n


def bench_ours(env_id, batch_size, device, seconds):
    config = TrainConfig(env=env_id, batch_size=batch_size, device=device)
    envs = build_env(config, "train", batch_size)
    model = build_model(config, envs.config.glimpse_shape, envs.config.n_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    envs.reset(seed=0)
    rng = np.random.default_rng(0)
    n = envs.config.source.n_images

    def step():
        episode = rollout(model, envs, rng.integers(0, n, batch_size))
        loss = reinforce_loss(episode)["total"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return batch_size / time_steps(step, seconds, device)


def bench_per_sample(env_id, batch_size, device, seconds):
    side, g, k, n_glimpses = TASKS[env_id]
    source = make_source("mnist" if side == 28 else "translated", "train", max_images=4096)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, source.n_images, batch_size)
    layouts = source.draw_layouts(rng, idx)
    x = torch.from_numpy(source.render(layouts)).float().div(255).to(device)
    y = torch.from_numpy(source.labels[idx]).to(device)
    model = PerSampleRAM(g, k).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    return batch_size / time_steps(lambda: per_sample_step(model, optimizer, x, y, n_glimpses), seconds, device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--envs", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[128, 1024])
    parser.add_argument("--reference-batch-sizes", type=int, nargs="+", default=[128], help="batch sizes for the per-sample design")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--seconds", type=float, default=5.0, help="minimum timing per measurement")
    parser.add_argument("--out", default="benchmarks/train")
    args = parser.parse_args()
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    check_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = []
    for env_id in args.envs:
        for b in args.reference_batch_sizes:
            rate = bench_per_sample(env_id, b, args.device, args.seconds)
            rows.append({"env": env_id, "trainer": "per-sample design", "batch_size": b, "images_per_s": round(rate)})
            print(f"{env_id:28s} per-sample design  batch {b:5d}: {rate:10,.0f} images/s", flush=True)
        for b in args.batch_sizes:
            rate = bench_ours(env_id, b, args.device, args.seconds)
            rows.append({"env": env_id, "trainer": "ours", "batch_size": b, "images_per_s": round(rate)})
            print(f"{env_id:28s} ours               batch {b:5d}: {rate:10,.0f} images/s", flush=True)
    device_name = torch.cuda.get_device_name() if args.device.startswith("cuda") else cpu_name()
    meta = {"device": args.device, "hardware": device_name, "torch_threads": torch.get_num_threads(),
            "load_average_at_start": os.getloadavg()[0], "torch": torch.__version__, "date": time.strftime("%Y-%m-%d")}  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    lines = [
        f"Training images per second ({device_name}, {meta['torch_threads']} torch thread(s), load average "
        f"{meta['load_average_at_start']:.1f} at start, {meta['date']}; `python scripts/bench_train.py"
        f"{'' if args.device == 'cpu' else ' --device ' + args.device}`).",
        "",
        "| task | trainer | batch | images/s | vs per-sample design at batch 128 |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        ref = next((x["images_per_s"] for x in rows if x["env"] == r["env"] and x["trainer"] != "ours" and x["batch_size"] == 128), None)
        ratio = f"{r['images_per_s'] / ref:.1f}x" if ref else ""
        lines.append(f"| {r['env']} | {r['trainer']} | {r['batch_size']:,} | {r['images_per_s']:,} | {ratio} |")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.md')}")


if __name__ == "__main__":
    run_main(main)
