"""Glimpses per second: the native GlimpseVectorEnv against SyncVectorEnv of single GlimpseEnvs.

Usage::

    python scripts/bench_env.py                                   # 60x60 cluttered, 1/16/256/1024 envs
    python scripts/bench_env.py --env GlimpseMNIST-v0 --num-envs 1 256 --threads 1
    python scripts/bench_env.py --device cuda --num-envs 256 2048 --out benchmarks/env_cuda

Both sides take the same random (valid) actions, step through whole episodes with autoreset, and
count one glimpse per sub-environment per step. ``--device`` keeps the native environment's
tables, glimpses and actions on that device (SyncVectorEnv, NumPy only, stays on the CPU). Writes ``benchmarks/env.json`` and
``benchmarks/env.md`` (with the CPU, the thread count and the load average when it ran).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

import glimpse_env  # registers the ids
from agents.cli import check_device, run_main
from agents.tracking import cpu_name


def glimpses_per_second(envs, num_envs: int, min_seconds: float, n_classes: int = 10, device: str | None = None) -> float:
    rng = np.random.default_rng(0)
    actions = [
        {"location": rng.uniform(-1, 1, (num_envs, 2)).astype(np.float32), "label": rng.integers(0, n_classes, num_envs)}
        for _ in range(16)
    ]
    if device is not None:  # an agent on the device hands the environment tensors that are already there
        actions = [{key: torch.as_tensor(value, device=device) for key, value in a.items()} for a in actions]
    sync = torch.cuda.synchronize if device is not None and device.startswith("cuda") else (lambda: None)
    envs.reset(seed=0)
    for a in actions[:4]:  # warm-up
        envs.step(a)
    sync()
    steps, started = 0, time.perf_counter()
    while time.perf_counter() - started < min_seconds or steps < 8:
        envs.step(actions[steps % len(actions)])
        steps += 1
    sync()
    return steps * num_envs / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--env", default="GlimpseClutteredMNIST-v0", help="registered environment id")
    parser.add_argument("--num-envs", type=int, nargs="+", default=[1, 16, 256, 1024], help="vector sizes to time")
    parser.add_argument("--seconds", type=float, default=3.0, help="minimum timing per measurement")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--data-dir", default=None, help="data directory holding mnist/")
    parser.add_argument("--device", default=None, help="torch device of the native environment (default: NumPy on the CPU)")
    parser.add_argument("--out", default="benchmarks/env", help="writes OUT.json and OUT.md")
    args = parser.parse_args()
    try:
        glimpse_env.check_env_id(args.env)
    except ValueError as e:
        parser.error(str(e))
    if min(args.num_envs) < 1 or args.seconds <= 0 or (args.threads is not None and args.threads < 1):
        parser.error("--num-envs, --seconds and --threads must be positive")
    if args.device is not None:
        check_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    kwargs = {"data_dir": args.data_dir} if args.data_dir else {}
    rows = []
    for n in args.num_envs:
        native = gym.make_vec(args.env, num_envs=n, vectorization_mode="vector_entry_point", device=args.device, **kwargs)
        sync = gym.make_vec(args.env, num_envs=n, vectorization_mode="sync", **kwargs)
        native_rate = glimpses_per_second(native, n, args.seconds, device=args.device)
        sync_rate = glimpses_per_second(sync, n, args.seconds)
        rows.append({"num_envs": n, "native_glimpses_per_s": round(native_rate), "sync_glimpses_per_s": round(sync_rate),
                     "speedup": round(native_rate / sync_rate, 1)})  # fmt: skip
        print(f"{n:5d} envs: native {native_rate:12,.0f}/s   SyncVectorEnv {sync_rate:10,.0f}/s   x{native_rate / sync_rate:.1f}", flush=True)
        native.close(), sync.close()
    meta = {
        "env": args.env, "device": args.device or "cpu (NumPy)",
        "gpu": torch.cuda.get_device_name() if (args.device or "").startswith("cuda") else None, "cpu": cpu_name(), "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "load_average_at_start": os.getloadavg()[0], "torch": torch.__version__, "gymnasium": gym.__version__,
        "date": time.strftime("%Y-%m-%d"),
    }  # fmt: skip
    on = f"GlimpseVectorEnv on {meta['gpu'] or args.device}, " if args.device else ""
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    lines = [
        f"Glimpses per second on `{args.env}` ({on}{meta['cpu']}, {meta['torch_threads']} torch thread(s), "
        f"load average {meta['load_average_at_start']:.1f} at start, {meta['date']}; `python scripts/bench_env.py"
        f"{' --device ' + args.device if args.device else ''}`).",
        "",
        f"| envs | GlimpseVectorEnv{' on ' + args.device if args.device else ''} | SyncVectorEnv of GlimpseEnv (CPU) | speed-up |",
        "|---:|---:|---:|---:|",
        *(f"| {r['num_envs']} | {r['native_glimpses_per_s']:,} | {r['sync_glimpses_per_s']:,} | {r['speedup']}x |" for r in rows),
    ]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.md')}")


if __name__ == "__main__":
    run_main(main)
